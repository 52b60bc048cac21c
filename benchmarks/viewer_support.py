"""What the viewer benchmarks share: a shown main window and waiting for one of its signals.

Imported by the scripts of this folder (run as ``python benchmarks/bench_x.py``, so the folder is on the path).
"""

from __future__ import annotations

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
