"""The CAD's models are loaded at start-up once the study the viewer was started on is up (importing torch beside
its decode doubled the study's time to the screen: ``benchmarks/bench_startup.py``), at once without one, and after
:data:`~mammoview.gui.cad_controller.PROBE_WAIT_S` at most."""

from __future__ import annotations

import time

from mammoview.gui import cad_controller
from mammoview.gui.background_jobs import BackgroundJobs
from mammoview.gui.cad_jobs import CadRunner


def started_window(qtbot, monkeypatch, paths):  # type: ignore[no-untyped-def]
    """A MainWindow told to open ``paths`` before its event loop ran (as ``mammoview view PATH`` starts it); the
    probes it started: (whether a study was on screen then, seconds since it was made)."""
    from mammoview.gui.app import configure_pyqtgraph
    from mammoview.gui.main_window import MainWindow

    probes: list[tuple[bool, float]] = []
    real = CadRunner.probe

    def probe(self):  # type: ignore[no-untyped-def]
        probes.append((self.window.loaded is not None, time.monotonic() - made))
        real(self)

    monkeypatch.setattr(CadRunner, "probe", probe)
    configure_pyqtgraph()
    made = time.monotonic()
    window = MainWindow()
    qtbot.addWidget(window)
    window.open_paths([str(p) for p in paths])
    window.show()
    return window, probes


def ended(window) -> None:  # type: ignore[no-untyped-def]
    for part in (window.jobs, window.prefetch, window.prefetch_helper, window.load_helper, window.priors,
                 window.frames, window.cad):  # fmt: skip
        part.shutdown()


def test_the_models_load_once_the_study_opened_at_start_up_is_on_screen(qtbot, monkeypatch, demo_dir):
    window, probes = started_window(qtbot, monkeypatch, [demo_dir])
    try:
        with qtbot.waitSignal(window.studyShown, timeout=30_000):
            pass
        qtbot.waitUntil(lambda: bool(probes), timeout=5_000)
        assert probes[0][0], "the models were loaded beside the study's decode"
        qtbot.waitUntil(lambda: window.cad.model_info is not None or bool(window.cad.unavailable), timeout=30_000)
        assert window.cad.model_info is not None, window.cad.unavailable
        assert len(probes) == 1
    finally:
        ended(window)


def test_without_a_study_the_models_load_at_once(qtbot, monkeypatch):
    window, probes = started_window(qtbot, monkeypatch, [])
    try:
        qtbot.waitUntil(lambda: bool(probes), timeout=5_000)
        assert probes[0][0] is False and probes[0][1] < 2.0, probes
    finally:
        ended(window)


def test_a_study_that_takes_long_to_open_does_not_hold_the_models_back(qtbot, monkeypatch):
    """A scan that does not end (a hung share): the models load after PROBE_WAIT_S all the same."""
    monkeypatch.setattr(cad_controller, "PROBE_WAIT_S", 0.5)
    hung = [True]
    real = BackgroundJobs.busy
    monkeypatch.setattr(BackgroundJobs, "busy", property(lambda self: hung[0] or real.fget(self)))
    window, probes = started_window(qtbot, monkeypatch, [])
    try:
        qtbot.waitUntil(lambda: bool(probes), timeout=5_000)
        assert probes[0][0] is False and probes[0][1] >= 0.5, probes
    finally:
        hung[0] = False
        ended(window)
