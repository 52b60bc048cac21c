"""The CAD worker: signal order, cancel within 200 ms, errors, missing/broken models, stale jobs, cache.

The models are TEST-ONLY (tests/gui/cad_support.py): random tiny networks in tmp_path.
"""

from __future__ import annotations

import copy
import dataclasses
import itertools
import threading
import time
from pathlib import Path

import pytest
from PySide6 import QtCore

from mammoview.gui.cad_findings import NOT_RUN, RUNNING
from mammoview.gui.cad_worker import CadJob, CadUnavailable, ModelChoice, ModelProvider
from mammoview.io import load_study, open_paths
from mammoview.io.model import View
from tests.gui import cad_support
from tests.gui.cad_support import save_tiny_model
from tests.gui.conftest import SYNTHETIC_VIEWS, write_view

#: The shared CAD fixtures (tests/gui/cad_support.py), bound here so pytest finds them.
cad_models, cad_window = cad_support.cad_models, cad_support.cad_window

#: A model at 0.1 mm/px with 16-px tiles: ~1700 tiles, many seconds in total, a few ms each.
SLOW = {"pixel_size_mm": 0.1, "patch_size": 32}
SLOW_TILE = 16


@pytest.fixture()
def images(synthetic_study):  # type: ignore[no-untyped-def]
    studies, errors = open_paths([synthetic_study])
    assert not errors
    return load_study(studies[0]).images


@pytest.fixture()
def slow_provider(tmp_path) -> ModelProvider:  # type: ignore[no-untyped-def]
    return ModelProvider(ModelChoice(models_dir=save_tiny_model(tmp_path / "slow", **SLOW), device="cpu"))


def slow_loader(tmp_path: Path):  # type: ignore[no-untyped-def]
    """A loader of the slow test model (called in the worker thread)."""
    return ModelProvider(ModelChoice(models_dir=save_tiny_model(tmp_path / "slow", **SLOW), device="cpu")).get


@pytest.fixture()
def held_cad(monkeypatch: pytest.MonkeyPatch) -> threading.Event:
    """Hold every CAD job after its first few cancel checks until the returned event is set.

    A job then stays running however fast the machine is (no timing assumptions); cancelling still
    ends it at once, because the hold polls the job's cancel flag.
    """
    from mammoview.cad import inference, pipeline

    release = threading.Event()
    original = inference.check_cancel
    calls = itertools.count()

    def held(cancel):  # type: ignore[no-untyped-def]
        if next(calls) >= 3:
            while not release.wait(0.005):
                original(cancel)
        original(cancel)

    monkeypatch.setattr(inference, "check_cancel", held)
    monkeypatch.setattr(pipeline, "check_cancel", held)
    yield release
    release.set()


def record(job: CadJob) -> list[str]:
    seen: list[str] = []
    for name in ("started", "modelReady", "progress", "finished", "cancelled", "errored"):
        getattr(job, name).connect(lambda *_a, n=name: seen.append(n))
    return seen


def test_signals_come_in_order_started_model_progress_finished(qtbot, cad_models, images):
    job = CadJob(ModelProvider(ModelChoice(device="cpu")), images, "study")
    seen = record(job)
    results: list[object] = []
    job.finished.connect(results.append)
    with qtbot.waitSignals([job.started, job.modelReady, job.finished], order="strict", timeout=60_000):
        job.start()
    result = results[0]
    assert {r.view for r in result.images} == set(View)
    qtbot.waitUntil(lambda: not job.running)
    # Throttled progress in between: started, modelReady, progress..., finished, nothing after.
    assert seen[:2] == ["started", "modelReady"] and seen[-1] == "finished"
    assert set(seen[2:-1]) == {"progress"} and len(seen) > 3


def test_the_installed_verifier_of_the_model_runs_with_it_and_is_named(qtbot, cad_models, images):
    from mammoview.gui.cad_dock import model_text

    cad_support.save_tiny_verifier(cad_models, threshold=0.3)
    job = CadJob(ModelProvider(ModelChoice(device="cpu")), images, "study")
    results: list[object] = []
    job.finished.connect(results.append)
    with qtbot.waitSignals([job.started, job.modelReady, job.finished], order="strict", timeout=60_000):
        job.start()
    qtbot.waitUntil(lambda: not job.running)
    result = results[0]
    assert result.model.verifier is not None and result.model.verifier.name == "test-verifier"
    assert result.model.finding_threshold == 0.3  # the two stages' operating point
    for r in result.images:
        assert r.source.verified is not None and all(f.score >= 0.3 for f in r.findings)
    assert "verified by test-verifier 0.0.1-test" in model_text(result.model, None)


