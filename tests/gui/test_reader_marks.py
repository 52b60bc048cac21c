"""Reader marks and the read state: mark mode clicks, undo/delete, atomic saves, restore after reopening."""

from __future__ import annotations

import json
import os

import pytest
from PySide6 import QtCore

from mammoview.gui.read_state import MarkKind, ReadState
from mammoview.gui.read_store import ReadStore, atomic_write_json, study_hash
from mammoview.io.model import View
from tests.gui import cad_support
from tests.gui.cad_support import planted_result
from tests.gui.conftest import STUDY_UID, SYNTHETIC_VIEWS, mouse

#: The shared CAD fixtures (tests/gui/cad_support.py), bound here so pytest finds them.
cad_models, cad_window = cad_support.cad_models, cad_support.cad_window

LEFT = QtCore.Qt.MouseButton.LeftButton
NONE = QtCore.Qt.MouseButton.NoButton
RCC_BLOB = SYNTHETIC_VIEWS["RCC"][6][0]


def click_stored(panel, x: float, y: float) -> None:  # type: ignore[no-untyped-def]
    """A left click on the viewport where stored pixel (x, y) is drawn."""
    p = panel.view_box.mapViewToDevice(panel.stored_to_scene(x, y))
    vp = panel.graphics.viewport()
    mouse(vp, "press", (p.x(), p.y()), LEFT)
    mouse(vp, "release", (p.x(), p.y()), LEFT, NONE)


def saved(window) -> dict:  # type: ignore[no-untyped-def]
    return json.loads(window.cad.reader.store.path_for(window.cad.reader.study_key).read_text())


def selected_r1(window):  # type: ignore[no-untyped-def]
    """In mark mode, R1 placed on R CC and clicked again (selected); returns the R CC panel."""
    rcc = window.panels[View.RCC]
    window.commands["cad_mark_mode"].trigger()
    click_stored(rcc, 90, 200)
    click_stored(rcc, 91, 201)
    return rcc


@pytest.fixture()
def study(cad_window, load, synthetic_study):  # type: ignore[no-untyped-def]
    load(cad_window, [synthetic_study])
    return cad_window


def test_mark_mode_click_places_a_mark_at_the_stored_position(study, qtbot):
    rcc = study.panels[View.RCC]
    study.commands["cad_mark_mode"].trigger()
    click_stored(rcc, RCC_BLOB.x, RCC_BLOB.y)
    (mark,) = study.cad.reader.marks
    assert mark.view is View.RCC and mark.kind is MarkKind.MASS and not mark.after_cad
    assert mark.x == pytest.approx(RCC_BLOB.x, abs=1.5) and mark.y == pytest.approx(RCC_BLOB.y, abs=1.5)
    assert "reader" in study.cad.overlays[View.RCC].visible_layers()
    study.commands["cad_kind_calcification"].trigger()
    click_stored(study.panels[View.LMLO], 200, 300)
    assert [m.kind for m in study.cad.reader.marks] == [MarkKind.MASS, MarkKind.CALCIFICATION]
    study.commands["cad_mark_mode"].trigger()  # off: clicks only activate panels again
    click_stored(rcc, 100, 100)
    assert len(study.cad.reader.marks) == 2
    # Listed in the findings panel (nothing of the CAD: it is locked).
    assert study.cad.findings.tree.topLevelItem(0).text(0) == "Your marks (2)"


def test_select_delete_undo_redo(study, qtbot):
    rcc = study.panels[View.RCC]
    study.commands["cad_mark_mode"].trigger()
    click_stored(rcc, 90, 200)
    click_stored(rcc, 150, 300)
    click_stored(rcc, 91, 201)  # on the first mark: selects it, places nothing
    assert len(study.cad.reader.marks) == 2 and study.cad.selected_mark.id == 1
    study.commands["cad_delete_mark"].trigger()
    assert [m.id for m in study.cad.reader.marks] == [2]
    assert [m["id"] for m in saved(study)["state"]["marks"]] == [2]
    study.commands["cad_undo"].trigger()
    assert [m.id for m in study.cad.reader.marks] == [1, 2]
    study.commands["cad_redo"].trigger()
    assert [m.id for m in study.cad.reader.marks] == [2]
    study.cad.findings.select_row(0)  # delete from the findings panel
    study.cad.findings.delete_button.click()
    assert study.cad.reader.marks == ()


