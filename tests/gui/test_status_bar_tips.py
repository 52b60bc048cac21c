"""Qt's own status tips (a menu item or a button hovered: QMainWindow calls the C++ QStatusBar::showMessage, not the
eliding override) beside the eliding status bar's refits on a layout change."""

from __future__ import annotations

import time

from PySide6 import QtGui, QtWidgets

from tests.gui.test_status_bar import LONG


def test_a_status_tip_is_not_replaced_by_the_previous_message_when_the_cad_progress_goes(main_window, qtbot):
    """A menu item hovered shows its status tip; the CAD ending meanwhile (its progress hidden: a LayoutRequest)
    put the previous message back over the tip of the item still under the mouse."""
    window = main_window
    window.resize(1000, 700)
    window.show()
    qtbot.waitExposed(window)
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
    window = main_window
    window.resize(1000, 700)
    window.show()
    qtbot.waitExposed(window)
    bar = window.statusBar()
    progress = window.cad.runner.progress
    progress.start("CAD")
    window.show_status(LONG)
    qtbot.wait(200)
    calls = []
    original = bar._show
    bar._show = lambda t: (calls.append(t), original(t))  # type: ignore[method-assign]
    start = time.process_time()
    qtbot.wait(1500)
    assert time.process_time() - start < 0.5
    assert len(calls) <= 2
