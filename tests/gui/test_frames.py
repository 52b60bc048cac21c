"""Stepping through a tomosynthesis volume's slices (Image ▸ Next / Previous slice, Down / Up)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pydicom
import pytest
from PySide6 import QtCore
from PySide6.QtTest import QTest

from mammoview.io.model import LoadError, View
from mammoview.io.reader import decode_frame, read_image
from tests.gui.conftest import SYNTHETIC_VIEWS, write_view

FRAMES = 5
TOMO_CLASS = "1.2.840.10008.5.1.4.1.1.13.1.3"  # Breast Tomosynthesis Image Storage


def slice_pixels(frame: int, view: str = "LCC") -> np.ndarray:
    """Frame ``frame`` of the synthetic volume of ``view``: its breast, each slice a different constant offset."""
    _lat, _proj, side, rows, cols, seed, blobs = SYNTHETIC_VIEWS[view]
    from tests.synthetic import synthetic_breast

    base = synthetic_breast(rows, cols, chest_wall=side, blobs=blobs, seed=seed).astype(np.int32)
    return np.clip(base + 100 * frame, 0, 4095).astype(np.uint16)


def write_tomo(path: Path, view: str = "LCC") -> Path:
    """A 5-frame Breast Tomosynthesis image of ``view`` (uncompressed), frame k = slice_pixels(k, view)."""
    ds = pydicom.dcmread(write_view(path.parent, path.name, view))
    ds.SOPClassUID = ds.file_meta.MediaStorageSOPClassUID = TOMO_CLASS
    ds.NumberOfFrames = FRAMES
    ds.BitsStored, ds.HighBit = 12, 11
    ds.PixelData = b"".join(slice_pixels(k, view).tobytes() for k in range(FRAMES))
    ds.save_as(path)
    return path


@pytest.fixture()
def tomo_study(tmp_path: Path) -> Path:
    """R CC, R MLO, L MLO as 2-D images and L CC as a tomosynthesis volume only."""
    folder = tmp_path / "dbt"
    for view in ("RCC", "RMLO", "LMLO"):
        write_view(folder, f"{view}.dcm", view)
    write_tomo(folder / "LCC_tomo.dcm")
    return folder


def test_decode_frame_reads_one_frame(tomo_study):
    image = read_image(tomo_study / "LCC_tomo.dcm")
    assert image.frame == 0 and image.info.frames == FRAMES
    np.testing.assert_array_equal(image.stored, slice_pixels(0))
    third = decode_frame(image, 2)
    assert third.frame == 2 and third.display == image.display and third.info is image.info
    np.testing.assert_array_equal(third.stored, slice_pixels(2))
    with pytest.raises(LoadError, match="no frame 6: the image has 5"):
        decode_frame(image, 5)
    with pytest.raises(LoadError, match="a single image"):
        decode_frame(read_image(tomo_study / "RCC.dcm"), 1)


def step(window, qtbot, action: str):  # type: ignore[no-untyped-def]
    with qtbot.waitSignal(window.frames.frameShown, timeout=20_000) as blocker:
        window.commands[action].trigger()
    return blocker.args[1]


@pytest.fixture()
def opened(main_window, load, tomo_study):  # type: ignore[no-untyped-def]
    load(main_window, [tomo_study])
    main_window._activate(main_window.panels[View.LCC])
    return main_window


def test_slices_step_keeping_zoom_pan_and_window(opened, qtbot):
    w = opened
    panel = w.panels[View.LCC]
    assert "tomosynthesis frame 1 of 5" in panel.labels.title.text()
    panel.view_box.scaleBy((0.5, 0.5))  # the reader zoomed in
    w.image_controls.drag(40, -20)  # and set a window
    ranges, window = panel.view_box.viewRange(), panel.window_state
    shown = step(w, qtbot, "next_slice")
    assert panel.display is shown and panel.image.frame == 1 and "frame 2 of 5" in panel.labels.title.text()
    np.testing.assert_array_equal(panel.image.stored, slice_pixels(1))
    assert panel.view_box.viewRange() == ranges and panel.window_state == window
    assert w.choices[View.LCC] == [shown]  # the view's image list holds the slice shown (D still works)
    step(w, qtbot, "next_slice_10")
    assert panel.image.frame == FRAMES - 1 and "frame 5 of 5" in panel.labels.title.text()  # clamped
    w.commands["next_slice"].trigger()
    assert w.statusBar().currentMessage() == "L CC: last slice (5 of 5)."
    step(w, qtbot, "previous_slice_10")
    assert panel.image.frame == 0
    held = [d for d in w._windows if d.image.path == panel.image.path]
    assert held == [panel.display]  # the slices stepped past are not kept (a volume has ~60 of ~10 MB each)


def test_keys_pressed_faster_than_slices_decode_add_up(opened, qtbot):
    w = opened
    shown = []
    w.frames.frameShown.connect(lambda _view, display: shown.append(display.image.frame))
    for _ in range(3):
        w.commands["next_slice"].trigger()  # before the first slice is decoded
    qtbot.waitUntil(lambda: w.panels[View.LCC].image.frame == 3, timeout=20_000)
    qtbot.wait(100)
    assert shown[-1] == 3 and w.panels[View.LCC].image.frame == 3


def test_a_single_image_says_what_the_keys_are_for(opened, qtbot):
    w = opened
    w._activate(w.panels[View.RCC])
    w.commands["next_slice"].trigger()
    assert w.statusBar().currentMessage().startswith("R CC shows a single image: Next / Previous slice step through")
    assert w.panels[View.RCC].image.frame == 0


def test_arrow_keys_step_slices_in_the_images_and_rows_in_the_lists(opened, qtbot):
    w = opened
    w.activateWindow()
    qtbot.waitActive(w)
    viewport = w.panels[View.LCC].graphics
    viewport.setFocus()
    with qtbot.waitSignal(w.frames.frameShown, timeout=20_000):
        QTest.keyClick(viewport, QtCore.Qt.Key.Key_Down)
    assert w.panels[View.LCC].image.frame == 1
    tree = w.worklist_panel.tree
    w.worklist_dock.show()
    tree.setFocus()
    QTest.keyClick(tree, QtCore.Qt.Key.Key_Down)
    qtbot.wait(50)
    assert w.panels[View.LCC].image.frame == 1 and not w.frames.busy  # the list kept its arrow key


def slow_decoding(monkeypatch, seconds: float) -> None:  # type: ignore[no-untyped-def]
    """Slices decode as slowly as a large compressed volume's (the synthetic ones take a millisecond)."""
    import time

    from mammoview.gui import frames

    real = frames.decode_frame
    monkeypatch.setattr(frames, "decode_frame", lambda image, k: (time.sleep(seconds), real(image, k))[1])