def test_cancel_takes_effect_within_200_ms(qtbot, slow_provider, images, monkeypatch):
    """From the cancel flag being set to the worker stopping (measured in the worker thread).

    Timed where the work stops, not where the GUI thread later receives the signal, so a busy
    machine delaying signal delivery does not change what is measured.
    """
    from mammoview.cad import inference, pipeline
    from mammoview.cad.inference import Cancelled

    original = inference.check_cancel
    stopped: list[float] = []

    def watched(cancel):  # type: ignore[no-untyped-def]
        try:
            original(cancel)
        except Cancelled:
            stopped.append(time.perf_counter())
            raise

    monkeypatch.setattr(inference, "check_cancel", watched)
    monkeypatch.setattr(pipeline, "check_cancel", watched)
    job = CadJob(slow_provider, images, "study", tile=SLOW_TILE)
    progress: list[tuple[int, int]] = []
    job.progress.connect(lambda d, t, _m: progress.append((d, t)))
    job.start()
    qtbot.waitUntil(lambda: len(progress) >= 3, timeout=60_000)  # well into the tiles
    with qtbot.waitSignal(job.cancelled, timeout=10_000):
        t0 = time.perf_counter()
        job.cancel()
    elapsed = stopped[0] - t0
    assert elapsed < 0.2, f"cancel took {elapsed * 1000:.0f} ms to stop the worker"
    done, total = progress[-1]
    assert done / total < 0.5, "the job was nearly over: the test would not show a prompt cancel"


def slow_cad(window, tmp_path, qtbot) -> None:  # type: ignore[no-untyped-def]
    """The window's CAD on a slow model and small tiles (with ``held_cad``, a job stays running until released)."""
    window.cad.use_model_loader(slow_loader(tmp_path))
    window.cad.runner.tile = SLOW_TILE
    qtbot.waitUntil(lambda: window.cad.model_info is not None, timeout=30_000)


def running_job(window, tmp_path, qtbot):  # type: ignore[no-untyped-def]
    """A held CAD job of the window's study, running inside its tiles."""
    slow_cad(window, tmp_path, qtbot)
    window.cad.run()
    qtbot.waitUntil(lambda: window.cad.runner.progress.isVisible(), timeout=30_000)
    return window.cad.job


def test_viewer_stays_responsive_while_cad_runs(cad_window, load, synthetic_study, qtbot, tmp_path, held_cad):
    window = cad_window
    load(window, [synthetic_study])
    slow_cad(window, tmp_path, qtbot)
    ticks: list[float] = []
    timer = QtCore.QTimer()
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    timer.start(10)
    window.commands["cad_run"].trigger()
    assert window.cad.job is not None and window.cad.job.running
    qtbot.wait(600)
    window.commands["preset_dense"].trigger()  # W/L while CAD runs
    window.panels[View.RCC].view_box.scaleBy((0.8, 0.8))  # zoom while CAD runs
    qtbot.wait(300)
    assert window.cad.job.running, "the held job should still be running"
    assert window.cad.runner.progress.isVisible()
    timer.stop()
    # The event loop kept running while the held job ran (a CAD pass on the GUI thread would
    # leave no ticks at all); the stall itself is a benchmark figure (benchmarks/bench_cad.py).
    assert len(ticks) > 10, f"only {len(ticks)} timer ticks in 0.9 s: the GUI thread was blocked"
    with qtbot.waitSignal(window.cad.job.cancelled, timeout=5_000):
        window.cad.runner.progress.cancel_button.click()
    assert "cancel" in window.statusBar().currentMessage().lower()