@pytest.mark.parametrize("hide", ["layout_mlo", "maximize"])
def test_del_never_deletes_a_selected_mark_that_is_not_on_screen(study, qtbot, hide):
    w = study
    rcc = selected_r1(w)
    assert w.cad.selected_mark.id == 1
    w._activate(w.panels[View.LMLO])
    w.commands[hide].trigger()  # Alt+3 (the MLO pair) or Z (L MLO alone): R CC is not shown
    assert not rcc.isVisible()
    w.commands["cad_delete_mark"].trigger()
    assert [m.id for m in w.cad.reader.marks] == [1]
    assert w.statusBar().currentMessage() == "R1 is not on screen: Del deletes only what is shown."
    w.commands["reset_view"].trigger()  # shown again: Del deletes it
    w.commands["cad_delete_mark"].trigger()
    assert w.cad.reader.marks == ()


def test_marks_hidden_with_my_marks_off_are_neither_clicked_nor_deleted(study, qtbot):
    """With My marks off (Shift+K) the reader sees none of them: a mark-mode click where R1 is selected R1 (a
    highlight square over nothing, "Del deletes it") instead of placing a mark, and Del then deleted the unseen R1."""
    w = study
    rcc = selected_r1(w)
    assert w.cad.selected_mark.id == 1
    w.commands["cad_layer_reader"].trigger()  # My marks off
    assert not w.cad.style.reader
    w.commands["cad_delete_mark"].trigger()  # R1 is still the selection, but not drawn
    assert [m.id for m in w.cad.reader.marks] == [1]
    assert w.statusBar().currentMessage() == "R1 is not on screen: Del deletes only what is shown."
    w.cad._unselect_mark()
    click_stored(rcc, 91, 201)  # where R1 is, not drawn: a click there places a mark, it selects nothing unseen
    assert w.cad.selected_mark is None and not w.cad.overlays[View.RCC]._highlight
    assert [m.id for m in w.cad.reader.marks] == [1, 2]
    w.commands["cad_layer_reader"].trigger()  # shown again: a click on R1 selects it, Del deletes it
    click_stored(rcc, 90, 200)
    assert w.cad.selected_mark is not None and w.cad.selected_mark.id in (1, 2)
    w.commands["cad_delete_mark"].trigger()
    assert len(w.cad.reader.marks) == 1


def test_a_selected_mark_stays_highlighted_through_a_rebuild(study, qtbot):
    w = study
    selected_r1(w)
    overlay = w.cad.overlays[View.RCC]
    assert overlay._highlight
    w.cad.rebuild()  # what Ctrl+D, a CAD result or another operating point does
    assert w.cad.selected_mark.id == 1 and overlay._highlight  # still selected, and still shown as selected
    w.cad.reader.remove(1)
    w.cad.reader.undo()  # R1 back, but the selection went with the deletion
    w.cad.rebuild()
    assert w.cad.selected_mark is None and not overlay._highlight


def double_click_stored(panel, x: float, y: float) -> None:  # type: ignore[no-untyped-def]
    """A left double-click on the viewport where stored pixel (x, y) is drawn (press, release, double, release)."""
    click_stored(panel, x, y)
    p = panel.view_box.mapViewToDevice(panel.stored_to_scene(x, y))
    vp = panel.graphics.viewport()
    mouse(vp, "double", (p.x(), p.y()), LEFT)
    mouse(vp, "release", (p.x(), p.y()), LEFT, NONE)


def test_a_double_click_on_a_mark_maximises_and_in_mark_mode_places_nothing(study, qtbot):
    w = study
    rcc, lcc = w.panels[View.RCC], w.panels[View.LCC]
    w.commands["cad_mark_mode"].trigger()
    click_stored(rcc, 150, 250)  # R1
    w.commands["cad_mark_mode"].trigger()  # off
    double_click_stored(rcc, 150, 250)  # on R1's ring: the view maximises as anywhere else
    qtbot.waitUntil(lambda: w.hanging.maximized is View.RCC, timeout=3000)
    w.commands["maximize"].trigger()
    w.commands["cad_mark_mode"].trigger()  # on: a double-click is still the maximise gesture, not a mark
    double_click_stored(lcc, 200, 300)
    qtbot.waitUntil(lambda: w.hanging.maximized is View.LCC, timeout=3000)
    assert [m.id for m in w.cad.reader.marks] == [1]
    assert [m["id"] for m in saved(w)["state"]["marks"]] == [1]
    w.commands["cad_undo"].trigger()  # the withdrawn mark is not in the history: undo takes back R1
    assert w.cad.reader.marks == ()
    w.commands["cad_redo"].trigger()
    assert [m.id for m in w.cad.reader.marks] == [1]
    click_stored(lcc, 200, 300)  # a single click still places
    assert [m.id for m in w.cad.reader.marks] == [1, 2]