def test_a_held_key_scrolls_at_the_decoders_pace_and_ends_on_the_last_slice(opened, qtbot, monkeypatch):
    w = opened
    slow_decoding(monkeypatch, 0.15)
    shown: list[int] = []
    w.frames.frameShown.connect(lambda _view, display: shown.append(display.image.frame))
    presses = 0
    while not shown and presses < 500:  # key autorepeat, every 30 ms, until a slice is drawn (however slow)
        w.commands["next_slice"].trigger()
        presses += 1
        qtbot.wait(30)
    assert shown == [1]  # a slice was drawn while the key was still down
    for _ in range(3):  # the key is still held a little longer
        w.commands["next_slice"].trigger()
        qtbot.wait(30)
    qtbot.waitUntil(lambda: w.panels[View.LCC].image.frame == FRAMES - 1 and not w.frames.busy, timeout=20_000)
    assert shown[-1] == FRAMES - 1 and len(shown) <= 3  # no decode per key press: 1, then the last asked for


def test_two_views_step_on_their_own(main_window, load, tmp_path, qtbot, monkeypatch):
    w = main_window
    folder = tmp_path / "two"
    write_tomo(folder / "LCC_tomo.dcm")
    write_tomo(folder / "RCC_tomo.dcm", "RCC")
    load(w, [folder])
    slow_decoding(monkeypatch, 0.1)
    for view in (View.LCC, View.RCC):  # one key on L CC, then at once one on R CC
        w._activate(w.panels[view])
        w.commands["next_slice"].trigger()
    qtbot.waitUntil(lambda: all(w.panels[v].image.frame == 1 for v in (View.LCC, View.RCC)), timeout=20_000)
    np.testing.assert_array_equal(w.panels[View.RCC].image.stored, slice_pixels(1, "RCC"))


