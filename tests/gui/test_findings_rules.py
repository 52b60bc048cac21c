"""Second-reader findings: the CC/MLO band, raw images, marks counted once, the operating point as applied, slices."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pydicom
import pytest

from mammoview.cad.operating import OperatingCurve
from mammoview.cad.types import FindingKind
from mammoview.gui.export_findings import export_json
from mammoview.gui.matching import Category
from mammoview.gui.read_state import MarkKind, image_key
from mammoview.io.model import View
from tests.gui import cad_support
from tests.gui.cad_support import PLANTED_MODEL, finding, planted_result
from tests.gui.conftest import SYNTHETIC_VIEWS, write_view
from tests.gui.test_frames import tomo_study  # noqa: F401  (fixture: L CC a volume only)

cad_models, cad_window = cad_support.cad_models, cad_support.cad_window


def test_the_band_is_drawn_towards_the_chest_wall_of_a_small_breast(cad_window, load, synthetic_study):
    """L CC is stored with its chest wall on the left (x = 0); a small breast's nipple lies left of the middle.
    The arcs must go from the nipple towards x = 0 (into the breast), not into the air beyond the nipple."""
    w = cad_window
    load(w, [synthetic_study])
    planted = planted_result(w, {View.LMLO: [finding(FindingKind.MASS, 316, 270, 0.8)]})  # 25 mm from its nipple
    images = tuple(replace(r, nipple=(0.4 * r.width, r.height / 2) if r.view is View.LCC else (0.2 * r.width,
                                                                                                r.height / 2))
                   for r in planted.images)  # fmt: skip
    w.cad.set_result(replace(planted, images=images))
    w.commands["cad_first_read_done"].trigger()
    lcc = next(r for r in images if r.view is View.LCC)
    assert w.panels[View.LCC].scene_to_stored(w.panels[View.LCC].stored_to_scene(0, 0))[0] == pytest.approx(0)
    panel = w.cad.findings
    (row,) = [r for r in panel.rows if r.finding is not None]
    panel.select_row(panel.rows.index(row))
    assert w.cad.band.view is View.LCC
    xs = np.concatenate([item.getData()[0] for item in w.cad.band.items() if hasattr(item, "getData")
                         and item.getData()[0] is not None and len(item.getData()[0]) > 3])  # fmt: skip
    nx = lcc.nipple[0]
    assert np.nanmax(xs) <= nx + 1e-6, "the arcs lie beyond the nipple, in the air, away from the chest wall"


def test_a_shown_raw_image_is_not_read_by_the_cad(cad_window, load, tmp_path, qtbot):
    """README: a raw (FOR PROCESSING) image is one 'neither a reader nor the CAD should read'; the CAD reads a view's
    other images 'except raw images'.  With the raw image up (D) when the CAD runs, it was read, its findings listed
    and counted in the breast's scores (and cached for the study)."""
    folder = tmp_path / "raw"
    for view in SYNTHETIC_VIEWS:
        write_view(folder, f"{view}.dcm", view)
    raw = pydicom.dcmread(write_view(folder, "RCC_raw.dcm", "RCC"))
    raw.PresentationIntentType, raw.InstanceNumber = "FOR PROCESSING", 2
    raw.save_as(folder / "RCC_raw.dcm")
    w = cad_window
    load(w, [folder])
    w.show_choice(View.RCC, 1)  # the reader looks at the raw image (D)
    assert w.panels[View.RCC].image.path.name == "RCC_raw.dcm"
    w.cad.run()
    qtbot.waitUntil(lambda: w.cad.result is not None, timeout=30_000)
    names = sorted(Path(r.path).name for r in w.cad.result.images)
    assert names == ["LCC.dcm", "LMLO.dcm", "RCC.dcm", "RMLO.dcm"]


def test_a_mark_on_an_image_filed_twice_is_counted_once(cad_window, load, tmp_path, qtbot):
    """The same file twice in a study (one SOP Instance UID): the study says so, and a mark shows on both copies;
    but it is one mark: listed once in the findings panel and the export's matching."""
    folder = tmp_path / "dup"
    for view in SYNTHETIC_VIEWS:
        write_view(folder, f"{view}.dcm", view)
    pydicom.dcmread(folder / "LCC.dcm").save_as(folder / "LCC_copy.dcm")
    w = cad_window
    load(w, [folder])
    assert len(w.choices[View.LCC]) == 2
    result = planted_result(w, {View.LCC: [finding(FindingKind.MASS, 120, 300, 0.8)]})
    copy = w.choices[View.LCC][1].image
    lcc = next(r for r in result.images if r.view is View.LCC)
    w.cad.set_result(replace(result, images=(*result.images, replace(lcc, path=str(copy.path)))))
    key = image_key(w.panels[View.LCC].image)
    w.cad.reader.add(View.LCC, key, 120, 305, MarkKind.MASS)  # on the finding
    w.cad.reader.add(View.LCC, key, 20, 20, MarkKind.MASS)  # nothing there
    w.commands["cad_first_read_done"].trigger()
    rows = w.cad.findings.rows
    listed = [m.id for r in rows for m in r.marks]
    assert sorted(listed) == [1, 2], f"each mark once, got {listed}"
    assert w.cad.findings.counts()[Category.READER_ONLY] == 1
    exported = [i for r in export_json(w)["matching"]["rows"] for i in r["marks"]]
    assert sorted(exported) == [1, 2]


