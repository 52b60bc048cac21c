"""The findings panel: matched / CAD-only / reader-only on a planted case, and going to a row."""

from __future__ import annotations

import pytest

from mammoview.cad.types import FindingKind
from mammoview.gui.hanging_layout import Layout
from mammoview.gui.matching import Category, MatchRow, match_view
from mammoview.gui.read_state import MarkKind, ReaderMark, image_key
from mammoview.io.model import View
from tests.gui import cad_support
from tests.gui.cad_support import finding, planted_result

#: The shared CAD fixtures (tests/gui/cad_support.py), bound here so pytest finds them.
cad_models, cad_window = cad_support.cad_models, cad_support.cad_window


def mark(i: int, view: View, x: float, y: float, image: str = "img") -> ReaderMark:
    return ReaderMark(id=i, view=view, image=image, x=x, y=y, kind=MarkKind.MASS)


def test_rule_inside_box_or_within_10_mm_nearest_finding_wins():
    a = finding(FindingKind.MASS, 100, 100, half=20)
    b = finding(FindingKind.CALCIFICATION, 220, 100, half=5)
    marks = [
        mark(1, View.LCC, 115, 115),  # inside a's box
        mark(2, View.LCC, 170, 100),  # 5 mm from b's centre and 7 mm from a's -> b (nearest)
        mark(3, View.LCC, 100, 230),  # 13 mm below a: too far
        mark(4, View.LCC, 100, 195),  # 9.5 mm below a: within 10 mm
    ]
    rows = match_view([a, b], marks, View.LCC, spacing=(0.1, 0.1))
    by_finding = {id(r.finding): r for r in rows if r.finding is not None}
    assert [m.id for m in by_finding[id(a)].marks] == [1, 4]
    assert [m.id for m in by_finding[id(b)].marks] == [2]
    assert by_finding[id(b)].distance_mm == pytest.approx(5.0)
    assert [(r.category, r.marks[0].id) for r in rows if r.finding is None] == [(Category.READER_ONLY, 3)]
    # 10 mm is measured with the spacing the CAD used: 50 px are 5 mm at 0.1 mm/px, 25 mm at 0.5.
    assert match_view([b], [marks[1]], View.LCC, spacing=(0.1, 0.1))[0].category is Category.MATCHED
    assert match_view([b], [marks[1]], View.LCC, spacing=(0.5, 0.5))[0].category is Category.CAD_ONLY


@pytest.fixture()
def planted(cad_window, load, synthetic_study, qtbot):  # type: ignore[no-untyped-def]
    """R CC: calcification A and mass B; L CC: mass C; reader marks placed before the first read is done."""
    w = cad_window
    load(w, [synthetic_study])
    w.cad.set_result(planted_result(w, {
        View.RCC: [finding(FindingKind.CALCIFICATION, 90, 200, 0.9, 0.2), finding(FindingKind.MASS, 200, 350, 0.7)],
        View.LCC: [finding(FindingKind.MASS, 120, 300, 0.8, 0.7)],
    }))  # fmt: skip
    key = {v: image_key(p.image) for v, p in w.panels.items()}
    reader = w.cad.reader
    reader.add(View.RCC, key[View.RCC], 105, 215, MarkKind.CALCIFICATION)  # inside A's box
    reader.add(View.RCC, key[View.RCC], 260, 350, MarkKind.MASS)  # 6 mm from B's centre
    reader.add(View.RCC, key[View.RCC], 250, 100, MarkKind.OTHER)  # nothing there
    reader.add(View.LMLO, key[View.LMLO], 90, 200, MarkKind.MASS)  # A's position, but another view
    assert all(r.finding is None for r in w.cad.findings.rows), "no CAD in the list before the first read is done"
    w.commands["cad_first_read_done"].trigger()
    return w


def test_findings_panel_sorts_the_planted_case_into_categories(planted):
    panel = planted.cad.findings
    assert panel.counts() == {Category.MATCHED: 2, Category.CAD_ONLY: 1, Category.READER_ONLY: 2}
    matched = {(r.view, r.finding.kind, r.marks[0].id) for r in panel.rows if r.category is Category.MATCHED}
    assert matched == {(View.RCC, FindingKind.CALCIFICATION, 1), (View.RCC, FindingKind.MASS, 2)}
    (cad_only,) = [r for r in panel.rows if r.category is Category.CAD_ONLY]
    assert cad_only.view is View.LCC
    assert {r.marks[0].id for r in panel.rows if r.category is Category.READER_ONLY} == {3, 4}
    titles = [panel.tree.topLevelItem(i).text(0) for i in range(panel.tree.topLevelItemCount())]
    assert titles == ["Matched (2)", "CAD only (1)", "Reader only (2)"]
    assert "3 CAD finding(s)" in panel.note.text()
    # Switching a kind off removes its findings from the comparison too.
    planted.commands["cad_layer_mass"].trigger()
    assert panel.counts() == {Category.MATCHED: 1, Category.CAD_ONLY: 0, Category.READER_ONLY: 3}