def play(w, rate: int = 30) -> list[int]:  # type: ignore[no-untyped-def]
    """Start the cine of the active view at ``rate``; returns the list the slices drawn are appended to."""
    w.frames.set_cine_rate(rate)
    shown: list[int] = []
    w.frames.frameShown.connect(lambda _view, display: shown.append(display.image.frame))
    w.commands["cine"].trigger()
    return shown


def test_cine_sweeps_back_and_forth_one_slice_at_a_time_and_p_stops_it(opened, qtbot):
    w = opened
    shown = play(w)
    assert w.frames.cine_view is View.LCC
    qtbot.waitUntil(lambda: len(shown) >= 2 * FRAMES, timeout=20_000)
    w.commands["cine"].trigger()
    assert w.frames.cine_view is None and w.statusBar().currentMessage() == "L CC: cine stopped."
    qtbot.waitUntil(lambda: not w.frames.busy, timeout=20_000)  # a slice on its way when P was pressed lands
    stopped = list(shown)
    qtbot.wait(150)  # and nothing more is asked for
    assert shown == stopped
    assert stopped[:10] == [1, 2, 3, 4, 3, 2, 1, 0, 1, 2]  # a sweep: every slice in order, back from either end
    assert not w.frames.busy and w.panels[View.LCC].image.frame == stopped[-1]


def test_cine_never_queues_slices_faster_than_they_decode(opened, qtbot, monkeypatch):
    w = opened
    slow_decoding(monkeypatch, 0.12)  # ~8 slices a second at most, asked for at 30
    shown = play(w)
    qtbot.waitUntil(lambda: len(shown) >= 6, timeout=20_000)
    w.frames.stop_cine()
    qtbot.waitUntil(lambda: not w.frames.busy, timeout=20_000)
    steps = np.diff([0, *shown])
    assert set(np.abs(steps)) == {1}  # each beat waited for the slice before it: none skipped, none stale


def test_a_slice_key_another_image_or_a_2d_view_end_or_refuse_the_cine(main_window, load, tomo_study, qtbot):
    w = main_window
    load(w, [tomo_study])
    w._activate(w.panels[View.RCC])
    w.commands["cine"].trigger()  # a 2-D view: nothing to play
    assert w.frames.cine_view is None
    assert w.statusBar().currentMessage().startswith("R CC shows a single image: Play slices sweeps through")
    w._activate(w.panels[View.LCC])
    w.commands["cine"].trigger()  # asks for slice 2 at once
    w.commands["previous_slice"].trigger()  # the reader takes over before it is drawn: back to slice 1
    assert w.frames.cine_view is None
    qtbot.waitUntil(lambda: not w.frames.busy, timeout=20_000)
    qtbot.wait(50)
    assert w.panels[View.LCC].image.frame == 0  # the slice decoding meanwhile was not drawn
    w.commands["cine"].trigger()
    assert w.frames.cine_view is View.LCC
    load(w, [tomo_study / "RCC.dcm", tomo_study / "RMLO.dcm"])  # another study: the panel moved on
    qtbot.waitUntil(lambda: w.frames.cine_view is None, timeout=5_000)


def test_cine_speed_is_saved_and_a_bad_saved_value_is_the_default(main_window, qtbot):
    from mammoview.gui.frames import DEFAULT_CINE_RATE, FrameStepper

    w = main_window
    assert w.frames.cine_rate == DEFAULT_CINE_RATE == 10
    for _ in range(2):
        w.commands["cine_faster"].trigger()
    assert w.frames.cine_rate == 20 and w.statusBar().currentMessage().startswith("Cine: 20 slices per second")
    assert FrameStepper(w).cine_rate == 20  # read back from the settings
    for _ in range(5):
        w.commands["cine_slower"].trigger()
    assert w.frames.cine_rate == 5  # the slowest, not past it
    w.frames.set_cine_rate(20)
    w.settings.set_value("image/cine_rate", "7")
    assert FrameStepper(w).cine_rate == DEFAULT_CINE_RATE
    with pytest.raises(ValueError, match="cine rate 7"):
        w.frames.set_cine_rate(7)


