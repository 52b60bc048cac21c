"""What the viewer benchmarks share: a shown main window and waiting for one of its signals.

Imported by the scripts of this folder (run as ``python benchmarks/bench_x.py``, so the folder is on the path).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any


def shown_window(width: int = 1400, height: int = 900) -> Any:
    """A MainWindow of ``width`` x ``height``, shown (the QApplication must exist)."""
    from mammoview.gui.main_window import MainWindow

    window = MainWindow()
    window.resize(width, height)
    window.show()
    return window


def wait(signal: Any, timeout_s: float = 60.0) -> None:
    """Run the event loop until ``signal`` is emitted or ``timeout_s`` passes."""
    from PySide6 import QtCore

    loop = QtCore.QEventLoop()
    signal.connect(loop.quit)
    QtCore.QTimer.singleShot(int(timeout_s * 1000), loop.quit)
    loop.exec()
    signal.disconnect(loop.quit)


def settle(app: Any, seconds: float) -> None:
    """Run ``app``'s events for ``seconds`` (a 1 ms sleep between turns: other threads get the GIL)."""
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        app.processEvents()
        time.sleep(0.001)


def rss_mb() -> float:
    """The process's resident memory now (Linux /proc; NaN elsewhere)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def open_with_models(app: Any, window: Any, folder: Any) -> None:
    """Open study ``folder`` in ``window``, and wait until it is on screen and the CAD's models are loaded (the
    process exits with the reason where the CAD is unavailable)."""
    from PySide6 import QtCore

    QtCore.QTimer.singleShot(0, lambda: window.open_paths([str(folder)]))
    wait(window.studyShown, 60.0)
    deadline = time.perf_counter() + 60
    while window.cad.model_info is None and window.cad.unavailable is None and time.perf_counter() < deadline:
        settle(app, 0.01)
    if window.cad.unavailable is not None:
        sys.exit(f"CAD unavailable in the viewer: {window.cad.unavailable}")