def test_deleting_the_selected_mark_takes_its_band_away(cad_window, load, synthetic_study):
    w = cad_window
    load(w, [synthetic_study])
    r = planted_result(w, {View.LCC: [finding(FindingKind.MASS, 120, 300, 0.8)]})
    w.cad.set_result(replace(r, images=tuple(replace(x, nipple=(0.8 * x.width, x.height / 2)) for x in r.images)))
    w.commands["cad_first_read_done"].trigger()
    w.cad.reader.add(View.LCC, image_key(w.panels[View.LCC].image), 250, 100, MarkKind.MASS)
    panel = w.cad.findings
    panel.select_row(next(i for i, row in enumerate(panel.rows) if row.category is Category.READER_ONLY))
    assert w.cad.band.view is View.LMLO  # the band of the selected mark
    panel.delete_button.click()
    assert not w.cad.reader.marks
    assert w.cad.band.view is None and not w.cad.band.items(), "the band of a deleted mark stays on L MLO"


def test_the_export_names_only_an_operating_point_that_was_applied(cad_window, load, synthetic_study):
    """A rate saved from an earlier model (2 FP/img) with a model whose curve ends at 1.5 FP/img: the marks are cut at
    the loosest point of the Marks box (1 FP/img), which the box shows; the JSON and the note must not claim 2 FP/img.
    With a model without a curve the saved rate is not applied at all."""
    w = cad_window
    load(w, [synthetic_study])
    w.cad.set_operating_point(2.0)
    curve = OperatingCurve(thresholds=(0.99, 0.9, 0.6), fpi=(0.0, 0.5, 1.5), sensitivity=(0.1, 0.4, 0.6))
    model = replace(PLANTED_MODEL, finding_threshold=0.9, operating_curve=curve)
    w.cad.set_result(replace(planted_result(w, {}), model=model))
    w.commands["cad_first_read_done"].trigger()
    point = export_json(w)["display"]["operating_point"]
    assert point["validation_fp_per_image"] == pytest.approx(curve.fp_per_image(curve.threshold_for(1.0)), abs=1e-3)
    assert point["chosen_fp_per_image"] == 1.0 == w.cad.dock.operating.currentData(), point
    assert "2 FP/img" not in w.cad.findings.note.text()
    w.cad.set_result(planted_result(w, {}))  # no curve: the model's own threshold
    point = export_json(w)["display"]["operating_point"]
    assert point["chosen_fp_per_image"] is None, point


def test_a_click_on_a_slice_does_not_pick_a_mark_of_another_slice(main_window, load, tomo_study, qtbot):  # noqa: F811
    """A mark placed on slice 1 of a tomosynthesis volume is drawn there only; on slice 2 a click at the same place
    must place a new mark (or select nothing), not select the mark that is not drawn."""
    from tests.gui.test_frames import step

    w = main_window
    load(w, [tomo_study])
    w._activate(w.panels[View.LCC])
    panel = w.panels[View.LCC]
    mark = w.cad.marks_tool.place(panel, 120.0, 300.0)
    assert mark is not None and mark.frame == 0
    step(w, qtbot, "next_slice")
    assert panel.image.frame == 1 and not w.cad._panel_marks(panel)  # not drawn on slice 2
    scene = panel.view_box.mapViewToScene(panel.stored_to_scene(120.0, 300.0))
    assert w.cad.marks_tool.pick(panel, scene) is None, "picked a mark that is not on the slice shown"


def test_the_findings_note_says_how_many_are_of_a_kind_switched_off(cad_window, load, synthetic_study):
    """With calcifications switched off, the note said "2 CAD finding(s)" above groups that held one."""
    w = cad_window
    load(w, [synthetic_study])
    w.cad.set_result(planted_result(w, {View.RCC: [finding(FindingKind.MASS, 90, 200)],
                                        View.LCC: [finding(FindingKind.CALCIFICATION, 120, 300)]}))  # fmt: skip
    w.commands["cad_first_read_done"].trigger()
    note = w.cad.findings.note
    assert note.text().startswith("2 CAD finding(s) at")
    w.cad.set_flag("calcification", False)
    assert note.text().startswith("2 CAD finding(s) (1 of a kind switched off) at")
    assert len([r for r in w.cad.findings.rows if r.finding is not None]) == 1