def test_a_slice_keeps_the_findings_selection(opened, qtbot):
    w = opened
    lcc = w.panels[View.LCC]
    w.cad.marks_tool.place(lcc, 100.0, 200.0)  # the reader's mark on the volume's first slice
    panel = w.cad.findings
    panel.select_row(0)
    selected = panel.selected_row()
    assert selected is not None and selected.marks
    step(w, qtbot, "next_slice")
    assert panel.selected_row() is selected  # the list was not rebuilt under the reader
    assert lcc.image.frame == 1 and not w.cad.overlays[View.LCC].layers["reader"]  # the mark is slice 1's


class Wheel:
    """The part of a QGraphicsSceneWheelEvent the ViewBox reads."""

    def __init__(self, delta: int, ctrl: bool = False, horizontal: bool = False) -> None:
        self._delta, self._ctrl, self._horizontal, self.accepted = delta, ctrl, horizontal, False

    def delta(self) -> int:
        return self._delta

    def orientation(self):  # type: ignore[no-untyped-def]
        return QtCore.Qt.Orientation.Horizontal if self._horizontal else QtCore.Qt.Orientation.Vertical

    def modifiers(self):  # type: ignore[no-untyped-def]
        none, ctrl = QtCore.Qt.KeyboardModifier.NoModifier, QtCore.Qt.KeyboardModifier.ControlModifier
        return ctrl if self._ctrl else none

    def accept(self) -> None:
        self.accepted = True


def test_the_wheel_steps_a_volumes_slices_and_ctrl_wheel_zooms(opened, qtbot, monkeypatch):
    w = opened
    w._activate(w.panels[View.RCC])
    box = w.panels[View.LCC].view_box
    with qtbot.waitSignal(w.frames.frameShown, timeout=20_000):
        box.wheelEvent(Wheel(-120))  # one notch towards the reader, over L CC
    assert w.active_view is View.LCC and w.panels[View.LCC].image.frame == 1
    zoomed = []
    monkeypatch.setattr(type(box).__mro__[1], "wheelEvent", lambda self, ev, axis=None: zoomed.append(ev))
    box.wheelEvent(Wheel(120, ctrl=True))
    w.panels[View.RCC].view_box.wheelEvent(Wheel(120))  # a 2-D image: the wheel zooms as everywhere
    assert len(zoomed) == 2 and w.panels[View.LCC].image.frame == 1


def test_a_mark_on_a_slice_shows_on_that_slice_and_its_row_goes_back_to_it(opened, qtbot):
    from mammoview.gui.findings_panel import row_text
    from mammoview.gui.read_state import ReaderMark

    w = opened
    lcc, overlay = w.panels[View.LCC], w.cad.overlays[View.LCC]
    step(w, qtbot, "next_slice")
    step(w, qtbot, "next_slice")
    mark = w.cad.marks_tool.place(lcc, 120.0, 220.0)
    assert mark is not None and mark.frame == 2 and overlay.layers["reader"]
    assert ReaderMark.from_json(mark.to_json()) == mark and mark.to_json()["frame"] == 2
    older = {k: v for k, v in mark.to_json().items() if k != "frame"}  # a read saved before slices existed
    assert ReaderMark.from_json(older).frame is None
    flat = w.cad.marks_tool.place(w.panels[View.RCC], 50.0, 60.0)
    assert flat is not None and flat.frame is None and "frame" not in flat.to_json()  # a 2-D image's mark
    step(w, qtbot, "next_slice")
    assert not overlay.layers["reader"]  # slice 4 does not show slice 3's mark
    step(w, qtbot, "previous_slice_10")
    panel = w.cad.findings
    index = next(i for i, r in enumerate(panel.rows) if mark in r.marks)
    assert row_text(panel.rows[index])[2] == "R1 mass · slice 3"
    with qtbot.waitSignal(w.frames.frameShown, timeout=20_000):
        panel.select_row(index)  # the row takes the reader back to the slice the mark is on
    assert lcc.image.frame == 2 and overlay.layers["reader"] and overlay._highlight  # drawn and highlighted


def test_a_measurement_on_a_slice_belongs_to_it(opened, qtbot):
    w = opened
    lcc = w.panels[View.LCC]
    step(w, qtbot, "next_slice")
    m = w.cad.measure_tool.measure(lcc, (50.0, 60.0), (150.0, 60.0))
    assert m is not None and m.frame == 1 and w.cad.measure_tool.panel_measurements(lcc) == [m]
    step(w, qtbot, "next_slice")
    assert w.cad.measure_tool.panel_measurements(lcc) == []