def test_a_double_click_on_a_cad_mark_maximises(study, qtbot):
    from mammoview.cad.types import FindingKind
    from tests.gui.cad_support import finding

    w = study
    w.commands["cad_first_read_done"].trigger()
    w.cad.set_result(planted_result(w, {View.LCC: [finding(FindingKind.MASS, 150, 250)]}))
    double_click_stored(w.panels[View.LCC], 150, 250)  # on the CAD star
    qtbot.waitUntil(lambda: w.hanging.maximized is View.LCC, timeout=3000)


def test_every_action_is_saved_atomically(study, qtbot, monkeypatch):
    replaced: list[str] = []
    real_replace = os.replace
    monkeypatch.setattr("mammoview.io.files.os.replace",
                        lambda a, b: replaced.append(str(b)) or real_replace(a, b))  # fmt: skip
    rcc = study.panels[View.RCC]
    study.commands["cad_mark_mode"].trigger()
    for i, action in enumerate(["click", "click", "undo", "done"]):
        if action == "click":
            click_stored(rcc, 80 + 40 * i, 200)
        elif action == "undo":
            study.commands["cad_undo"].trigger()
        else:
            study.commands["cad_first_read_done"].trigger()
        assert len(replaced) == i + 1, f"{action} was not saved"
        on_disk = ReadState.from_json(saved(study)["state"])
        assert on_disk.marks == study.cad.reader.marks and on_disk.first_read_done == (action == "done")
    path = study.cad.reader.store.path_for(study.cad.reader.study_key)
    assert path.name == f"{study_hash(f'{STUDY_UID} · Patient ID SYN-0001')[:32]}.json"  # (io.study.read_key)
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temporary file left behind
    text = path.read_text()
    assert "Synthetic" not in text and "SYN-0001" not in text and STUDY_UID not in text


def test_marks_and_read_state_come_back_after_reopening(study, load, synthetic_study, qtbot):
    from mammoview.gui.main_window import MainWindow

    study.commands["cad_mark_mode"].trigger()
    click_stored(study.panels[View.RCC], 90, 200)
    study.commands["cad_kind_other"].trigger()
    click_stored(study.panels[View.LCC], 120, 300)
    study.cad.set_result(planted_result(study, {}))
    study.commands["cad_first_read_done"].trigger()
    before = study.cad.reader.marks
    study.close()

    again = MainWindow()
    qtbot.addWidget(again)
    again.show()
    load(again, [synthetic_study])
    try:
        assert again.cad.reader.marks == before
        assert again.cad.unlocked and again.cad.reader.state.done_at
        assert [m.kind for m in again.cad.reader.marks] == [MarkKind.MASS, MarkKind.OTHER]
        assert "reader" in again.cad.overlays[View.LCC].visible_layers()
        assert not again.commands["cad_first_read_done"].isEnabled()  # done is done
    finally:
        again.cad.shutdown()


def test_a_damaged_state_file_is_set_aside_not_fatal(tmp_path):
    store = ReadStore(tmp_path)
    path = store.path_for("P_00001")
    path.write_text("{not json")
    assert store.load("P_00001") == ReadState()
    assert not path.exists() and len(list(tmp_path.glob("*.damaged-*"))) == 1
    state = store.save("P_00001", ReadState(first_read_done=True))
    assert store.load("P_00001").first_read_done and state.updated


