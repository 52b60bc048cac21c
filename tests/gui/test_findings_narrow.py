"""The findings table fits the dock at 200 %: no sideways scrolling, nothing lost, the cells read whole.

Two screens at 200 %: a 2560 x 1600 reading monitor (1280 x 800 logical pixels: the dock opens at 30 % of the
window, 384 px) and a 1280 x 800 one (640 x 400: the dock at its smallest, 256-264 px).  Offscreen the fonts are the
X server's (DejaVu Sans 9 pt, 12 px), so the logical widths here are those of the screenshots taken with
QT_SCALE_FACTOR=2.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from PySide6 import QtWidgets

from mammoview.cad.types import FindingKind
from mammoview.gui.findings_panel import (
    CAD,
    COLUMNS,
    HIDE_FIRST,
    MALIGNANCY,
    NIPPLE,
    RATE,
    READER,
    VIEW,
    FindingsPanel,
    fit_widths,
    shown_columns,
)
from mammoview.gui.matching import Category, MatchRow
from mammoview.gui.read_state import MarkKind, ReaderMark
from mammoview.io.model import View
from tests.gui.cad_support import finding
from tests.gui.test_cad_findings import dock_window

#: At 200 % a 1280 x 800 screen is 640 x 400 logical pixels: the right dock area was 324 px wide, the CAD dock's
#: smallest width then; it can now be 256 px (tests/gui/test_cad_dock_narrow.py), and the findings dock opens at
#: 264 px there (measured in xvfb, QT_SCALE_FACTOR=2), where "mass 0…" and "R12 ma…" were all the CAD and Reader
#: cells showed. Now the numbers that the images' score labels show too are hidden first (M, FP/img), then the
#: nipple distance, each a hover away, so that the kind and score and the reader's mark read whole.
NARROW_WIDTHS = (324, 264)


def test_fit_widths_keeps_the_narrow_columns_and_cuts_the_widest_to_a_common_width():
    assert fit_widths([53, 128, 121, 26, 29], 400) == [53, 128, 121, 26, 29]  # room: unchanged
    assert fit_widths([53, 128, 121, 26, 29], 300) == [53, 96, 96, 26, 29]
    assert fit_widths([53, 128, 90, 26, 29], 300) == [53, 102, 90, 26, 29]
    assert sum(fit_widths([53, 128, 121, 51, 52], 100)) <= 100


def test_the_numbers_are_hidden_first_where_the_columns_do_not_fit():
    natural = [51, 76, 123, 33, 26, 48]
    assert shown_columns(natural, 400) == [VIEW, CAD, READER, MALIGNANCY, RATE, NIPPLE]
    assert shown_columns(natural, 330) == [VIEW, CAD, READER, RATE, NIPPLE]
    assert shown_columns(natural, 300) == [VIEW, CAD, READER, NIPPLE]
    assert shown_columns(natural, 240) == [VIEW, CAD, READER]  # then cut (fit_widths)


@pytest.fixture(params=NARROW_WIDTHS)
def narrow(request, qtbot):  # type: ignore[no-untyped-def]
    panel = FindingsPanel()
    qtbot.addWidget(panel)
    panel.resize(request.param, 300)
    panel.show()
    qtbot.waitExposed(panel)
    f = replace(finding(FindingKind.MASS, 10, 10, 0.9961, 0.5), fp_per_image=0.25)
    mark = ReaderMark(id=12, view=View.LMLO, image="img", x=12, y=12, kind=MarkKind.MASS)
    panel.show_rows([MatchRow(Category.MATCHED, View.LMLO, f, (mark,), 10.0, nipple_mm=120.0)], "1 finding")
    qtbot.wait(20)
    return panel


def test_at_200_percent_on_a_1280_x_800_screen_the_kind_score_and_mark_read_whole(narrow, qtbot):
    tree = narrow.tree
    assert tree.horizontalScrollBar().maximum() == 0, [tree.columnWidth(c) for c in range(tree.columnCount())]
    assert sum(tree.columnWidth(c) for c in range(tree.columnCount())) <= tree.viewport().width()
    row = tree.topLevelItem(0).child(0)
    assert [row.text(c) for c in (CAD, READER, MALIGNANCY)] == ["mass 0.996", "R12 mass (10 mm)", "0.50"]
    fm = tree.fontMetrics()
    for col in (VIEW, CAD):  # whole
        assert fm.horizontalAdvance(row.text(col)) <= cell_room(tree, row, col), row.text(col)
    assert fm.horizontalAdvance("R12 mass…") <= cell_room(tree, row, READER)  # the mark's label and kind at least
    for col in narrow.cut_columns():  # what a cell elides is in its tooltip
        assert row.toolTip(col).startswith(row.text(col)), col
    # the numbers hidden first, each a hover away; the headers' units in their tooltips
    hidden = narrow.hidden_columns()
    assert hidden and hidden == sorted(HIDE_FIRST[: len(hidden)]), hidden
    assert row.toolTip(CAD).startswith("mass 0.996 · M 0.50 · 0.2 FP/img · centre")
    assert row.toolTip(VIEW) == "L MLO · 120 mm from the nipple"
    header = tree.headerItem()
    assert header.toolTip(MALIGNANCY).startswith("M = malignancy") and header.toolTip(RATE).startswith("FP/img")
    assert header.toolTip(NIPPLE).startswith("Nipple mm: Distance")
    # a wider dock: every column, the full texts and headers again
    narrow.resize(700, 300)
    qtbot.waitUntil(lambda: not narrow.hidden_columns() and not narrow.cut_columns(), timeout=2_000)
    assert header.text(RATE) == "FP/img" and header.text(NIPPLE) == "Nipple mm"
    assert tree.horizontalScrollBar().maximum() == 0


def test_the_distance_from_the_nipple_column_says_nipple_not_fn(narrow, qtbot):
    """Its header said "FN mm" ("FN" alone when narrow): beside "FP/img" a reader takes that for false negatives."""
    header = narrow.tree.headerItem()
    assert header.text(NIPPLE) == "Nipple"  # the short header, at 200 % on 1280 x 800
    assert narrow.tree.topLevelItem(0).child(0).text(NIPPLE) == "120"
    narrow.resize(700, 300)
    qtbot.waitUntil(lambda: not narrow.hidden_columns(), timeout=2_000)
    assert header.text(NIPPLE) == "Nipple mm"


def screenshot_rows() -> list[MatchRow]:
    """The demo study's list after CAD, as docs/screenshots/cad.png shows it (a guessed spacing: "~" mm)."""
    rows = []
    for view, kind, score, m, rate, nipple, mark, mm in [
        ("LCC", "mass", 0.98, 0.52, 0.3, 37, 1, 5), ("LMLO", "mass", 0.94, 0.53, 0.5, 33, 2, 10),
        ("RCC", "mass", 0.986, 0.53, 0.2, 70, 0, 0), ("RCC", "calcification", 0.89, 0.48, 0.7, 50, 0, 0),
        ("LCC", "mass", 0.97, 0.57, 0.3, 76, 0, 0), ("LCC", "mass", 0.97, 0.47, 0.4, 72, 0, 0),
        ("RMLO", "mass", 0.991, 0.39, 0.2, 43, 0, 0), ("RMLO", "mass", 0.98, 0.37, 0.3, 60, 0, 0),
        ("RMLO", "mass", 0.96, 0.33, 0.4, 73, 0, 0), ("LMLO", "mass", 0.93, 0.53, 0.6, 44, 0, 0),
        ("LMLO", "mass", 0.90, 0.62, 0.7, 74, 0, 0),
    ]:  # fmt: skip
        f = replace(finding(FindingKind(kind), 10, 10, score, m), fp_per_image=rate)
        marks = (ReaderMark(id=mark, view=View(view), image="img", x=12, y=12, kind=MarkKind.MASS),) if mark else ()
        category = Category.MATCHED if mark else Category.CAD_ONLY
        rows.append(MatchRow(category, View(view), f, marks, mm or None, nipple_mm=nipple, mm_estimated=True))
    other = ReaderMark(id=3, view=View.RCC, image="img", x=12, y=12, kind=MarkKind.OTHER)
    return [*rows, MatchRow(Category.READER_ONLY, View.RCC, None, (other,), nipple_mm=51, mm_estimated=True)]


