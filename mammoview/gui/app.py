"""Application start-up: QApplication, pyqtgraph options, exception hooks, and the viewer's main loop.

Nothing may die silently in a reading room: uncaught exceptions in the GUI thread or
in any Python thread are logged and shown in a dialog, and the viewer keeps running.
"""

from __future__ import annotations

import logging
import signal
import sys
import threading
import traceback
from collections.abc import Sequence
from types import TracebackType

import pyqtgraph as pg
from PySide6 import QtCore, QtWidgets

from mammoview import __version__
from mammoview.gui import long_lived
from mammoview.gui.icon import app_icon
from mammoview.io.reader import SpacingOption

log = logging.getLogger(__name__)


def configure_pyqtgraph() -> None:
    """Once per process: row-major images (numpy's order), no antialiasing cost on images."""
    pg.setConfigOptions(imageAxisOrder="row-major", antialias=False, background="k", foreground="w")


def create_app(argv: Sequence[str] | None = None) -> QtWidgets.QApplication:
    """The QApplication (reused if one exists, e.g. under pytest-qt)."""
    configure_pyqtgraph()
    app = QtWidgets.QApplication.instance()
    if app is None:
        app = QtWidgets.QApplication(list(argv) if argv is not None else sys.argv[:1])
    assert isinstance(app, QtWidgets.QApplication)
    app.setOrganizationName("mammoview")
    app.setApplicationName("mammoview")
    app.setApplicationVersion(__version__)
    app.setApplicationDisplayName("mammoview")
    app.setDesktopFileName("mammoview")  # matches packaging/mammoview.desktop (Wayland/X11 icon lookup)
    app.setWindowIcon(app_icon())
    return app


class _ErrorRelay(QtCore.QObject):
    """Carries an error report from any thread to a dialog in the GUI thread."""

    report = QtCore.Signal(str, str)

    def __init__(self) -> None:
        super().__init__()
        self.report.connect(self._show, QtCore.Qt.ConnectionType.QueuedConnection)
        self.dialogs: list[QtWidgets.QMessageBox] = []

    @QtCore.Slot(str, str)
    def _show(self, summary: str, details: str) -> None:
        parent = QtWidgets.QApplication.activeWindow()
        box = QtWidgets.QMessageBox(parent)
        box.setIcon(QtWidgets.QMessageBox.Icon.Critical)
        box.setWindowTitle("mammoview — unexpected error")
        box.setText(f"An unexpected error occurred; the viewer keeps running.\n\n{summary}")
        box.setDetailedText(details)
        box.setAttribute(QtCore.Qt.WidgetAttribute.WA_DeleteOnClose)
        box.finished.connect(lambda _=0, b=box: self.dialogs.remove(b) if b in self.dialogs else None)
        self.dialogs.append(box)
        box.open()  # non-blocking: an error must not stall the event loop


_relay: _ErrorRelay | None = None


def report_exception(
    exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None, where: str = "GUI thread"
) -> None:
    """Log an uncaught exception and show it in a dialog (safe from any thread)."""
    details = "".join(traceback.format_exception(exc_type, exc, tb))
    # (the traceback as exc_info, not in the message: the log's formatter writes a message's newlines as \x0a)
    log.error("uncaught exception in %s", where, exc_info=(exc_type, exc, tb))
    if _relay is not None and QtWidgets.QApplication.instance() is not None:
        _relay.report.emit(f"{exc_type.__name__}: {exc} ({where})", details)


def install_excepthooks() -> None:
    """Route ``sys.excepthook`` and ``threading.excepthook`` to :func:`report_exception`.

    Call after the QApplication exists.  KeyboardInterrupt keeps its default behaviour.
    """
    global _relay
    if _relay is None:
        _relay = _ErrorRelay()

    def sys_hook(exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        if issubclass(exc_type, KeyboardInterrupt):
            sys.__excepthook__(exc_type, exc, tb)
            return
        report_exception(exc_type, exc, tb)

    def thread_hook(args: threading.ExceptHookArgs) -> None:
        if args.exc_value is None or issubclass(args.exc_type, SystemExit):
            return
        name = args.thread.name if args.thread is not None else "a thread"
        report_exception(args.exc_type, args.exc_value, args.exc_traceback, where=f"thread {name}")

    sys.excepthook = sys_hook
    threading.excepthook = thread_hook


def run_viewer(paths: Sequence[str] = (), pixel_spacing: SpacingOption = None, cad_options: object = None) -> int:
    """Start the viewer, open ``paths`` if given, and run the event loop; returns the exit code.

    ``cad_options``: a :class:`mammoview.gui.cad_worker.CadOptions` (model, device, auto-run).
    """
    app = create_app()
    install_excepthooks()
    from mammoview.gui.main_window import MainWindow  # after pg options are set

    window = MainWindow(pixel_spacing=pixel_spacing, cad_options=cad_options)  # type: ignore[arg-type]
    show_first(window)
    close_on_ctrl_c(window)
    long_lived.enable()  # (the modules loaded: kept out of the garbage collector's walks, which stall the GUI)
    if paths:
        window.open_paths(list(paths))
    return int(app.exec())


def show_first(window: QtWidgets.QMainWindow) -> None:
    """Show the viewer as the reader left it (its saved geometry, maximised or not), or, on a first start, maximised:
    a reading screen is the viewer's own (it opened at 1400 x 900 in the middle of a 1920 x 1080 screen)."""
    if window.settings.geometry() is None:  # type: ignore[attr-defined]
        # the screen's whole free area first: where no window manager maximises (a kiosk X session, xvfb) the window
        # stayed 1400 x 900
        window.setGeometry(window.screen().availableGeometry())
        window.showMaximized()
    else:
        window.show()


def close_on_ctrl_c(window: QtWidgets.QWidget) -> None:
    """Ctrl+C (SIGINT) in the terminal that started the viewer closes its windows, as their close buttons do.

    Python runs its signal handlers only between bytecodes, and Qt's event loop runs none while the viewer is
    idle: without the timer the handler waited for the next mouse move, and Ctrl+C seemed ignored.
    """
    signal.signal(signal.SIGINT, lambda _signum, _frame: QtWidgets.QApplication.closeAllWindows())
    wake = QtCore.QTimer(window)
    wake.timeout.connect(lambda: None)
    wake.start(200)