def test_the_panels_say_the_cad_runs_while_it_does(cad_window, load, synthetic_study, qtbot, tmp_path, held_cad):
    window = cad_window
    load(window, [synthetic_study])
    window.commands["cad_first_read_done"].trigger()
    cad = window.cad
    with qtbot.waitSignal(cad.runner.runningChanged, timeout=5_000):  # the automatic run after the first read ...
        cad.cancel()  # ... stopped: the test starts its own, held one
    qtbot.waitUntil(lambda: cad.job is None or not cad.job.running, timeout=10_000)
    assert cad.findings.note.text() == NOT_RUN and "has not run yet" in cad.dock.state_label.text()
    job = running_job(window, tmp_path, qtbot)
    assert cad.findings.note.text() == RUNNING and cad.dock.state_label.text() == "First read done: CAD running…"
    with qtbot.waitSignal(job.cancelled, timeout=5_000):
        cad.cancel()
    qtbot.waitUntil(lambda: cad.findings.note.text() == NOT_RUN, timeout=10_000)
    held_cad.set()
    cad.runner.tile = None  # a whole run of the slow model on 16 px tiles took over a minute on a busy machine
    with qtbot.waitSignal(cad.runner.resultReady, timeout=60_000):
        cad.run()
    assert cad.findings.note.text().endswith(f"· {cad.result.model.label}")
    assert cad.dock.state_label.text().startswith("First read done: CAD shown.")


def test_opening_another_study_cancels_the_stale_job(cad_window, load, synthetic_study, qtbot, tmp_path, held_cad):
    window = cad_window
    other = tmp_path / "other"
    for view in SYNTHETIC_VIEWS:
        write_view(other, f"{view}.dcm", view, study_uid="1.2.826.0.1.3680043.8.498.2002")
    load(window, [synthetic_study])
    stale = running_job(window, tmp_path, qtbot)
    qtbot.wait(200)  # the job is now held inside the tiles
    assert stale.running
    with qtbot.waitSignal(stale.cancelled, timeout=10_000):
        load(window, [other])
    assert stale.cancel_event.is_set()
    assert window.cad.study_key.endswith("2002") and window.cad.result is None


def test_the_same_study_opened_from_another_folder_cancels_the_job_of_the_first_folders_files(
    cad_window, load, synthetic_study, qtbot, tmp_path, held_cad
):  # fmt: skip
    """The demo and the full-resolution CBIS-DDSM study share one study key: a job on the one's files was not
    stale for the other, and its result (matched by path: scores without any of its marks) went up on it."""
    import shutil

    window = cad_window
    load(window, [synthetic_study])
    window.commands["cad_first_read_done"].trigger()  # CAD shown: it runs again for the study opened next
    window.cad.cancel()
    stale = running_job(window, tmp_path, qtbot)
    copy = shutil.copytree(synthetic_study, tmp_path / "export-2" / "study")  # the same study in another folder
    with qtbot.waitSignal(stale.cancelled, timeout=10_000):
        load(window, [copy])
    held_cad.set()
    window.cad.runner.tile = None
    qtbot.waitUntil(lambda: window.cad.result is not None, timeout=120_000)
    shown = {str(p.image.path) for p in window.panels.values() if p.image is not None}
    assert shown <= {r.path for r in window.cad.result.images}  # the result of the files on screen


def test_a_job_running_when_the_model_is_reloaded_does_not_put_the_old_models_result_up(
    cad_window, load, synthetic_study, qtbot, tmp_path, held_cad
):  # fmt: skip
    """CAD ▸ Reload model while the CAD runs: the result of the models as they were went up after the reload (and
    into the cache), under the reloaded model's name in the CAD dock."""
    window = cad_window
    load(window, [synthetic_study])
    window.commands["cad_first_read_done"].trigger()  # the run starts (held)
    job, old = window.cad.job, window.cad.model_info.sha256
    qtbot.wait(200)
    assert job.running
    replaced = ModelProvider(ModelChoice(models_dir=save_tiny_model(tmp_path / "replaced", seed=5), device="cpu"))
    window.cad.use_model_loader(replaced.get)  # as Reload model after another model was installed
    qtbot.waitUntil(lambda: window.cad.model_info is not None and window.cad.model_info.sha256 != old, timeout=30_000)
    held_cad.set()
    qtbot.waitUntil(lambda: not job.running, timeout=30_000)
    qtbot.wait(100)
    assert window.cad.result is None or window.cad.result.model.sha256 == window.cad.model_info.sha256
    assert all(sha != old for _key, sha in window.cad.runner.cache)