def test_touchpad_deltas_add_up_to_notches_and_a_horizontal_swipe_is_no_slice(opened, qtbot, monkeypatch):
    w = opened
    box = w.panels[View.LCC].view_box
    passed: list[object] = []  # events left to pyqtgraph's own wheel handling (zoom / pan)
    monkeypatch.setattr(type(box).__mro__[1], "wheelEvent", lambda self, ev, axis=None: passed.append(ev))
    asked: list[int] = []
    w.panels[View.LCC].sliceWheel.connect(lambda _panel, steps: asked.append(steps))
    for _ in range(11):
        box.wheelEvent(Wheel(-10))  # a high-resolution touchpad: eleven twelfths of a notch
    assert asked == []
    box.wheelEvent(Wheel(-10))
    box.wheelEvent(Wheel(-360))  # a fast spin: three notches in one event
    box.wheelEvent(Wheel(-120, horizontal=True))
    assert asked == [1, 3] and len(passed) == 1
    qtbot.waitUntil(lambda: w.panels[View.LCC].image.frame == 4 and not w.frames.busy, timeout=20_000)


@pytest.fixture()
def dbt_exam(main_window, load, tmp_path):  # type: ignore[no-untyped-def]
    """A DBT exam: every view's 2-D image, and L CC's volume behind its 2-D view."""
    folder = tmp_path / "exam"
    for view in SYNTHETIC_VIEWS:
        write_view(folder, f"{view}.dcm", view)
    write_tomo(folder / "LCC_tomo.dcm")
    load(main_window, [folder])
    assert main_window.panels[View.LCC].image.info.frames == 1  # the 2-D view hangs
    main_window._activate(main_window.panels[View.LCC])
    return main_window


def test_a_slice_marks_row_opens_the_volume_at_its_slice_from_the_2d_view(dbt_exam, qtbot):
    w = dbt_exam
    lcc = w.panels[View.LCC]
    w.commands["next_duplicate"].trigger()  # D: the volume
    step(w, qtbot, "next_slice")
    step(w, qtbot, "next_slice")
    mark = w.cad.marks_tool.place(lcc, 120.0, 220.0)
    m = w.cad.measure_tool.measure(lcc, (50.0, 60.0), (150.0, 60.0))
    step(w, qtbot, "next_slice")  # on to slice 4, then back to the 2-D view
    w.commands["next_duplicate"].trigger()
    assert lcc.image.info.frames == 1
    panel = w.cad.findings
    index = next(i for i, r in enumerate(panel.rows) if mark in r.marks)
    with qtbot.waitSignal(w.frames.frameShown, timeout=20_000):
        panel.select_row(index)  # the locked list (first read in progress)
    assert lcc.image.info.frames == FRAMES and lcc.image.frame == 2
    w.commands["next_duplicate"].trigger()
    w.cad.focus_measurement(m)  # the volume comes back at the slice last shown, the measurement's own
    assert lcc.image.info.frames == FRAMES and lcc.image.frame == 2 and w.cad.measure_tool.selected == m


def test_del_does_not_delete_what_the_slice_shown_does_not_draw(dbt_exam, qtbot):
    w = dbt_exam
    lcc = w.panels[View.LCC]
    w.commands["next_duplicate"].trigger()
    step(w, qtbot, "next_slice")
    m = w.cad.measure_tool.measure(lcc, (50.0, 60.0), (150.0, 60.0))
    w.cad.measure_tool.select(m)
    mark = w.cad.marks_tool.place(lcc, 120.0, 220.0)
    w.cad.selected_mark = mark
    step(w, qtbot, "next_slice")  # neither is drawn on this slice
    assert w.cad.measure_tool.selected is None and w.cad.selected_mark is None
    w.cad.findings.tree.setCurrentItem(None)
    w.cad.delete_selected_mark()
    assert w.cad.reader.measurement(m.id) is not None and w.cad.reader.mark(mark.id) is not None