WRONG_SHAPES = {  # valid JSON, but not a read: each is set aside, never an exception
    "a list": [],
    "a state list": {"state": []},
    "a decision string": {"state": {"decision": "1"}},
    "a mark list": {"state": {"marks": [[1, 2]]}},
    "marks an object": {"state": {"marks": {"id": 1}}},
    "a measurement string": {"state": {"measurements": ["M1"]}},
    "cad seen a number": {"state": {"cad_seen": 3}},
    "an unknown density": {"state": {"decision": {"density": "z"}}},
    "a mark id of 1e999": {
        "state": {"marks": [{"id": 1e999, "view": "LCC", "image": "i", "x": 1, "y": 2, "kind": "mass"}]}
    },
    "a frame of 1e999": {
        "state": {"measurements": [{"id": 1, "view": "LCC", "image": "i", "p0": [0, 0], "p1": [1, 1], "frame": 1e999}]}
    },
    "nested too deep": {"state": {"cad_seen": [[[]]]}},  # nested 100000 deep when written below
    # a hand-edited slice: a mark on slice -1 showed on no image, unsaid; on 2.5 or true, on slice 2 or 1 (int())
    "a negative frame": {
        "state": {"marks": [{"id": 1, "view": "LCC", "image": "i", "x": 1, "y": 2, "kind": "mass", "frame": -1}]}
    },
    "a fractional frame": {
        "state": {"marks": [{"id": 1, "view": "LCC", "image": "i", "x": 1, "y": 2, "kind": "mass", "frame": 2.5}]}
    },
    "a frame of true": {
        "state": {"measurements": [{"id": 1, "view": "LCC", "image": "i", "p0": [0, 0], "p1": [1, 1], "frame": True}]}
    },
}


@pytest.mark.parametrize("doc", WRONG_SHAPES.values(), ids=WRONG_SHAPES.keys())
def test_a_read_file_of_the_wrong_shape_is_damaged_too(tmp_path, doc):
    store = ReadStore(tmp_path)
    path = store.path_for("P_00001")
    if isinstance(doc, dict):
        doc = {"study_sha256": study_hash("P_00001"), **doc}
    text = json.dumps(doc)  # 1e999 is inf: written as Infinity, which json reads back as inf (no int)
    if "[[[]]]" in text:
        text = text.replace("[[[]]]", "[" * 100_000 + "]" * 100_000)
    path.write_text(text)
    assert store.peek("P_00001") is None and path.exists()  # the worklist's look changes nothing
    assert store.load("P_00001") == ReadState()
    assert not path.exists() and len(list(tmp_path.glob("*.damaged-*"))) == 1


def test_a_damaged_read_never_carries_the_study_before_over(study, qtbot):
    reader = study.cad.reader
    reader.add(View.LCC, "img", 10.0, 20.0, MarkKind.MASS)
    reader.set_first_read_done()
    path = reader.store.path_for("another study")
    path.write_text(json.dumps({"study_sha256": study_hash("another study"), "state": []}))
    reader.open_study("another study")
    assert reader.study_key == "another study" and reader.state == ReadState()


def test_the_first_reads_marks_stay_once_it_is_done(study, qtbot):
    w = study
    rcc = w.panels[View.RCC]
    w.commands["cad_mark_mode"].trigger()
    click_stored(rcc, 90, 200)  # R1, unaided
    w.commands["cad_first_read_done"].trigger()
    click_stored(rcc, 91, 201)  # selects R1
    w.commands["cad_delete_mark"].trigger()
    assert [m.id for m in w.cad.reader.marks] == [1]
    assert w.statusBar().currentMessage().startswith("R1 is a mark of your first read, which stays as you read it")
    w.cad.findings.select_row(0)
    w.cad.findings.delete_button.click()  # nor from the findings panel
    assert not w.cad.reader.set_kind(1, MarkKind.CALCIFICATION)
    assert [m.id for m in w.cad.reader.marks] == [1] and saved(w)["state"]["marks"][0]["kind"] == "mass"
    click_stored(rcc, 150, 300)  # R2, after CAD: the reader's to take back
    click_stored(rcc, 151, 301)
    w.commands["cad_delete_mark"].trigger()
    assert [m.id for m in w.cad.reader.marks] == [1]


def test_a_measurement_selected_after_a_mark_is_the_only_selection(study, qtbot):
    w = study
    rmlo, rcc = w.panels[View.RMLO], w.panels[View.RCC]
    w.commands["cad_mark_mode"].trigger()
    click_stored(rmlo, 150, 250)
    click_stored(rmlo, 151, 251)  # R1 selected
    m = w.cad.measure_tool.measure(rcc, (50, 100), (150, 300))
    w.cad.focus_measurement(m)  # M1's row: the selection now, R1's highlight gone
    assert w.cad.selected_mark is None and not w.cad.overlays[View.RMLO]._highlight
    w.cad.measure_tool.select(m)
    w.commands["layout_mlo"].trigger()  # M1 not on screen
    w.commands["cad_delete_mark"].trigger()
    assert [x.id for x in w.cad.reader.marks] == [1] and [x.id for x in w.cad.reader.measurements] == [1]
    assert w.statusBar().currentMessage() == "M1 is not on screen: Del deletes only what is shown."