def test_run_right_after_cancel_starts_a_new_job(cad_window, load, synthetic_study, qtbot, tmp_path, held_cad):
    window = cad_window
    load(window, [synthetic_study])
    window.cad.run()  # the test model at its own tiles (the slow one took 27 s to finish the new job, over 60 s
    qtbot.waitUntil(lambda: window.cad.runner.progress.isVisible(), timeout=30_000)  # beside other work): held
    first = window.cad.job
    window.commands["cad_cancel"].trigger()
    window.commands["cad_run"].trigger()  # at once, while the cancelled job winds down
    assert window.cad.job is not first and window.cad.job.running
    assert window.statusBar().currentMessage() != "CAD is already running."
    assert window.cad.runner.progress.cancel_button.isEnabled()
    held_cad.set()
    with qtbot.waitSignal(window.cad.runner.resultReady, timeout=60_000):
        pass
    assert not first.running


def test_results_are_cached_per_study_and_model(cad_window, load, synthetic_study, qtbot):
    window = cad_window
    load(window, [synthetic_study])
    with qtbot.waitSignal(window.cad.runner.resultReady, timeout=60_000):
        window.cad.run()
    first, job = window.cad.result, window.cad.job
    window.cad.run()  # cached: no new job
    assert window.cad.job is job and window.cad.result is first
    load(window, [synthetic_study])  # reopened within the session
    assert window.cad.result is first
    assert (window.cad.study_key, first.model.sha256) in window.cad.runner.cache


def test_a_cached_result_of_files_rewritten_since_is_not_shown_again(cad_window, load, synthetic_study, qtbot):
    """A study reopened in the session after one of its files was rewritten (an export run again) got the CAD
    result of the old pixels back from the cache: its marks, over the new image."""
    import os

    window = cad_window
    load(window, [synthetic_study])
    with qtbot.waitSignal(window.cad.runner.resultReady, timeout=60_000):
        window.cad.run()
    first = window.cad.result
    assert first is not None
    changed = Path(first.images[0].path)
    st = changed.stat()
    os.utime(changed, ns=(st.st_atime_ns, st.st_mtime_ns + 5_000_000_000))  # rewritten: a newer modification time
    load(window, [synthetic_study])  # reopened within the session
    assert window.cad.result is None, "the old pixels' CAD result was shown over the rewritten file"


def test_a_model_that_raises_reaches_the_reader_and_viewing_goes_on(cad_window, load, synthetic_study, qtbot,
                                                                    monkeypatch, caplog):  # fmt: skip
    from mammoview.gui import dialogs

    window = cad_window
    boxes: list[tuple[str, str]] = []
    monkeypatch.setattr(dialogs, "message_box", lambda _p, _i, title, text, details="": boxes.append((title, text)))
    good = window.cad.runner.provider.get()

    def broken():  # type: ignore[no-untyped-def]
        """A copy of the test model whose network raises (the shared one stays intact)."""

        def boom(x):  # type: ignore[no-untyped-def]
            raise RuntimeError("GPU fell off the bus")

        bad = dataclasses.replace(good, fused=copy.deepcopy(good.inference_net))
        bad.fused.forward_features = boom
        return bad

    load(window, [synthetic_study])
    window.cad.use_model_loader(broken)
    qtbot.waitUntil(lambda: window.cad.model_info is not None, timeout=30_000)
    window.cad.run()
    qtbot.waitUntil(lambda: bool(boxes), timeout=30_000)
    assert boxes[0][0] == "CAD failed" and "GPU fell off the bus" in boxes[0][1]
    assert "CAD failed" in caplog.text and "GPU fell off the bus" in caplog.text
    assert window.cad.result is None
    # The viewer keeps working.
    window.commands["preset_dense"].trigger()
    assert window.panels[View.RCC].window_state.name.lower().startswith("dense")


def test_no_model_disables_cad_and_says_why(main_window, load, synthetic_study, qtbot, monkeypatch, tmp_path):
    window = main_window
    (tmp_path / "empty").mkdir()
    monkeypatch.setenv("MAMMOVIEW_MODELS", str(tmp_path / "empty"))
    window.cad.reload_model()
    qtbot.waitUntil(lambda: window.cad.unavailable is not None, timeout=30_000)
    run = window.commands["cad_run"]
    assert not run.isEnabled() and "no models installed" in run.toolTip()
    assert "CAD unavailable" in window.statusBar().currentMessage()
    assert "unavailable" in window.cad.dock.model_label.text()
    load(window, [synthetic_study])  # viewing is unaffected
    assert all(p.display is not None for p in window.panels.values())
    window.cad.run()  # a shortcut press on a disabled action does nothing; the slot says why
    assert "CAD unavailable" in window.statusBar().currentMessage()