def test_after_the_first_read_a_volumes_marks_stay_listed_while_the_2d_view_is_shown(dbt_exam, qtbot):
    from mammoview.gui.findings_panel import row_text

    w = dbt_exam
    lcc = w.panels[View.LCC]
    w.commands["next_duplicate"].trigger()
    step(w, qtbot, "next_slice")
    mark = w.cad.marks_tool.place(lcc, 120.0, 220.0)
    w.commands["next_duplicate"].trigger()  # the 2-D view again
    w.commands["cad_first_read_done"].trigger()
    rows = [r for r in w.cad.match_rows() if mark in r.marks]
    assert len(rows) == 1 and rows[0].note == "2 of 2"
    assert row_text(rows[0])[:3] == ["L CC (2 of 2)", "", "R1 mass · slice 2"]


def test_an_anonymised_export_names_a_volumes_marks_apart_from_the_2d_views(dbt_exam, qtbot, tmp_path):
    import json

    from mammoview.gui.export import export_study

    w = dbt_exam
    lcc = w.panels[View.LCC]
    w.cad.marks_tool.place(lcc, 60.0, 70.0)  # on the 2-D view
    w.commands["next_duplicate"].trigger()
    step(w, qtbot, "next_slice")
    w.cad.marks_tool.place(lcc, 120.0, 220.0)  # on the volume's second slice
    shown = json.loads(export_study(w, tmp_path / "slice.png").json.read_text())["slices_shown"]
    assert shown == {"LCC": {"image": "LCC", "frame": 1, "frames": FRAMES}}  # the picture shows slice 2 of L CC
    w.commands["next_duplicate"].trigger()
    doc = json.loads(export_study(w, tmp_path / "x.png").json.read_text())
    assert [(m["image"], m.get("frame")) for m in doc["reader_marks"]] == [("LCC", None), ("LCC (2 of 2)", 1)]
    assert doc["slices_shown"] == {}  # the 2-D view hangs again


def comparison_exams(folder: Path, volume_spacing: tuple[float, float], prior_volume_only: bool = False) -> Path:
    """One patient's 2024 exam (2-D views at 0.1 mm, an L CC volume at ``volume_spacing``) and 2022 exam."""
    current = {"study_uid": "1.2.3.24", "study_date": "20240601", "patient_id": "PAT-1"}
    prior = {"study_uid": "1.2.3.22", "study_date": "20220515", "patient_id": "PAT-1"}
    for view in SYNTHETIC_VIEWS:
        write_view(folder / "a-2024", f"{view}.dcm", view, **current)
        if not (prior_volume_only and view == "LCC"):
            write_view(folder / "b-2022", f"{view}.dcm", view, **prior)
    for name, uid, date, spacing in (("a-2024", "1.2.3.24", "20240601", volume_spacing),
                                     ("b-2022", "1.2.3.22", "20220515", (0.1, 0.1))):  # fmt: skip
        if name == "b-2022" and not prior_volume_only:
            continue
        path = write_tomo(folder / name / "LCC_tomo.dcm")
        ds = pydicom.dcmread(path)
        ds.StudyInstanceUID, ds.StudyDate, ds.PatientID = uid, date, "PAT-1"
        ds.PixelSpacing = [f"{spacing[0]:g}", f"{spacing[1]:g}"]
        ds.save_as(path)
    return folder


def test_d_in_a_comparison_keeps_both_rows_at_one_scale(main_window, load, tmp_path, qtbot):
    from tests.gui.test_priors import compare, screen_px_per_mm

    w = main_window
    load(w, [comparison_exams(tmp_path / "exams", (0.05, 0.05))])
    compare(w, qtbot)
    top, bottom = w.panels[View.LCC], w.hanging.prior_panels[View.LCC]
    w._activate(top)
    w.commands["next_duplicate"].trigger()  # the volume, at half the 2-D views' pixel size
    assert top.image.info.frames == FRAMES and not w.priors.cross_linked  # pixels of two sizes: not linked
    assert screen_px_per_mm(top) == pytest.approx(screen_px_per_mm(bottom), rel=1e-2)


def test_a_priors_volume_says_which_slice_it_shows(main_window, load, tmp_path, qtbot):
    from tests.gui.test_priors import compare

    w = main_window
    load(w, [comparison_exams(tmp_path / "exams", (0.1, 0.1), prior_volume_only=True)])
    compare(w, qtbot)
    title = w.hanging.prior_panels[View.LCC].labels.title.text()
    assert "prior · 2 years before · tomosynthesis frame 1 of 5" in title