def test_clicking_a_row_centres_the_view_on_it_and_highlights_it(planted, qtbot):
    panel = planted.cad.findings
    planted.set_layout_mode(Layout.MLO)  # L CC not visible: going there brings the 2x2 back
    index = next(i for i, r in enumerate(panel.rows) if r.category is Category.CAD_ONLY)
    lcc = planted.panels[View.LCC]
    fit_width = lcc.view_box.viewRange()[0][1] - lcc.view_box.viewRange()[0][0]
    panel.select_row(index)
    qtbot.wait(10)
    assert planted.hanging.layout_mode is Layout.FOUR and planted.active_view is View.LCC
    (x0, x1), (y0, y1) = lcc.view_box.viewRange()
    target = lcc.stored_to_scene(120, 300)
    assert (x0 + x1) / 2 == pytest.approx(target.x(), abs=1.0) and (y0 + y1) / 2 == pytest.approx(target.y(), abs=1.0)
    assert x1 - x0 < fit_width * 0.6  # zoomed in from the fit
    assert planted.cad.overlays[View.LCC]._highlight and not planted.cad.overlays[View.RCC]._highlight
    assert not lcc.fitted  # a resize does not snap back to the fit


def test_a_selected_finding_of_a_kind_switched_off_loses_its_highlight(planted, qtbot):
    """Its row leaves the list: the selection square (and the band) must not stay on screen, nor in an export."""
    w, panel = planted, planted.cad.findings
    panel.select_row(next(i for i, r in enumerate(panel.rows) if r.category is Category.CAD_ONLY))  # L CC mass
    qtbot.wait(10)
    assert w.cad.overlays[View.LCC]._highlight
    w.commands["cad_layer_mass"].trigger()
    assert not w.cad.overlays[View.LCC]._highlight
    assert not w.cad.band._items
    # a selected reader mark stays selected (its row is still listed)
    mark = next(m for m in w.cad.reader.marks if m.kind is MarkKind.OTHER)
    panel.select_row(next(i for i, r in enumerate(panel.rows) if r.marks and r.marks[0] is mark))
    qtbot.wait(10)
    w.commands["cad_layer_calcification"].trigger()
    assert w.cad.selected_mark is mark and w.cad.overlays[View.RCC]._highlight


def test_marks_after_the_first_read_are_flagged(planted):
    w = planted
    m = w.cad.reader.add(View.RCC, image_key(w.panels[View.RCC].image), 10, 10, MarkKind.MASS)
    assert m is not None and m.after_cad
    assert not any(x.after_cad for x in w.cad.reader.marks if x.id != m.id)


def test_scores_keep_their_order_readable_near_one():
    from mammoview.gui.findings_panel import row_text
    from mammoview.gui.marks import format_score, score_text
    from mammoview.gui.matching import MatchRow

    scores = (0.87, 0.9849, 0.9899, 0.9912, 0.9968, 0.99996)
    assert [format_score(p) for p in scores] == ["0.87", "0.98", "0.990", "0.991", "0.997", "1.000"]
    f = finding(FindingKind.MASS, 10, 10, 0.9968, 0.62)
    assert score_text(f) == "0.997<br>M 0.62"
    row = MatchRow(category=Category.CAD_ONLY, view=View.LCC, finding=f, marks=(), distance_mm=None)
    assert row_text(row)[1:5] == ["mass 0.997", "", "0.62", ""]  # no operating curve: no rate
    calc = MatchRow(Category.CAD_ONLY, View.LCC, finding(FindingKind.CALCIFICATION, 5, 5, 0.5, 0.2), (), None)
    assert row_text(calc)[1:4] == ["calc 0.50", "", "0.20"]


