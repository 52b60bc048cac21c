"""Length measurements: the mm arithmetic, drawing by drag, selection/delete/undo, saving, reopening, export."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PySide6 import QtCore

from mammoview.gui.measure_tool import MEASURE_COLOR, length_of
from mammoview.gui.read_state import Measurement, ReadState
from mammoview.gui.read_store import ReadStore
from mammoview.io.header_model import PixelSpacing
from mammoview.io.model import View
from tests.gui import cad_support
from tests.gui.cad_support import grab_rgb
from tests.gui.conftest import drag

#: The shared CAD fixtures (tests/gui/cad_support.py), bound here so pytest finds them.
cad_models, cad_window = cad_support.cad_models, cad_support.cad_window

LEFT = QtCore.Qt.MouseButton.LeftButton
SPACING_MM = 0.1  # the synthetic study's pixel spacing


def device_point(panel, x: float, y: float) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    p = panel.view_box.mapViewToDevice(panel.stored_to_scene(x, y))
    return (p.x(), p.y())


def drag_stored(panel, p0, p1) -> None:  # type: ignore[no-untyped-def]
    """A left drag on the viewport from stored ``p0`` to stored ``p1``."""
    drag(panel.graphics.viewport(), device_point(panel, *p0), device_point(panel, *p1), LEFT)


def amber(rgb: np.ndarray) -> np.ndarray:
    """Mask of the measurement colour (#ffa000): red high, green middling, blue low."""
    c = rgb.astype(np.int16)
    return (c[..., 0] > 200) & (c[..., 1] > 120) & (c[..., 1] < 190) & (c[..., 2] < 80)


@pytest.fixture()
def study(cad_window, load, synthetic_study):  # type: ignore[no-untyped-def]
    load(cad_window, [synthetic_study])
    return cad_window


def test_length_uses_row_and_column_spacing_and_falls_back_to_pixels():
    aniso = PixelSpacing(row_mm=0.1, col_mm=0.05, source="test")
    # 30 columns x 0.05 mm = 1.5 mm across, 40 rows x 0.1 mm = 4 mm down
    assert length_of((10, 20), (40, 60), aniso).value == pytest.approx(np.hypot(1.5, 4.0))
    assert length_of((10, 20), (40, 60), aniso).text == "4.3 mm"
    unknown = length_of((10, 20), (40, 60), None)
    assert (unknown.value, unknown.unit, unknown.text) == (50.0, "px", "50 px")


def test_a_drag_in_measure_mode_saves_a_line_in_stored_pixels_without_panning(study, qtbot):
    rcc = study.panels[View.RCC]  # stored with the chest wall on the wrong side: the display flips it
    rng = rcc.view_box.viewRange()
    before = grab_rgb(rcc)
    study.commands["measure"].trigger()
    assert study.cad.measure_tool.enabled and rcc.view_box.measure_mode
    drag_stored(rcc, (60, 150), (120, 230))  # 60 x 80 px = 100 px = 10 mm
    (m,) = study.cad.reader.measurements
    assert m.view is View.RCC and (m.x0, m.y0) == pytest.approx((60, 150), abs=1.5)
    assert (m.x1, m.y1) == pytest.approx((120, 230), abs=1.5)
    length = study.cad.measure_tool.length(m)
    assert length.unit == "mm" and length.value == pytest.approx(10.0, abs=0.25)
    assert rcc.view_box.viewRange() == rng  # the drag measured, it did not pan
    # Drawn: amber pixels appear along the line, and its label reads the length.
    after = grab_rgb(rcc)
    assert amber(after).sum() > 3 * amber(before).sum() + 50
    labels = [i for i in study.cad.measure_tool.items(View.RCC) if hasattr(i, "textItem")]
    assert [i.textItem.toPlainText() for i in labels] == [length.text]
    # Saved at once, in the read state of the study.
    doc = json.loads(study.cad.reader.store.path_for(study.cad.reader.study_key).read_text())
    assert [d["id"] for d in doc["state"]["measurements"]] == [m.id]
    # A click-sized drag measures nothing.
    drag_stored(study.panels[View.LCC], (100, 100), (100.5, 100.5))
    assert len(study.cad.reader.measurements) == 1


def test_select_delete_undo_and_modes_exclude_each_other(study, qtbot):
    rcc = study.panels[View.RCC]
    study.commands["cad_mark_mode"].trigger()
    study.commands["measure"].trigger()  # measure ends mark mode
    assert not study.cad.marks_tool.enabled and not study.commands["cad_mark_mode"].isChecked()
    drag_stored(rcc, (60, 150), (120, 230))
    drag_stored(rcc, (200, 50), (200, 120))
    assert [m.id for m in study.cad.reader.measurements] == [1, 2]
    vp = rcc.graphics.viewport()
    x, y = device_point(rcc, 90, 190)  # the middle of the first line
    qtbot.mouseClick(vp, LEFT, pos=QtCore.QPoint(round(x), round(y)))
    assert study.cad.measure_tool.selected is not None and study.cad.measure_tool.selected.id == 1
    study.commands["cad_delete_mark"].trigger()
    assert [m.id for m in study.cad.reader.measurements] == [2]
    study.commands["cad_undo"].trigger()
    assert [m.id for m in study.cad.reader.measurements] == [1, 2]
    study.commands["cad_redo"].trigger()
    assert [m.id for m in study.cad.reader.measurements] == [2]
    # Listed in the findings panel; a row centres the view on it, and the panel's button deletes it.
    tree = study.cad.findings.tree
    group = tree.topLevelItem(tree.topLevelItemCount() - 1)
    assert group.text(0) == "Your measurements (1)" and group.child(0).text(2) == "M2 7.0 mm"
    tree.setCurrentItem(group.child(0))
    assert study.cad.measure_tool.selected.id == 2 and study.active_panel() is rcc
    study.cad.findings.delete_button.click()
    assert study.cad.reader.measurements == ()
    study.commands["cad_undo"].trigger()
    # No reader mark was placed by any of these clicks and drags.
    assert study.cad.reader.marks == ()
    study.commands["wl_mode"].trigger()  # left-drag window/level ends measure mode
    assert not study.cad.measure_tool.enabled and not rcc.view_box.measure_mode
    study.commands["measure"].trigger()
    assert study.cad.measure_tool.enabled and not study.commands["wl_mode"].isChecked()


def test_measurements_come_back_after_reopening_and_are_exported(study, load, synthetic_study, qtbot, tmp_path):
    from mammoview.gui.export import export_study
    from mammoview.gui.main_window import MainWindow

    study.commands["measure"].trigger()
    drag_stored(study.panels[View.LMLO], (100, 100), (100, 250))  # 150 px down = 15 mm
    before = study.cad.reader.measurements
    study.close()

    again = MainWindow()
    qtbot.addWidget(again)
    again.resize(1000, 760)
    again.show()
    load(again, [synthetic_study])
    try:
        assert again.cad.reader.measurements == before
        assert len(again.cad.measure_tool.items(View.LMLO)) > 0
        out = export_study(again, tmp_path / "read.png")
        doc = json.loads(out.json.read_text())
        (m,) = doc["measurements"]
        assert m["unit"] == "mm" and m["length"] == pytest.approx(150 * SPACING_MM, abs=0.3)
        assert m["view"] == "LMLO" and m["image"] == "LMLO"  # anonymised: no file name or UID
        assert m["uid"] == before[0].uid and before[0].uid  # (its identity: random, it names nobody)
    finally:
        again.cad.shutdown()


def test_read_state_files_without_measurements_still_load(tmp_path):
    store = ReadStore(tmp_path)
    store.save("P_00001", ReadState(first_read_done=True))
    doc = json.loads(store.path_for("P_00001").read_text())
    del doc["state"]["measurements"]  # a file written before measurements existed
    store.path_for("P_00001").write_text(json.dumps(doc))
    state = store.load("P_00001")
    assert state.first_read_done and state.measurements == ()
    m = Measurement(1, View.LCC, "img", 1.0, 2.0, 3.0, 4.0, "t")
    assert Measurement.from_json(m.to_json()) == m


def test_measurement_colour_is_the_one_the_pixel_check_looks_for():
    rgb = np.array([[[int(MEASURE_COLOR[i : i + 2], 16) for i in (1, 3, 5)]]], dtype=np.uint8)
    assert amber(rgb).all()


def test_the_cross_cursor_stays_while_a_tool_is_on_after_the_magnifier_goes_off(study):
    vp = study.panels[View.LCC].graphics.viewport()
    cross, arrow = QtCore.Qt.CursorShape.CrossCursor, QtCore.Qt.CursorShape.ArrowCursor
    study.commands["measure"].trigger()
    study.commands["magnifier"].trigger()
    study.commands["magnifier"].trigger()  # off again: measure mode still wants the cross
    assert vp.cursor().shape() == cross
    study.commands["measure"].trigger()
    assert vp.cursor().shape() == arrow


def test_del_does_not_delete_a_measurement_the_layout_hides(study):
    w = study
    tool = w.cad.measure_tool
    m = tool.measure(w.panels[View.LMLO], (40.0, 50.0), (140.0, 50.0))
    tool.select(m)
    w.commands["layout_cc"].trigger()  # the MLO pair off screen
    w.cad.findings.tree.setCurrentItem(None)
    w.cad.delete_selected_mark()
    assert w.cad.reader.measurement(m.id) is not None


def test_a_length_at_the_detector_plane_says_so():
    """A spacing measured at the detector (Imager Pixel Spacing without a magnification factor, or a film's scanned
    spacing) makes a length through the breast read larger by the geometric magnification (~1.1 on a contact view,
    1.5-2 on a magnification view): the label said a plain 'mm', only the File header dialog told (IHE Mammography
    Image asks the display to say which plane a measurement is in)."""
    detector = PixelSpacing(0.1, 0.1, "ImagerPixelSpacing (0018,1164)", at_detector=True)
    assert length_of((0, 0), (100, 0), detector).text == "10.0 mm at detector"
    assert length_of((0, 0), (100, 0), PixelSpacing(0.1, 0.1, "PixelSpacing (0028,0030)")).text == "10.0 mm"
