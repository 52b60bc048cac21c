"""The viewer keeps its long-lived objects out of the garbage collector's walks (mammoview.gui.long_lived): once its
window shows and again once the CAD's models are loaded; the test suite's process, and the commands', never."""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
import textwrap

from mammoview.gui import long_lived
from tests.conftest import ROOT

_SCRIPT = """
import gc, json, sys
from PySide6 import QtCore, QtWidgets
from mammoview.gui import app as gui_app
seen = {}
def look(window):
    seen.setdefault("window", gc.get_freeze_count())
    if window.cad.model_info is None and window.cad.unavailable is None:
        QtCore.QTimer.singleShot(50, lambda: look(window))
        return
    seen["models"] = gc.get_freeze_count()
    seen["model_info"] = window.cad.model_info is not None
    seen["collected"] = gc.collect()  # (works: objects made since are walked as usual)
    print(json.dumps(seen))
    for part in (window.jobs, window.prefetch, window.priors, window.frames, window.cad):
        part.shutdown()
    QtWidgets.QApplication.quit()
shown = gui_app.close_on_ctrl_c  # (called by run_viewer once the window shows, as the freeze)
def hooked(window):
    shown(window)
    QtCore.QTimer.singleShot(0, lambda: look(window))
gui_app.close_on_ctrl_c = hooked
sys.exit(gui_app.run_viewer([sys.argv[1]]))
"""


def test_the_viewer_freezes_once_its_window_shows_and_again_once_the_models_are_loaded(demo_dir, tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MAMMOVIEW_APP_DATA": str(tmp_path / "appdata"),
           "QT_QPA_PLATFORM": "offscreen"}  # fmt: skip
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(_SCRIPT), str(demo_dir)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["model_info"], seen
    # the window up: PySide6, pyqtgraph, numpy and the viewer's modules (~100 000 objects); then torch and the
    # networks on top
    assert seen["window"] > 50_000 and seen["models"] > seen["window"] + 20_000, seen


def test_nothing_is_frozen_where_the_viewer_did_not_ask_for_it(qtbot, monkeypatch):
    """The test suite's process (and a command's): :func:`long_lived.freeze` does nothing, so the hundreds of windows
    a test session opens and closes are collected as usual."""
    assert not long_lived.enabled()
    before = gc.get_freeze_count()
    long_lived.freeze("a test")
    assert gc.get_freeze_count() == before


def test_enable_freezes_what_is_alive_and_later_freezes_too(monkeypatch):
    monkeypatch.setattr(long_lived, "_enabled", False)
    try:
        long_lived.enable()
        frozen = gc.get_freeze_count()
        assert frozen > 1000 and long_lived.enabled()
        kept = [[n] for n in range(500)]  # made after the freeze: walked as usual, until the next freeze
        assert gc.get_freeze_count() == frozen
        long_lived.freeze("a test")
        assert gc.get_freeze_count() >= frozen + len(kept)
    finally:
        gc.unfreeze()  # (the test session's objects back to the collector)


def test_the_models_loaded_again_are_not_frozen_again(monkeypatch):
    """A reload loads the models with studies open: freezing then would keep their few objects in reference cycles
    for good, at every reload; the first load's freeze is the one that matters (torch and the networks)."""
    monkeypatch.setattr(long_lived, "_enabled", True)
    monkeypatch.setattr(long_lived, "_done", set())
    try:
        long_lived.freeze_once("models")
        frozen = gc.get_freeze_count()
        kept = [[n] for n in range(500)]
        long_lived.freeze_once("models")
        assert gc.get_freeze_count() == frozen and kept
    finally:
        gc.unfreeze()