def test_false_marks_per_image_shown_beside_the_score(qtbot):
    from dataclasses import replace

    from mammoview.gui.findings_panel import FindingsPanel, row_text
    from mammoview.gui.marks import score_text
    from mammoview.gui.matching import MatchRow

    f = replace(finding(FindingKind.MASS, 10, 10, 0.9968, 0.62), fp_per_image=0.536)
    assert score_text(f) == "0.997 · 0.5 FP/img<br>M 0.62"
    row = MatchRow(category=Category.CAD_ONLY, view=View.LCC, finding=f, marks=(), distance_mm=None)
    assert row_text(row) == ["L CC", "mass 0.997", "", "0.62", "0.5", ""]
    assert row_text(replace(row, nipple_mm=41.6))[5] == "42"
    panel = FindingsPanel()
    qtbot.addWidget(panel)
    assert panel.tree.headerItem().text(4) == "FP/img" and "validation" in panel.tree.headerItem().toolTip(4)
    assert panel.tree.headerItem().text(2) == "Reader"  # beside the CAD column: both in view at the dock's width
    panel.show_rows([row], "1 finding")
    panel.select_row(0)
    assert panel.tree.currentItem().text(4) == "0.5"
    assert f.to_json(rates=True)["fp_per_image"] == 0.536 and "fp_per_image" not in f.to_json()


def dock_window(qtbot, width: int, fit: bool, rows: list[MatchRow] | None = None, height: int = 900):  # type: ignore[no-untyped-def]
    """A main window of ``width`` x ``height`` with the findings panel docked right, fitted on show when ``fit``,
    listing ``rows`` (default: one matched L MLO row)."""
    from dataclasses import replace

    from PySide6 import QtCore, QtWidgets

    from mammoview.gui.findings_panel import DockFit, FindingsPanel

    win = QtWidgets.QMainWindow()
    qtbot.addWidget(win)
    win.setCentralWidget(QtWidgets.QWidget())
    panel = FindingsPanel()
    dock = QtWidgets.QDockWidget("Findings", win)
    dock.setWidget(panel)
    win.addDockWidget(QtCore.Qt.DockWidgetArea.RightDockWidgetArea, dock)
    win.resize(width, height)
    if fit:
        DockFit(win, dock, panel.preferred_width)
    win.show()
    qtbot.waitExposed(win)
    if rows is None:
        f = replace(finding(FindingKind.MASS, 10, 10, 0.9961, 0.5), fp_per_image=0.25)
        rows = [MatchRow(Category.MATCHED, View.LMLO, f, (mark(12, View.LMLO, 12, 12),), 10.0, nipple_mm=120.0)]
    panel.show_rows(rows, f"{len(rows)} finding(s)")
    qtbot.wait(50)
    return win, panel, dock


def test_on_first_start_the_findings_dock_widens_until_every_column_shows(qtbot):
    _win, panel, _ = dock_window(qtbot, 1600, fit=False)
    assert panel.hidden_columns(), "control: at Qt's default dock width the numbers are hidden"
    assert not panel.tree.horizontalScrollBar().isVisible(), "(they fit the dock: no sideways scrolling)"
    _win, panel, dock = dock_window(qtbot, 1600, fit=True)
    shown = not panel.cut_columns() and not panel.hidden_columns()
    assert not panel.tree.horizontalScrollBar().isVisible() and shown, "every column in full"
    assert dock.width() >= panel.preferred_width() - 2
    _win, _, narrow = dock_window(qtbot, 900, fit=True)  # a small window keeps most of its width for the images
    assert narrow.width() <= int(0.3 * 900) + 2