def cell_room(tree: QtWidgets.QTreeWidget, item: QtWidgets.QTreeWidgetItem, column: int) -> int:
    """The pixels a cell's text gets: its column less the text margins (as QCommonStyle lays a cell out) and, in
    the first column, the row's indentation."""
    margin = tree.style().pixelMetric(QtWidgets.QStyle.PixelMetric.PM_FocusFrameHMargin, None, tree) + 1
    indent = tree.indentation() if column == 0 and item.parent() is not None else 0
    return tree.columnWidth(column) - 2 * margin - indent


def test_at_200_percent_on_a_2560_x_1600_screen_the_dock_shows_every_cell_whole(qtbot):
    """1280 x 800 logical pixels: the dock opens at 30 % of the window (384 px), where "mass 0.98 · M 0…" and
    "R1 mass (~5 m…" were cut: the malignancy is a column of its own, so every cell reads whole."""
    win, panel, dock = dock_window(qtbot, 1280, fit=True, rows=screenshot_rows(), height=250)
    tree = panel.tree
    assert dock.width() == pytest.approx(0.3 * win.width(), abs=2)  # the images keep 70 %
    assert tree.verticalScrollBar().isVisible(), "control: the list scrolls, its scroll bar takes room too"
    assert tree.horizontalScrollBar().maximum() == 0
    groups = [tree.topLevelItem(g) for g in range(tree.topLevelItemCount())]
    cells = [(g.child(r), c) for g in groups for r in range(g.childCount()) for c in range(tree.columnCount())]
    assert len(cells) == 12 * len(COLUMNS)
    fm = tree.fontMetrics()
    for item, col in cells:
        assert not tree.isColumnHidden(col), col
        assert fm.horizontalAdvance(item.text(col)) <= cell_room(tree, item, col), (item.text(col), col)
    assert not panel.cut_columns()


def test_a_list_shown_again_in_a_narrow_dock_gets_its_headers_whole_when_the_dock_widens(narrow, qtbot):
    """The widths were measured again for each new list (a mark added, the operating point moved) with the numbers'
    columns still hidden, which measured no header for them: widened, FP/img came back 26 px wide, its header cut
    to "F…", and the long headers were chosen for a table too narrow for them."""
    tree, header = narrow.tree, narrow.tree.header()
    assert narrow.hidden_columns(), "control: the narrow dock hides the numbers"
    narrow.show_rows(list(narrow.rows), "1 finding")  # the same list again, its columns still hidden
    narrow.resize(700, 300)
    qtbot.waitUntil(lambda: not narrow.hidden_columns(), timeout=2_000)
    assert [tree.headerItem().text(c) for c in (RATE, NIPPLE)] == ["FP/img", "Nipple mm"]
    for col in range(len(COLUMNS)):
        assert tree.columnWidth(col) >= header.sectionSizeHint(col), (COLUMNS[col], tree.columnWidth(col))
