"""The worklist dock goes narrow: its smallest width was 368 px (the one-line key hint "PgDown next · PgUp previous ·
Shift+PgDown next not read" set it), so with the worklist shown the right dock area could not be narrower, whatever
the CAD dock did (it goes to 256 px: test_cad_dock_narrow.py).  At 200 % on a 1280 x 800 screen (a 624 px wide
window) that left the images half the window.  Now at most 260 px, the hint wrapped, the current row's date and
read state readable there, and the other columns a sideways scroll away."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6 import QtCore, QtGui, QtWidgets

from mammoview.gui.worklist import COLUMNS, WorklistPanel
from mammoview.gui.worklist_cells import elide_keeping_date
from tests.gui.test_worklist_columns import two_studies_first_read

MAX_DOCK_WIDTH = 260
DATE = "2016-10-04"


@pytest.fixture()
def dock(qtbot, tmp_path: Path) -> QtWidgets.QDockWidget:
    """The worklist of two four-view studies in a dock, the first read (a long status) and on screen."""
    studies, wl = two_studies_first_read(tmp_path)
    dock = QtWidgets.QDockWidget("Worklist")
    dock.setWidget(WorklistPanel(wl))
    qtbot.addWidget(dock)
    dock.show()
    wl.set_studies(studies)
    wl.set_current(0)
    return dock


def shown_text(tree: QtWidgets.QTreeWidget, item: QtWidgets.QTreeWidgetItem, column: int) -> str:
    """The cell's text as elided to its width (the view's text margins, as QCommonStyle lays a cell out)."""
    margin = tree.style().pixelMetric(QtWidgets.QStyle.PixelMetric.PM_FocusFrameHMargin, None, tree) + 1
    width = tree.header().sectionSize(column) - 2 * margin
    metrics = QtGui.QFontMetrics(item.font(column))
    if COLUMNS[column] == "Study":
        return elide_keeping_date(item.text(column), metrics, width)
    mode = QtCore.Qt.TextElideMode.ElideRight if COLUMNS[column] == "Read" else tree.textElideMode()
    return metrics.elidedText(item.text(column), mode, width)


def test_the_worklist_dock_can_be_narrowed_to_260_px(dock, qtbot):
    panel = dock.widget()
    assert isinstance(panel, WorklistPanel)
    assert dock.minimumSizeHint().width() <= MAX_DOCK_WIDTH, dock.minimumSizeHint()
    dock.resize(dock.minimumSizeHint().width(), 400)
    qtbot.waitUntil(lambda: dock.width() <= MAX_DOCK_WIDTH, timeout=2_000)
    # the labels wrap, whole: none is cut at its end or its bottom
    for label in panel.findChildren(QtWidgets.QLabel):
        assert label.width() <= panel.width(), label.text()
        assert label.height() >= label.heightForWidth(label.width()), label.text()
    hint = next(lb for lb in panel.findChildren(QtWidgets.QLabel) if "PgDown" in lb.text())
    assert hint.wordWrap()


def test_the_current_rows_date_and_read_state_stay_readable_at_256_px(dock, qtbot):
    panel = dock.widget()
    assert isinstance(panel, WorklistPanel)
    dock.resize(256, 400)
    qtbot.waitUntil(lambda: dock.width() == 256, timeout=2_000)
    tree, study, read = panel.tree, COLUMNS.index("Study"), COLUMNS.index("Read")
    first = tree.topLevelItem(0)
    assert first.text(read) == "read · BI-RADS 1 · 0 marks" and first.text(study) == DATE

    def in_view(column: int) -> bool:  # left of where a sideways scroll bar takes the reader to the other columns
        left = tree.header().sectionViewportPosition(column)
        return left >= 0 and left + tree.header().sectionSize(column) <= tree.viewport().width()

    # the columns are fitted after the resize's events (a zero timer)
    qtbot.waitUntil(lambda: shown_text(tree, first, study) == DATE and in_view(study) and in_view(read), timeout=2_000)
    assert shown_text(tree, first, read).startswith("read ·"), shown_text(tree, first, read)
    assert tree.horizontalScrollBar().value() == 0
    # the columns sized to their contents stay whole, the ones that do not fit reachable by scrolling
    for column in (COLUMNS.index(c) for c in ("#", "Views", "ID")):
        assert tree.header().sectionSize(column) >= tree.sizeHintForColumn(column), COLUMNS[column]
    hidden = tree.header().length() - tree.viewport().width()
    assert hidden <= 0 or tree.horizontalScrollBar().maximum() >= hidden
    # a wide dock again: no sideways scroll, the status whole (test_worklist_columns.py)
    dock.resize(900, 400)
    qtbot.waitUntil(lambda: tree.header().sectionSize(read) >= tree.sizeHintForColumn(read), timeout=2_000)
    assert tree.header().length() <= tree.viewport().width()


@pytest.mark.parametrize("width", [60, 90, 120, 160])
def test_a_named_study_elides_its_name_and_keeps_its_date_whole(qtbot, width):
    """The Study column elided in the middle: a woman's name and the date read "DEMO PA…6-10-04", the year gone.
    The name gives way first; the date stays whole while it fits at all."""
    label = QtWidgets.QLabel()
    qtbot.addWidget(label)
    metrics = label.fontMetrics()
    text = f"DEMO PATIENT^ANONYMISED | {DATE}"
    shown = elide_keeping_date(text, metrics, width)
    assert metrics.horizontalAdvance(shown) <= width, shown
    if metrics.horizontalAdvance(DATE) <= width:
        assert shown.endswith(DATE), shown
    assert elide_keeping_date(text, metrics, metrics.horizontalAdvance(text)) == text  # room: whole
    assert elide_keeping_date(DATE, metrics, 1000) == DATE  # no name: as it is


def test_the_worklist_draws_the_study_column_keeping_the_date(qtbot):
    """The delegate the panel puts on the Study column is what elides it (not the view's own middle elision)."""
    from mammoview.gui.worklist_cells import ElideName

    tree = QtWidgets.QTreeWidget()
    qtbot.addWidget(tree)
    item = QtWidgets.QTreeWidgetItem([f"DEMO PATIENT^ANONYMISED | {DATE}"])
    tree.addTopLevelItem(item)
    option = QtWidgets.QStyleOptionViewItem()
    option.rect = QtCore.QRect(0, 0, 110, 20)
    option.widget = tree
    ElideName(tree).initStyleOption(option, tree.indexFromItem(item))
    assert option.text.endswith(DATE) and "…" in option.text, option.text