def test_undoing_the_selected_mark_takes_its_highlight_away(study, qtbot):
    w = study
    selected_r1(w)
    assert w.cad.overlays[View.RCC]._highlight
    w.commands["cad_undo"].trigger()
    assert w.cad.selected_mark is None and not w.cad.overlays[View.RCC]._highlight


def test_a_double_click_in_mark_mode_leaves_undo_and_redo_as_they_were(study, qtbot):
    w = study
    lcc = w.panels[View.LCC]
    w.commands["cad_mark_mode"].trigger()
    click_stored(lcc, 100, 200)
    click_stored(lcc, 160, 320)
    w.commands["cad_undo"].trigger()  # R2 undone: redo can bring it back
    double_click_stored(lcc, 220, 400)
    qtbot.waitUntil(lambda: w.hanging.maximized is View.LCC, timeout=3000)
    assert [m.id for m in w.cad.reader.marks] == [1] and w.cad.reader.can_redo
    w.commands["cad_redo"].trigger()
    assert [m.id for m in w.cad.reader.marks] == [1, 2]


def test_two_damaged_reads_set_aside_within_a_second_are_both_kept(tmp_path, monkeypatch):
    """The copies are named by the second: a second damaged read of the study set aside within the same second
    replaced the first copy (os.replace), losing it."""
    import datetime as dt

    from mammoview.gui import read_files

    class Frozen(dt.datetime):
        @classmethod
        def now(cls, tz=None):  # type: ignore[no-untyped-def, override]
            return cls(2026, 12, 7, 13, 0, 0)

    monkeypatch.setattr(read_files._dt, "datetime", Frozen)
    store = ReadStore(tmp_path)
    path = store.path_for("P_00001")
    for text in ("{first damaged", "{second damaged"):
        path.write_text(text)
        assert store.load("P_00001") == ReadState()
    kept = sorted(p.read_text() for p in tmp_path.glob("*.damaged-*"))
    assert kept == ["{first damaged", "{second damaged"]


def test_a_read_with_a_non_finite_number_is_refused_when_saved_not_when_read_back(tmp_path):
    """json writes NaN and Infinity, which are not JSON: such a read saved fine and was set aside as damaged when the
    study was next opened. Saving it is a clear error, and nothing is written."""
    store = ReadStore(tmp_path)
    store.save("P_00001", ReadState(first_read_done=True))
    with pytest.raises(ValueError):
        atomic_write_json(store.path_for("P_00001"), {"state": {"x": float("nan")}})
    assert store.load("P_00001").first_read_done  # the saved read is as it was


def test_a_save_killed_midway_leaves_no_copy_of_the_read_behind(tmp_path):
    """A viewer killed mid-save left its temporary file (a whole or partial copy of the read) in the reads folder for
    ever; the next viewer to claim the folder removes such files, and only those."""
    folder = tmp_path / "reads"
    folder.mkdir()
    store = ReadStore(folder)
    leftover = folder / f".{store.path_for('P_00001').name}.k3j9_x.tmp"
    leftover.write_text('{"state": {}}')
    read = store.path_for("P_00001")  # and a conflict copy's (read_conflict.py), killed as it was written
    copy_leftover = folder / f".{read.stem}.conflict-20261207T190512Z-2.json.p0q_7z.tmp"
    copy_leftover.write_text('{"state": {}}')
    other = folder / "notes.tmp"
    other.write_text("mine")
    store.save("P_00002", ReadState(first_read_done=True))
    assert not leftover.exists() and not copy_leftover.exists() and other.read_text() == "mine"
    assert store.load("P_00002").first_read_done


def test_a_reads_folder_reached_through_a_link_is_claimed_as_itself(tmp_path):
    """The folder lock was keyed (and its lock file named) by the path as given: a reads folder reached through a
    symbolic link got a lock of its own, so two viewers could both save there, and the second one's claim removed
    the first one's save in progress as a leftover. The claim is of the folder itself, by whichever path."""
    from mammoview.gui.read_lock import claim_folder

    real = tmp_path / "real" / "reads"
    real.mkdir(parents=True)
    link = tmp_path / "link"
    link.symlink_to(real, target_is_directory=True)
    claim_folder(real)
    claim_folder(link)
    locks = sorted(p.name for p in tmp_path.rglob("*.lock"))
    assert locks == ["reads.lock"], locks