def test_broken_weights_file_is_named(main_window, qtbot, monkeypatch, tmp_path):
    folder = save_tiny_model(tmp_path / "models")
    weights = next(folder.glob("*.safetensors"))
    weights.write_bytes(weights.read_bytes()[:100])  # truncated
    monkeypatch.setenv("MAMMOVIEW_MODELS", str(folder))
    main_window.cad.reload_model()
    qtbot.waitUntil(lambda: main_window.cad.unavailable is not None, timeout=30_000)
    tip = main_window.commands["cad_run"].toolTip()
    assert weights.name in tip and "SHA-256 mismatch" in tip


def test_provider_remembers_unavailable_until_reset(tmp_path: Path):
    provider = ModelProvider(ModelChoice(models_dir=tmp_path / "none"))
    with pytest.raises(CadUnavailable, match="no such models folder"):
        provider.get()
    save_tiny_model(tmp_path / "none")
    with pytest.raises(CadUnavailable):
        provider.get()  # remembered: every run fails fast with the same reason
    provider.reset()
    assert provider.get().info.name == "test-tiny"


def test_a_view_no_mammogram_could_be_is_shown_skipped_by_the_cad_and_named(cad_window, load, tmp_path, qtbot,
                                                                           monkeypatch):  # fmt: skip
    """A 1 x 5000 px PNG (an estimated 230 mm per pixel: 1.15 km wide) displays, named as too small to read; the
    CAD analyses the other three views and names the one it refused, in a dialog and in its dock."""
    import numpy as np
    from PIL import Image

    from mammoview.gui import dialogs
    from tests.synthetic import synthetic_breast

    folder = tmp_path / "pngs"
    folder.mkdir()
    for i, name in enumerate(("p_R_CC", "p_L_CC", "p_R_MLO")):
        Image.fromarray(synthetic_breast(rows=600, cols=400, seed=i)).save(folder / f"{name}.png")
    Image.fromarray(np.linspace(0, 65535, 5000).astype(np.uint16)[None, :]).save(folder / "p_L_MLO.png")
    boxes: list[tuple[str, str]] = []
    monkeypatch.setattr(dialogs, "message_box", lambda _p, _i, title, text, details="": boxes.append((title, text)))
    window = cad_window
    load(window, [folder])
    assert all(p.image is not None for p in window.panels.values())
    assert [text.split(":")[:3] for _, text in boxes] == [
        ["p_L_MLO.png", " 5000 x 1 pixels", " a strip only 1 px across, not a mammogram to read from"]
    ]  # said at once
    assert window.panels[View.RCC].labels.study.text() == "Folder pngs"  # grouped by folder: its name, not its path
    boxes.clear()
    window.cad.run()
    qtbot.waitUntil(lambda: bool(boxes), timeout=30_000)
    assert boxes[-1][0] == "CAD skipped a view" and "L MLO (p_L_MLO.png): at 230 x 230 mm per pixel" in boxes[-1][1]
    result = window.cad.result
    assert result is not None and sorted(r.view.label for r in result.images) == ["L CC", "R CC", "R MLO"]
    window.commands["cad_first_read_done"].trigger()
    assert "Not analysed by the CAD: L MLO (p_L_MLO.png)." in window.cad.dock.state_label.text()
    assert window.cad.findings.note.text().endswith(" · L MLO not analysed")
    assert boxes[-1][1].endswith("give its pixel spacing (--pixel-spacing, or Image ▸ Pixel spacing in the viewer)")
    from mammoview.gui.export_findings import export_json

    skipped = export_json(window, anonymize=True)["cad_skipped"]
    assert [s["view"] for s in skipped] == ["L MLO"] and "230 x 1150000 mm" in skipped[0]["reason"]
    assert export_json(window, anonymize=False)["cad_skipped"][0]["view"] == "L MLO (p_L_MLO.png)"
    window.commands["preset_dense"].trigger()  # the viewer keeps working
    assert window.panels[View.RCC].window_state.name.lower().startswith("dense")


