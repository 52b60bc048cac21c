"""Reading session memory: stepping through a worklist keeps only the study on screen and the next one decoded,
and a stale load (the reader stepped on) stops decoding instead of finishing a study nobody will see."""

from __future__ import annotations

import gc
from pathlib import Path

import pytest

from mammoview.gui.background_jobs import JobCancelled
from mammoview.gui.display_image import DisplayImage
from mammoview.gui.loader import load_job
from mammoview.io import open_paths
from mammoview.io.model import MammoImage
from tests.gui.conftest import SYNTHETIC_VIEWS, write_view

STUDIES = 8


def worklist(folder: Path, n: int = STUDIES) -> Path:
    for k in range(n):
        for view in SYNTHETIC_VIEWS:
            write_view(folder / f"s{k}", f"{view}.dcm", view, study_uid=f"1.2.826.0.1.99.{k + 1}",
                       patient_id=f"MEM-{k}", patient_name=f"Mem^{k}")  # fmt: skip
    return folder


def live(kind: type, folder: Path) -> int:
    """Live ``kind`` objects (MammoImage, DisplayImage) of the files under ``folder`` (other tests' may linger)."""
    gc.collect()
    images = (o if kind is MammoImage else o.image for o in gc.get_objects() if type(o) is kind)
    return sum(folder in img.path.parents for img in images)


def test_stepping_through_a_worklist_keeps_two_studies_alive(main_window, load, qtbot, tmp_path):
    w = main_window
    folder = worklist(tmp_path / "wl")
    load(w, [folder])
    counts = []
    for _ in range(STUDIES - 1):
        qtbot.waitUntil(lambda: w.prefetched is not None, timeout=20_000)  # the reader reads; the next one decodes
        with qtbot.waitSignal(w.studyShown, timeout=20_000):
            w.commands["next_study"].trigger()
        qtbot.wait(20)
        counts.append((live(MammoImage, folder), live(DisplayImage, folder)))
    # the study on screen (4 views) and, until the last, the next one prefetched (4): never the ones read before
    assert all(m <= 8 and d <= 8 for m, d in counts), counts


def test_a_stale_load_stops_decoding(synthetic_study, monkeypatch):
    import mammoview.io.study as study_module

    (info,), _ = open_paths([synthetic_study])
    decoded: list[Path] = []
    real = study_module.decode

    def counting(image_info):  # type: ignore[no-untyped-def]
        decoded.append(image_info.path)
        return real(image_info)

    monkeypatch.setattr(study_module, "decode", counting)
    job = load_job(info, max_workers=1)  # the prefetch's one decode thread
    with pytest.raises(JobCancelled):  # PgDown went elsewhere while the first view decoded
        job(lambda _msg: None, lambda: len(decoded) >= 1)
    assert len(decoded) == 1, f"{len(decoded)} of {len(info.images)} views decoded for a job already stale"
