"""A status message longer than the room left of the read-outs (e.g. the quarter-turn warning of a study opened with
problems) ends in "…" with its full text in the tooltip; it was cut off at the first read-out without a sign."""

from __future__ import annotations

from PySide6 import QtWidgets

LONG = (
    "Study opened with problems: 1-280.dcm: Patient Orientation A\\F says the image is stored a quarter turn from "
    "the hanging position (chest wall along the top or bottom): shown as stored, not turned; the CAD gives no "
    "nipple distances"
)


def test_a_long_message_is_elided_with_its_full_text_in_the_tooltip(main_window, qtbot):
    window = main_window
    window.resize(1000, 700)
    window.show()
    qtbot.waitExposed(window)
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
