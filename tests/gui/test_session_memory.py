"""A reading session's memory: what a study left behind once the reader has stepped on."""

from __future__ import annotations

import gc
from pathlib import Path

from mammoview.gui.display_image import DisplayImage
from mammoview.gui.hanging_layout import Layout
from mammoview.io.model import MammoImage, View
from tests.gui import cad_support, test_cad_worker
from tests.gui.conftest import SYNTHETIC_VIEWS, write_view
from tests.gui.test_priors import compare, exams


def others(folder: Path, n: int) -> Path:
    for k in range(n):
        for view in SYNTHETIC_VIEWS:
            write_view(folder / f"other{k}", f"{view}.dcm", view, study_uid=f"7.7.{k}", patient_id=f"OTHER-{k}",
                       study_date="20240101")  # fmt: skip
    return folder


def live(kind: type, folder: Path) -> int:
    gc.collect()
    images = (o if kind is MammoImage else o.image for o in gc.get_objects() if type(o) is kind)
    return sum(folder in img.path.parents for img in images)


def step(w, qtbot) -> None:  # type: ignore[no-untyped-def]
    qtbot.waitUntil(lambda: w.prefetched is not None or not w.prefetch.busy, timeout=20_000)
    with qtbot.waitSignal(w.studyShown, timeout=20_000):
        w.commands["next_study"].trigger()
    qtbot.wait(20)


def test_a_comparison_left_for_the_four_views_does_not_keep_the_prior_decoded(main_window, load, qtbot, tmp_path):
    w = main_window
    folder = exams(tmp_path / "wl", ("a-2024", "b-2022"))
    others(folder, 3)
    load(w, [folder])
    assert w.panels[View.RCC].image.info.meta.study_date == "20240601"
    compare(w, qtbot, Layout.PRIOR_CC)
    w.commands["reset_view"].trigger()  # Home: back to the four views
    prior = folder / "b-2022"
    for _ in range(3):  # other women's studies (the worklist lists the prior last: never the next study here)
        step(w, qtbot)
        if w.loaded.study.key == "1.2.3.22":
            step(w, qtbot)
    assert w.loaded.study.key.startswith("7.7.")
    assert live(DisplayImage, prior) == 0 and live(MammoImage, prior) == 0, (
        f"{live(MammoImage, prior)} images of the last comparison's prior still decoded in memory"
    )


# -- the CAD job of a study read earlier ------------------------------------------------------------------------------
cad_models, cad_window = cad_support.cad_models, cad_support.cad_window
held_cad = test_cad_worker.held_cad


def test_a_cad_run_does_not_keep_its_study_decoded_after_the_reader_stepped_on(cad_window, load, qtbot, tmp_path):
    w = cad_window
    folder = others(tmp_path / "wl", 4)
    load(w, [folder])
    first = folder / "other0"
    with qtbot.waitSignal(w.cad.runner.resultReady, timeout=60_000):
        w.cad.run()
    for _ in range(3):  # three more women's studies read without CAD
        step(w, qtbot)
    assert live(MammoImage, first) == 0, (
        f"{live(MammoImage, first)} images of the study whose CAD ran are still decoded (the last CAD job keeps them)"
    )


def test_a_cancelled_cad_run_frees_its_study_once_another_is_open(cad_window, load, qtbot, tmp_path, held_cad):
    w = cad_window
    folder = others(tmp_path / "wl", 4)
    load(w, [folder])
    first = folder / "other0"
    job = test_cad_worker.running_job(w, tmp_path, qtbot)
    with qtbot.waitSignal(job.cancelled, timeout=10_000):
        w.cad.cancel()
    for _ in range(3):
        step(w, qtbot)
    assert live(MammoImage, first) == 0, f"{live(MammoImage, first)} images of the cancelled CAD job's study are alive"
