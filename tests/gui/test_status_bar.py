"""The eliding status bar: a message longer than the room left of the read-outs (e.g. the quarter-turn warning of a
study opened with problems) ends in "…" with its full text in the tooltip; it was cut off at the first read-out
without a sign.  The room changes without a resize too (the CAD progress shown or hidden, the window shown), and
Qt's own status tips (a menu item hovered: QMainWindow calls the C++ QStatusBar::showMessage, not the override)
must survive its refits.  ``main_window`` is shown at 1000 px wide."""

from __future__ import annotations

import time

from PySide6 import QtCore, QtGui, QtWidgets

LONG = (
    "Study opened with problems: 1-280.dcm: Patient Orientation A\\F says the image is stored a quarter turn from "
    "the hanging position (chest wall along the top or bottom): shown as stored, not turned; the CAD gives no "
    "nipple distances"
)


def _message_area(bar: QtWidgets.QStatusBar) -> int:
    """Pixels from the bar's left to its leftmost visible widget: where QStatusBar paints (and clips) the message."""
    kids = bar.findChildren(QtWidgets.QWidget, options=QtCore.Qt.FindChildOption.FindDirectChildrenOnly)
    return min((w.geometry().x() for w in kids if w.isVisible()), default=bar.width())


def test_a_long_message_is_elided_with_its_full_text_in_the_tooltip(main_window, qtbot):
    window = main_window
    bar = window.statusBar()
    window.show_status(LONG)
    shown = bar.shown_message()
    assert shown.endswith("…") and len(shown) < len(LONG)
    assert bar.fontMetrics().horizontalAdvance(shown) <= bar.room()
    read_outs = [w for w in bar.findChildren(QtWidgets.QLabel) if w.isVisible() and w.text()]
    assert any(w.text() == "Research use only" for w in read_outs)  # still in sight beside the message
    assert bar.currentMessage() == LONG and bar.toolTip() == LONG
    window.resize(3000, 700)  # more room: more of it shown, all of it once it fits
    qtbot.waitUntil(lambda: len(bar.shown_message()) > len(shown))
    window.show_status("Ready.")
    assert bar.shown_message() == "Ready." and bar.toolTip() == ""
    bar.clearMessage()
    assert bar.currentMessage() == ""


def test_a_temporary_message_still_goes(main_window, qtbot):
    bar = main_window.statusBar()
    main_window.show_status(LONG, 100)
    assert bar.currentMessage() == LONG
    qtbot.waitUntil(lambda: bar.currentMessage() == "", timeout=2000)
    assert bar.toolTip() == ""


def test_a_long_message_stays_elided_when_the_cad_progress_appears(main_window, qtbot):
    """A long message (a CAD failure, a study opened with problems) then the CAD progress bar and its Cancel button
    showing at the bar's left end: the message was elided for the room before, so it ran under the progress widget
    and was cut off there without its "…" (what the eliding bar was made to stop)."""
    bar = main_window.statusBar()
    main_window.show_status(LONG)
    progress = main_window.cad.runner.progress
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
    bar = window.statusBar()
    window.hide()
    window.show_status(LONG)
    window.show()
    qtbot.waitExposed(window)
    QtWidgets.QApplication.processEvents()
    assert bar.fontMetrics().horizontalAdvance(bar.shown_message()) <= _message_area(bar)


def test_a_status_tip_is_not_replaced_by_the_previous_message_when_the_cad_progress_goes(main_window, qtbot):
    """A menu item hovered shows its status tip; the CAD ending meanwhile (its progress hidden: a LayoutRequest)
    put the previous message back over the tip of the item still under the mouse."""
    window = main_window
    bar = window.statusBar()
    progress = window.cad.runner.progress
    progress.start("CAD")
    qtbot.waitUntil(lambda: progress.isVisible())
    window.show_status("CAD: 2 of 4 images read.")
    QtWidgets.QApplication.sendEvent(window, QtGui.QStatusTipEvent("Open a study folder"))  # Qt's own path
    assert bar.shown_message() == "Open a study folder"
    progress.stop()
    for _ in range(5):
        QtWidgets.QApplication.processEvents()
    assert bar.shown_message() == "Open a study folder"
    assert bar.currentMessage() == "Open a study folder"
    QtWidgets.QApplication.sendEvent(window, QtGui.QStatusTipEvent(""))  # the mouse left the item
    assert bar.shown_message() == "" and bar.currentMessage() == ""


def test_refits_settle_with_a_long_message_and_the_cad_progress_shown(main_window, qtbot):
    """A refit re-shows the message; that must not request another layout for ever (a busy loop)."""
    bar = main_window.statusBar()
    # the start-up look for the CAD models over first: its thread's load (3.7 s of CPU time where torch is not yet
    # imported) was counted below, and its end says so in the status bar
    qtbot.waitUntil(lambda: not main_window.cad.runner._jobs, timeout=60_000)
    main_window.cad.runner.progress.start("CAD")
    main_window.show_status(LONG)
    qtbot.wait(200)
    calls = []
    original = bar._show
    bar._show = lambda t: (calls.append(t), original(t))  # type: ignore[method-assign]
    start = time.thread_time()
    qtbot.wait(1500)
    assert len(calls) <= 2
    assert time.thread_time() - start < 0.5  # (CPU time of the GUI thread: a loop would spend the whole wait)


def test_an_elided_message_keeps_a_gap_before_the_read_outs_text(main_window):
    """The message was elided to within 2 px of the first read-out, so its "…" ran into that read-out's text: at 1280
    px with "Reads not saved" shown the bar read "…in the other one ano…Reads not saved"."""
    window = main_window
    bar = window.statusBar()
    window.show_reads_refused("another mammoview window is saving reads in this folder")
    window.show_status(LONG)
    QtWidgets.QApplication.processEvents()
    label = bar.findChild(QtWidgets.QLabel, "reads_refused")
    assert label.isVisible() and _message_area(bar) == label.x()  # the first read-out on the message's right
    end = 6 + bar.fontMetrics().horizontalAdvance(bar.shown_message())  # QStatusBar paints the message 6 px in
    assert label.x() - end >= bar.fontMetrics().horizontalAdvance("  "), (label.x(), end)
