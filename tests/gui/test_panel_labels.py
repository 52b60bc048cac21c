"""The text over a panel stays inside it, however long a file's name is."""

from __future__ import annotations

import pytest
from PySide6 import QtGui, QtWidgets

from mammoview.gui.panel_labels import PanelLabels
from mammoview.io.model import View

LONG = "W 35978 L 38913 · 8% · 1.2.826.0.1.3680043.8.498.12345678901234567890_1-280.dcm"


def _plain(rich: str) -> str:
    doc = QtGui.QTextDocument()
    doc.setHtml(rich)
    return doc.toPlainText()


@pytest.mark.parametrize("outer_left", [True, False])
def test_an_image_line_with_a_long_file_name_is_shortened_inside_its_panel(qtbot, outer_left):
    """A PACS export's UID file names ran the image line past the panel's edge at 1024 x 700: R CC's ran into L CC,
    whose own line lost its window/level on the left ("...498.123).1.3680043..." read as one line across the
    midline). The line is shortened in the middle: the window, the zoom and the name's end stay."""
    panel = QtWidgets.QWidget()
    qtbot.addWidget(panel)
    panel.resize(320, 300)
    panel.show()
    qtbot.waitExposed(panel)
    labels = PanelLabels(panel, View.LCC if not outer_left else View.RCC, outer_left=outer_left)
    labels.set_info(LONG)
    info = labels.info
    assert info.x() >= 0 and info.x() + info.width() <= panel.width()
    shown = _plain(info.text())
    assert shown.startswith("W 35978 L 38913 · 8% · ") and shown.endswith("_1-280.dcm") and "…" in shown
    panel.resize(1200, 300)
    labels.place()  # room again: the whole line
    assert _plain(info.text()) == LONG
    assert info.x() >= 0 and info.x() + info.width() <= panel.width()