def test_close_ups_and_implants_are_named_on_the_panel_and_by_the_cad(cad_window, load, tmp_path, qtbot,
                                                                      monkeypatch):  # fmt: skip
    """An implant view's panel title and the CAD dock say so; a spot compression view of L CC (and a tomosynthesis
    volume of R MLO) hangs behind the whole-breast one, says what it is when shown, and the CAD refuses it when it
    is the one shown."""
    import pydicom

    from mammoview.gui import dialogs
    from mammoview.gui.export_findings import export_json
    from tests.synthetic import code_item

    folder = tmp_path / "workup"
    for view in SYNTHETIC_VIEWS:
        write_view(folder, f"{view}.dcm", view)
    rcc = pydicom.dcmread(folder / "RCC.dcm")
    rcc.BreastImplantPresent = "YES"
    rcc.save_as(folder / "RCC.dcm")
    spot = pydicom.dcmread(write_view(folder, "LCC_spot.dcm", "LCC"))
    spot.ViewModifierCodeSequence = [code_item("SCT", "399055006", "Spot Compression")]
    spot.InstanceNumber = 0  # numbered first, still hung second
    spot.save_as(folder / "LCC_spot.dcm")
    tomo = pydicom.dcmread(write_view(folder, "RMLO_tomo.dcm", "RMLO"))
    tomo.NumberOfFrames, tomo.PixelData, tomo.InstanceNumber = 3, tomo.PixelData * 3, 0
    tomo.save_as(folder / "RMLO_tomo.dcm")
    boxes: list[tuple[str, str]] = []
    monkeypatch.setattr(dialogs, "message_box", lambda _p, _i, title, text, details="": boxes.append((title, text)))
    window = cad_window
    load(window, [folder])
    titles = {v: p.labels.title.text() for v, p in window.panels.items()}
    assert window.panels[View.LCC].image.path.name == "LCC.dcm" and "(1 of 2)" in titles[View.LCC]
    assert titles[View.RCC].endswith("<small>implant</small>") and "implant" not in titles[View.RMLO]
    assert any("diagnostic close-up: spot compression view" in t for b in boxes for t in b)  # the open's problems
    assert not any("implant" in t for b in boxes for t in b)  # an implant is no problem of the file
    window.cad.run()
    qtbot.waitUntil(lambda: window.cad.result is not None, timeout=30_000)
    window.commands["cad_first_read_done"].trigger()
    state = window.cad.dock.state_label.text()
    assert "Breast implant in R CC (the file says so): the CAD was not validated on images with implants" in state
    implants = {e["path"]: e["breast_implant"] for e in export_json(window, anonymize=True)["images"]}
    assert implants == {"RCC": True, "LCC": False, "RMLO": False, "LMLO": False}
    window.show_choice(View.RMLO, 1)
    assert window.panels[View.RMLO].labels.title.text().endswith("<small>(2 of 2) · frame 1 of 3</small>")
    window.show_choice(View.RMLO, 0)
    window.show_choice(View.LCC, 1)
    assert window.panels[View.LCC].labels.title.text().endswith("<small>(2 of 2) · spot compression</small>")
    n = len(boxes)
    window.cad.run()
    qtbot.waitUntil(lambda: len(boxes) > n, timeout=30_000)
    assert boxes[-1][0] == "CAD skipped a view" and "a diagnostic close-up, spot compression view" in boxes[-1][1]