def test_the_cine_stops_when_its_view_is_hidden_and_p_on_another_volume_moves_it(main_window, load, tmp_path, qtbot):
    w = main_window
    folder = tmp_path / "two"
    write_tomo(folder / "LCC_tomo.dcm")
    write_tomo(folder / "RCC_tomo.dcm", "RCC")
    load(w, [folder])
    w._activate(w.panels[View.LCC])
    w.commands["cine"].trigger()
    w._activate(w.panels[View.RCC])
    w.commands["cine"].trigger()  # P on the other volume: the cine moves there
    assert w.frames.cine_view is View.RCC
    w.commands["layout_mlo"].trigger()  # the CC pair is hidden
    qtbot.waitUntil(lambda: w.frames.cine_view is None and not w.frames.busy, timeout=5_000)
    assert w.statusBar().currentMessage() == "R CC: cine stopped (the view is not on screen)."


def test_a_slice_that_fails_is_reported_once_then_stepped_over(opened, qtbot, monkeypatch):
    from mammoview.gui import frames

    w = opened
    real = frames.decode_frame

    def broken(image, k):  # type: ignore[no-untyped-def]
        if k == 2:
            raise LoadError(image.path, "RLE segment 1 of frame 3 is corrupt")
        return real(image, k)

    monkeypatch.setattr(frames, "decode_frame", broken)
    reports: list[list[str]] = []
    monkeypatch.setattr(w, "report_problems", lambda title, lines, critical=False: reports.append(lines))
    step(w, qtbot, "next_slice")  # slice 2
    w.commands["next_slice"].trigger()  # slice 3 fails
    qtbot.waitUntil(lambda: len(reports) == 1 and not w.frames.busy, timeout=20_000)
    assert "frame 3 is corrupt" in reports[0][0] and w.panels[View.LCC].image.frame == 1
    shown = step(w, qtbot, "next_slice")  # over the bad slice, without a second report
    assert shown.image.frame == 3 and len(reports) == 1
    seen = play(w)
    qtbot.waitUntil(lambda: len(seen) >= 8, timeout=20_000)
    w.frames.stop_cine()
    assert 2 not in seen and len(reports) == 1  # the cine sweeps past it too


def test_a_mark_or_a_line_placed_while_the_cine_plays_stays_on_its_slice(opened, qtbot, monkeypatch):
    w = opened
    lcc = w.panels[View.LCC]
    slow_decoding(monkeypatch, 0.1)
    play(w)
    qtbot.waitUntil(lambda: lcc.image.frame >= 1 and w.frames.busy, timeout=20_000)  # a slice decoding meanwhile
    w.frames.hold(View.LCC)  # what placing a mark or starting a line does
    mark = w.cad.marks_tool.place(lcc, 100.0, 200.0)
    qtbot.waitUntil(lambda: not w.frames.busy, timeout=20_000)
    qtbot.wait(150)
    assert w.frames.cine_view is None and lcc.image.frame == mark.frame  # still the mark's slice: it is drawn
    assert w.cad.marks_tool.hold == w.frames.hold and w.cad.measure_tool.hold == w.frames.hold


def test_the_cad_reads_a_views_2d_image_while_its_volume_is_shown(dbt_exam, qtbot):
    w = dbt_exam
    w.commands["next_duplicate"].trigger()  # D: the volume
    volume = w.panels[View.LCC].image
    assert volume.info.frames == FRAMES
    flat = w.cad._cad_image(View.LCC, volume)
    assert flat.info.frames == 1 and flat.path.name == "LCC.dcm"
    assert w.cad._cad_image(View.RCC, w.panels[View.RCC].image) is w.panels[View.RCC].image


def test_the_read_out_and_the_loupe_follow_a_new_slice_under_a_still_mouse(opened, qtbot):
    w = opened
    lcc = w.panels[View.LCC]
    samples = []
    lcc.cursorMoved.connect(lambda _panel, sample: samples.append(sample))
    w.commands["magnifier"].trigger()
    lcc._on_mouse_moved(lcc.view_box.mapViewToScene(lcc.stored_to_scene(40.5, 60.5)))  # the mouse, then still
    assert samples[-1].stored_value == int(slice_pixels(0)[60, 40])
    step(w, qtbot, "next_slice")
    assert samples[-1].stored_value == int(slice_pixels(1)[60, 40])  # the pixel of slice 2 under the cursor
    assert lcc.loupe.isVisible()
