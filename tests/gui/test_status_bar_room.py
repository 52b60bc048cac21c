"""The eliding status bar when the read-outs beside the message change without the bar being resized
(the CAD progress shown or hidden, a label inserted, a read-out's text growing)."""

from __future__ import annotations

from PySide6 import QtCore, QtWidgets

from tests.gui.test_status_bar import LONG


def _message_area(bar: QtWidgets.QStatusBar) -> int:
    """Pixels from the bar's left to its leftmost visible widget: where QStatusBar paints (and clips) the message."""
    kids = bar.findChildren(QtWidgets.QWidget, options=QtCore.Qt.FindChildOption.FindDirectChildrenOnly)
    return min((w.geometry().x() for w in kids if w.isVisible()), default=bar.width())


def test_a_long_message_stays_elided_when_the_cad_progress_appears(main_window, qtbot):
    """A long message (a CAD failure, a study opened with problems) then the CAD progress bar and its Cancel button
    showing at the bar's left end: the message was elided for the room before, so it ran under the progress widget
    and was cut off there without its "…" (what the eliding bar was made to stop)."""
    window = main_window
    window.resize(1000, 700)
    window.show()
    qtbot.waitExposed(window)
    bar = window.statusBar()
    window.show_status(LONG)
    progress = window.cad.runner.progress
    progress.start("CAD")
    qtbot.waitUntil(lambda: progress.isVisible() and progress.width() > 50)
    QtWidgets.QApplication.processEvents()
    shown = bar.shown_message()
    assert bar.fontMetrics().horizontalAdvance(shown) <= _message_area(bar), (shown, _message_area(bar))
    progress.stop()
    QtWidgets.QApplication.processEvents()
    # and the room it gives back is used again (not a third of the message with the bar's middle empty)
    qtbot.waitUntil(lambda: bar.fontMetrics().horizontalAdvance(bar.shown_message()) > _message_area(bar) - 80)


def test_a_long_message_given_while_the_window_is_hidden_fits_once_it_shows(main_window, qtbot):
    """Elided while no read-out was in sight (the window hidden): 970 px of text for 354 px of room, cut off under the
    read-outs without its "…" once the window showed again at the same size (no resize event)."""
    window = main_window
    window.resize(1000, 700)
    window.show()
    qtbot.waitExposed(window)
    bar = window.statusBar()
    window.hide()
    window.show_status(LONG)
    window.show()
    qtbot.waitExposed(window)
    QtWidgets.QApplication.processEvents()
    assert bar.fontMetrics().horizontalAdvance(bar.shown_message()) <= _message_area(bar)