def test_a_pixel_spacing_given_in_the_viewer_applies_to_files_without_one(cad_window, load, tmp_path, qtbot,
                                                                          monkeypatch):  # fmt: skip
    """JPEG/PNG studies carry no spacing: Image ▸ Pixel spacing… gives one (ROW,COL for stretched films), the study
    is shown again with it in its true proportions, and CAD results of the guessed spacing are dropped."""
    from PIL import Image

    from mammoview.gui import dialogs
    from tests.synthetic import synthetic_breast

    folder = tmp_path / "pngs"
    folder.mkdir()
    for i, name in enumerate(("p_R_CC", "p_L_CC", "p_R_MLO", "p_L_MLO")):
        Image.fromarray(synthetic_breast(rows=600, cols=400, seed=i)).save(folder / f"{name}.png")
    answers = iter(["0.29,0.177", "wide", ""])
    monkeypatch.setattr(dialogs, "ask_text", lambda *_a, **_k: next(answers))
    boxes: list[tuple[str, str]] = []
    monkeypatch.setattr(dialogs, "message_box", lambda _p, _i, title, text, details="": boxes.append((title, text)))
    w = cad_window
    load(w, [folder])
    lcc = w.panels[View.LCC]
    assert lcc.image.info.spacing is None and lcc.aspect == 1.0
    w.cad.run()
    qtbot.waitUntil(lambda: w.cad.result is not None, timeout=30_000)
    assert w.cad.result.images[0].spacing_estimated and w.cad.runner.cache
    with qtbot.waitSignal(w.studyShown, timeout=30_000):
        w.commands["pixel_spacing"].trigger()
    sp = w.panels[View.LCC].image.info.spacing
    assert (sp.row_mm, sp.col_mm, sp.source) == (0.29, 0.177, "--pixel-spacing option")
    assert w.panels[View.LCC].aspect == pytest.approx(0.177 / 0.29) and w.pixel_spacing == (0.29, 0.177)
    assert w._spacing_label.text() == "Given spacing 0.29 x 0.177 mm"  # in sight while it applies
    assert not w.cad.runner.cache and w.cad.result is None  # the guessed spacing's CAD is gone
    assert all(i.spacing is not None for e in w.worklist.entries for i in e.study.images)
    w.commands["pixel_spacing"].trigger()  # "wide": said, nothing changed
    assert boxes[-1][0] == "Pixel spacing not changed" and "not a number" in boxes[-1][1]
    assert w.pixel_spacing == (0.29, 0.177)
    with qtbot.waitSignal(w.studyShown, timeout=30_000):
        w.commands["pixel_spacing"].trigger()  # empty: back to the guess
    assert w.pixel_spacing is None and w.panels[View.LCC].image.info.spacing is None
    assert w._spacing_label.isHidden()
    w.cad.run()  # a job under way when the spacing changes: whatever it computes is not kept
    with qtbot.waitSignal(w.studyShown, timeout=30_000):
        w.set_pixel_spacing(0.2)
    qtbot.waitUntil(lambda: not w.cad.runner._jobs, timeout=30_000)
    assert not w.cad.runner.cache and w.cad.result is None


def test_a_probe_of_the_models_before_a_reload_reporting_late_changes_nothing(main_window, qtbot, monkeypatch,
                                                                              tmp_path):  # fmt: skip
    """The reader reloads the models while the last look for them is still on its way back: that look is of the models
    as they were, and its late "model ready" must not make CAD available again (under load it came after the new
    look's "no models installed" and enabled Run CAD with the old model)."""
    window, runner = main_window, main_window.cad.runner
    qtbot.waitUntil(lambda: not runner._jobs, timeout=30_000)  # the start-up probe is over
    release, held = threading.Event(), threading.Event()
    real_get, calls = ModelProvider.get, itertools.count()

    def get(self: ModelProvider):  # type: ignore[no-untyped-def]
        model = real_get(self)
        if self is runner.provider and next(calls) == 0:  # the window's first look: loaded, held before it says so
            held.set()
            release.wait(20)
        return model

    monkeypatch.setattr(ModelProvider, "get", get)
    window.cad.use_model_loader(slow_loader(tmp_path))
    assert held.wait(20)

    def gone():  # type: ignore[no-untyped-def]
        raise CadUnavailable("the models folder was emptied")

    window.cad.use_model_loader(gone)
    qtbot.waitUntil(lambda: window.cad.unavailable is not None, timeout=30_000)
    release.set()
    qtbot.waitUntil(lambda: not runner._jobs, timeout=30_000)  # the held look has reported and ended
    qtbot.wait(50)
    assert window.cad.unavailable == "the models folder was emptied"
    assert runner.model_info is None and not window.commands["cad_run"].isEnabled()


def test_reload_does_not_wait_for_a_model_being_loaded(tmp_path):
    """Reset (the reader's Reload model, in the GUI thread) while a worker loads the model returns at once instead of
    waiting for the load (it froze the window as long as the load took); the load under way is not kept."""
    loading, release, loads = threading.Event(), threading.Event(), []
    real = ModelProvider(ModelChoice(models_dir=save_tiny_model(tmp_path / "m"), device="cpu")).get

    def loader():  # type: ignore[no-untyped-def]
        loads.append(1)
        if len(loads) == 1:
            loading.set()
            release.wait(20)
        return real()

    provider = ModelProvider(loader=loader)
    worker = threading.Thread(target=provider.get)
    worker.start()
    assert loading.wait(20)
    reset = threading.Thread(target=provider.reset)
    reset.start()
    reset.join(10)
    returned = not reset.is_alive()
    release.set()
    worker.join(20)
    reset.join(20)
    assert returned, "reset waited for the load under way"
    provider.get()
    assert len(loads) == 2  # the load that began before the reset was not kept
