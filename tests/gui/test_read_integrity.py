"""Read actions land on the study they were made on, and are not lost when a save fails or the study moves."""

from __future__ import annotations

from PySide6 import QtCore

from mammoview.gui.read_state import MarkKind
from mammoview.gui.view_box import DRAG_FINISH, DRAG_START
from mammoview.io.model import View
from mammoview.io.study import read_key
from tests.gui import cad_support
from tests.gui.test_worklist import batch, shown_patient

#: The shared CAD fixtures (tests/gui/cad_support.py), bound here so pytest finds them.
cad_models, cad_window = cad_support.cad_models, cad_support.cad_window


def test_a_measure_drag_begun_on_one_study_is_not_saved_on_the_next(main_window, load, qtbot, tmp_path):
    w = main_window
    load(w, [batch(tmp_path / "batch")])
    qtbot.waitUntil(lambda: w.prefetched is not None, timeout=20_000)  # B lands at once on PgDown
    w.commands["measure"].trigger()
    vb = w.panels[View.LCC].view_box
    start, end = QtCore.QPointF(40, 60), QtCore.QPointF(200, 300)
    vb.sigMeasureDrag.emit(start, start, DRAG_START)  # the reader starts a length on PAT-A...
    w.commands["next_study"].trigger()  # ...PgDown (or B's load landing) mid-drag
    assert shown_patient(w) == "PAT-B"
    vb.sigMeasureDrag.emit(start, end, DRAG_FINISH)  # release
    assert w.cad.reader.measurements == ()  # PAT-B never was measured
    key_b = read_key(w.worklist.entries[1].study)
    assert w.cad.reader.store.peek(key_b) is None or w.cad.reader.store.peek(key_b).measurements == ()


def step(window, qtbot, action: str) -> None:  # type: ignore[no-untyped-def]
    with qtbot.waitSignal(window.studyShown, timeout=20_000):
        window.commands[action].trigger()


def test_a_mark_not_saved_for_a_full_disk_is_not_dropped_when_the_reader_steps_on(main_window, load, qtbot, tmp_path,
                                                                                   monkeypatch):  # fmt: skip
    from mammoview.gui.read_store import ReadStore

    w = main_window
    load(w, [batch(tmp_path / "batch")])
    real_save = ReadStore.save

    def full(self, key, state):  # type: ignore[no-untyped-def]
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(ReadStore, "save", full)
    with qtbot.waitSignal(w.problemsReported, timeout=5000):  # the reader is told...
        mark = w.cad.reader.add(View.LCC, "LCC.dcm", 10.0, 20.0, MarkKind.MASS)
    assert w.cad.reader.marks == (mark,)  # ...and the mark stays on screen
    step(w, qtbot, "next_study")  # PAT-B
    monkeypatch.setattr(ReadStore, "save", real_save)  # space freed
    step(w, qtbot, "previous_study")  # back to PAT-A
    assert shown_patient(w) == "PAT-A"
    assert [m.id for m in w.cad.reader.marks] == [mark.id]  # the mark the reader placed is still there


def test_the_same_study_from_another_folder_does_not_show_the_first_folders_cad(cad_window, load, synthetic_study,
                                                                                  qtbot, tmp_path):  # fmt: skip
    import dataclasses
    import shutil

    from mammoview.cad.types import FindingKind

    w = cad_window
    load(w, [synthetic_study])
    planted = cad_support.planted_result(w, {View.LCC: [cad_support.finding(FindingKind.MASS, 150, 250)]})
    w.cad.set_result(dataclasses.replace(planted, model=w.cad.model_info))  # as the run on this folder gives
    w.commands["cad_first_read_done"].trigger()
    assert w.cad.image_result(w.panels[View.LCC]).findings  # the CAD mark is on L CC
    copy = shutil.copytree(synthetic_study, tmp_path / "export-2" / "study")  # the same study in another folder
    load(w, [copy])
    assert w.cad.study_key == w.loaded.study.key and w.cad.unlocked  # one study: its read is shared
    shown = {str(p.image.path) for p in w.panels.values() if p.image is not None}
    # the CAD result shown is of the images on screen (or none: it runs on them)
    assert w.cad.result is None or shown <= {r.path for r in w.cad.result.images}


def test_a_click_pressed_on_one_study_places_no_mark_on_the_next(main_window, load, qtbot, tmp_path):
    from tests.gui.conftest import mouse

    w = main_window
    load(w, [batch(tmp_path / "batch")])
    qtbot.waitUntil(lambda: w.prefetched is not None, timeout=20_000)
    w.commands["cad_mark_mode"].trigger()
    lcc = w.panels[View.LCC]
    p = lcc.view_box.mapViewToDevice(lcc.stored_to_scene(120, 300))
    vp = lcc.graphics.viewport()
    mouse(vp, "press", (p.x(), p.y()), QtCore.Qt.MouseButton.LeftButton)  # pressed on PAT-A...
    w.commands["next_study"].trigger()
    assert shown_patient(w) == "PAT-B"
    mouse(vp, "release", (p.x(), p.y()), QtCore.Qt.MouseButton.LeftButton, QtCore.Qt.MouseButton.NoButton)
    assert w.cad.reader.marks == ()


def spacing_free_study(window, load, qtbot, tmp_path):  # type: ignore[no-untyped-def]
    """A worklist of studies without pixel spacing, its first on screen and nothing decoding; the study's key."""
    from tests.gui.test_worklist import without_spacing_batch

    load(window, [without_spacing_batch(tmp_path / "batch")])
    qtbot.waitUntil(lambda: not window.jobs._threads, timeout=30_000)
    window.prefetch.cancel()
    window._prefetched = None
    return window.loaded.study.key


def test_a_click_survives_the_same_study_shown_again_for_a_pixel_spacing(main_window, load, qtbot, tmp_path):
    from tests.gui.conftest import mouse

    w = main_window
    key = spacing_free_study(w, load, qtbot, tmp_path)
    w.commands["cad_mark_mode"].trigger()
    lcc = w.panels[View.LCC]
    p = lcc.view_box.mapViewToDevice(lcc.stored_to_scene(120, 300))
    vp = lcc.graphics.viewport()
    mouse(vp, "press", (p.x(), p.y()), QtCore.Qt.MouseButton.LeftButton)
    with qtbot.waitSignal(w.studyShown, timeout=30_000):
        w.set_pixel_spacing(0.2)  # the same study decoded again while the button is down: no switch
    assert w.loaded.study.key == key
    mouse(vp, "release", (p.x(), p.y()), QtCore.Qt.MouseButton.LeftButton, QtCore.Qt.MouseButton.NoButton)
    assert len(w.cad.reader.marks) == 1


def test_a_length_survives_the_same_study_shown_again_for_a_pixel_spacing(main_window, load, qtbot, tmp_path):
    w = main_window
    key = spacing_free_study(w, load, qtbot, tmp_path)
    w.commands["measure"].trigger()
    vb = w.panels[View.LCC].view_box
    start, end = QtCore.QPointF(40, 60), QtCore.QPointF(200, 300)
    vb.sigMeasureDrag.emit(start, start, DRAG_START)
    with qtbot.waitSignal(w.studyShown, timeout=30_000):
        w.set_pixel_spacing(0.2)
    assert w.loaded.study.key == key
    vb.sigMeasureDrag.emit(start, end, DRAG_FINISH)
    assert len(w.cad.reader.measurements) == 1
