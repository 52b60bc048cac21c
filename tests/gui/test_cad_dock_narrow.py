"""The CAD dock goes narrow: at 200 % on a 1280 x 800 screen (a 624 px wide window) its smallest width, 324 px
(a row of four toggle buttons set it; the assessment and mark-kind boxes' rows came next), was half the window.
Now at most 260 px, and every control still whole in view there."""

from __future__ import annotations

from PySide6 import QtCore, QtWidgets

from tests.gui import cad_support
from tests.gui.cad_support import planted_result
from tests.gui.test_cad_operating import with_sources

cad_models, cad_window = cad_support.cad_models, cad_support.cad_window

MAX_DOCK_WIDTH = 260


def test_the_cad_dock_can_be_narrowed_to_260_px_with_every_control_in_view(cad_window, load, synthetic_study, qtbot):
    w = cad_window
    load(w, [synthetic_study])
    assert_every_control_in_view_at_260_px(w, qtbot)


def test_a_theme_switch_after_the_marks_box_filled_keeps_the_dock_narrow(cad_window, load, synthetic_study, qtbot):
    """The Marks box was made with one short entry and filled with the model's operating points ("Default · 0.2
    FP/img · finds 30%") later; a switch to the light theme and back measured it afresh, and the dock's contents
    became wider than the dock could be narrowed to: the right-hand controls (First read done, Undo, the third
    column of toggles) were cut off at the dock's edge."""
    w = cad_window
    load(w, [synthetic_study])
    w.cad.set_result(with_sources(planted_result(w, {})))
    assert w.cad.dock.operating.count() > 1
    w.commands["dark_theme"].trigger()
    w.commands["dark_theme"].trigger()
    assert w.theme == "dark"
    assert_every_control_in_view_at_260_px(w, qtbot)


def assert_every_control_in_view_at_260_px(w, qtbot) -> None:  # type: ignore[no-untyped-def]
    (dock,) = [d for d in w.findChildren(QtWidgets.QDockWidget) if d.objectName() == "cad_dock"]
    assert dock.minimumSizeHint().width() <= MAX_DOCK_WIDTH
    w.resizeDocks([dock], [dock.minimumSizeHint().width()], QtCore.Qt.Orientation.Horizontal)
    qtbot.waitUntil(lambda: dock.width() <= MAX_DOCK_WIDTH, timeout=2_000)
    area = dock.widget()
    assert isinstance(area, QtWidgets.QScrollArea)
    qtbot.waitUntil(lambda: area.widget().width() <= area.viewport().width(), timeout=2_000)
    controls = [c for kind in (QtWidgets.QAbstractButton, QtWidgets.QComboBox, QtWidgets.QSlider)
                for c in w.cad.dock.findChildren(kind) if c.isVisibleTo(w.cad.dock)]  # fmt: skip
    assert len([c for c in controls if isinstance(c, QtWidgets.QToolButton)]) == 12  # run, done, marks, 8 toggles
    for c in controls:
        left = c.mapTo(area.viewport(), c.rect().topLeft()).x()
        assert left >= 0 and left + c.width() <= area.viewport().width(), c.text() if hasattr(c, "text") else c
        if isinstance(c, QtWidgets.QToolButton):  # its whole text shows
            assert c.width() >= c.fontMetrics().horizontalAdvance(c.text()), c.text()