def test_a_views_other_image_is_analysed_listed_and_shown_from_its_row(cad_window, load, tmp_path, qtbot):
    """A retake (or a large breast's second exposure) of L CC hangs behind the first; the CAD reads it too (a raw
    FOR PROCESSING image it does not), its findings are listed as 'L CC (2 of 2)', and going to such a row shows
    that image."""
    import dataclasses
    from pathlib import Path

    import pydicom

    from mammoview.cad.types import ImageCadResult
    from mammoview.gui.export_findings import export_json
    from mammoview.gui.findings_panel import row_text
    from tests.gui.conftest import SYNTHETIC_VIEWS, write_view

    folder = tmp_path / "retake"
    for view in SYNTHETIC_VIEWS:
        write_view(folder, f"{view}.dcm", view)
    retake = pydicom.dcmread(write_view(folder, "LCC_retake.dcm", "LCC"))
    retake.InstanceNumber, retake.PartialView = 2, "YES"  # e.g. a large breast's second exposure
    retake.save_as(folder / "LCC_retake.dcm")
    raw = pydicom.dcmread(write_view(folder, "RCC_raw.dcm", "RCC"))
    raw.PresentationIntentType, raw.InstanceNumber = "FOR PROCESSING", 2
    raw.save_as(folder / "RCC_raw.dcm")
    w = cad_window
    load(w, [folder])
    assert w.panels[View.LCC].image.path.name == "LCC.dcm"
    w.cad.run()
    qtbot.waitUntil(lambda: w.cad.result is not None, timeout=30_000)
    names = sorted(Path(r.path).name for r in w.cad.result.images)
    assert names == ["LCC.dcm", "LCC_retake.dcm", "LMLO.dcm", "RCC.dcm", "RMLO.dcm"]  # not the raw image
    # a planted finding on the retake (the tiny test network's own findings are random)
    result = planted_result(w, {View.LCC: [finding(FindingKind.MASS, 120, 300, 0.8)]})
    other = w.choices[View.LCC][1].image
    rows, cols = other.shape
    on_retake = ImageCadResult(path=str(other.path), width=cols, height=rows, view=View.LCC, pixel_spacing=(0.1, 0.1),
                               spacing_source="test", abnormal=0.9, malignant=0.3,
                               findings=(finding(FindingKind.MASS, 200, 100, 0.9),))  # fmt: skip
    w.cad.set_result(dataclasses.replace(result, images=(*result.images, on_retake)))
    w.commands["cad_first_read_done"].trigger()
    from mammoview.gui.score_labels import spacing_text

    guessed = dataclasses.replace(w.cad.result, images=tuple(dataclasses.replace(r, spacing_estimated=True)
                                                             for r in w.cad.result.images))  # fmt: skip
    assert spacing_text(guessed).startswith("No pixel spacing in the files of R CC, L CC, R MLO, L MLO:")  # L CC once
    panel = w.cad.findings
    (row,) = [r for r in panel.rows if r.note]
    assert row.view is View.LCC and row.note == "2 of 2" and row.finding.center == (200, 100)
    assert row_text(row)[0] == "L CC (2 of 2)" and "2 CAD finding(s)" in panel.note.text()
    doc = export_json(w, anonymize=True)
    assert [e["path"] for e in doc["images"]][-1] == "LCC (2 of 2)"
    from mammoview.gui.export_picture import legend_info

    # the picture shows L CC's first image: its legend says where the other findings are
    assert legend_info(w, True).elsewhere == "Not in this picture: L CC (2 of 2) 1 finding (JSON)"
    assert legend_info(w, True, [View.RCC]).elsewhere == ""  # an export of R CC alone
    assert [r["image"] for r in doc["matching"]["rows"] if r["view"] == "LCC"] == ["LCC", "LCC (2 of 2)"]
    panel.select_row(panel.rows.index(row))
    qtbot.wait(10)
    lcc = w.panels[View.LCC]
    assert lcc.image.path.name == "LCC_retake.dcm" and lcc.labels.title.text().endswith(
        "<small>(2 of 2) · partial</small>"
    )
    (x0, x1), (y0, y1) = lcc.view_box.viewRange()
    target = lcc.stored_to_scene(200, 100)
    assert (x0 + x1) / 2 == pytest.approx(target.x(), abs=1.0) and (y0 + y1) / 2 == pytest.approx(target.y(), abs=1.0)
    assert w.cad.overlays[View.LCC]._highlight
    # now the retake is shown and the first image is the other one
    lcc_rows = {(r.note, r.finding.center) for r in panel.rows if r.view is View.LCC}
    assert lcc_rows == {("", (200, 100)), ("1 of 2", (120, 300))}


def test_mm_from_a_guessed_spacing_are_marked_as_approximate(planted):
    """A file without a pixel spacing: the nipple distance and a match's distance in mm rest on the CAD's guess (a
    230 mm tall image); the findings panel marks them '~' (the viewer's lengths never use a guess)."""
    from dataclasses import replace

    from mammoview.gui.findings_panel import row_text
    from mammoview.gui.matching import _with_nipple

    w = planted
    result = next(r for r in w.cad.computed.images if r.view is View.LCC)
    mark = ReaderMark(id=1, view=View.LCC, image="x", x=100.0, y=120.0, kind=MarkKind.MASS)
    row = MatchRow(Category.MATCHED, View.LCC, None, (mark,), distance_mm=4.6)
    measured = _with_nipple(row, replace(result, nipple=(10.0, 120.0), spacing_estimated=False))
    guessed = _with_nipple(row, replace(result, nipple=(10.0, 120.0), spacing_estimated=True))
    assert measured.nipple_mm == guessed.nipple_mm is not None
    assert row_text(measured)[2:] == ["R1 mass (5 mm)", "", "", f"{measured.nipple_mm:.0f}"]
    assert row_text(guessed)[2:] == ["R1 mass (~5 mm)", "", "", f"~{guessed.nipple_mm:.0f}"]
