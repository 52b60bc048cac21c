"""The reader's read meets the CAD: a first read closed without a CAD, marks on images the reader hung, reading time and
what the CAD showed kept through failed saves."""

from __future__ import annotations

import pytest

from mammoview.gui.read_state import MarkKind
from mammoview.gui.read_store import ReadStore
from mammoview.gui.reader_marks import ReaderMarks
from mammoview.io.model import View
from tests.gui import cad_support
from tests.gui.conftest import SYNTHETIC_VIEWS, write_view
from tests.gui.test_reader_marks import click_stored

cad_models, cad_window = cad_support.cad_models, cad_support.cad_window


# -- 1. Ctrl+D with no CAD model: "CAD shown" is said, and the decision "after CAD" is counted as one CAD changed ----
def test_first_read_done_without_a_cad_model_does_not_say_cad_is_shown(main_window, load, synthetic_study, qtbot,
                                                                       tmp_path, monkeypatch):  # fmt: skip
    w = main_window
    (tmp_path / "no-models").mkdir()
    monkeypatch.setenv("MAMMOVIEW_MODELS", str(tmp_path / "no-models"))
    w.cad.reload_model()
    qtbot.waitUntil(lambda: bool(w.cad.unavailable), timeout=30_000)
    load(w, [synthetic_study])
    w.commands["cad_first_read_done"].trigger()
    assert w.cad.unlocked
    assert "CAD shown" not in w.statusBar().currentMessage()  # nothing of the CAD is shown: it is unavailable


def test_a_decision_changed_when_no_cad_was_shown_is_not_a_change_by_cad():
    from mammoview.training.reader_study import reader_study

    # the read log's row of a study whose first read was closed with the CAD unavailable (cad_model empty), and the
    # reader then changed the decision (a second look, no CAD): nothing the CAD did
    row = {"study": "s1", "first_read_done": "yes", "reading_seconds": "30", "assessment": "0",
           "assessment_after_cad": "1", "cad_model": "", "cad_abnormal": "", "cad_malignant": ""}  # fmt: skip
    rep = reader_study([row], {"s1": "normal"})
    assert rep["changes"]["false_recall_removed"] == 0 and rep["changes"]["changed"] == 0


# -- 2. marks on an image whose view the reader assigned: not drawn, and missing from the comparison ----------------
def left_cc_shown_as_right(window, load, folder):  # type: ignore[no-untyped-def]
    """A study whose left CC is labelled R (it hangs behind R CC), opened, with that image shown in R CC: the image
    the reader marks as R CC before telling the viewer it is really L CC."""
    for view in SYNTHETIC_VIEWS:
        if view != "LCC":
            write_view(folder, f"{view}.dcm", view)
    write_view(folder, "LCC.dcm", "LCC", laterality="R")
    load(window, [folder])
    lcc = next(d for d in window.choices[View.RCC] if d.image.path.name == "LCC.dcm")
    window.show_choice(View.RCC, window.choices[View.RCC].index(lcc))
    return lcc


@pytest.fixture()
def quiet(monkeypatch):  # type: ignore[no-untyped-def]
    from mammoview.gui import dialogs

    monkeypatch.setattr(dialogs, "message_box", lambda *a, **k: None)


def test_a_first_read_mark_on_an_assigned_image_stays_in_the_comparison_after_reopening(cad_window, load, tmp_path,
                                                                                         qtbot, quiet):  # fmt: skip
    folder = tmp_path / "unknown"
    for view in ("RCC", "LCC", "RMLO"):
        write_view(folder, f"{view}.dcm", view)
    write_view(folder, "mystery.dcm", "LMLO", laterality=None, projection=None)  # no view in its tags
    w = cad_window
    load(w, [folder])
    w.assign_view(w.unplaced[0], View.LMLO)  # the reader hangs it as L MLO...
    w.commands["cad_mark_mode"].trigger()
    click_stored(w.panels[View.LMLO], 220, 150)  # ...and marks a mass on it: R1
    w.commands["cad_first_read_done"].trigger()
    qtbot.waitUntil(lambda: w.cad.result is not None, timeout=30_000)
    assert any(r.marks for r in w.cad.findings.rows)
    load(w, [folder])  # the next day: the assignment was saved with the read, the image hangs as L MLO again
    qtbot.waitUntil(lambda: w.cad.result is not None, timeout=30_000)
    assert w.panels[View.LMLO].image.path.name == "mystery.dcm" and not w.unplaced
    assert [m.label for m in w.cad.reader.marks] == ["R1"]
    listed = [m.label for r in w.cad.findings.rows for m in r.marks]
    assert listed == ["R1"], "the reader's first-read mark is missing from the findings panel"
    assert all(r.note != "image not hung here" for r in w.cad.findings.rows), "R1's image is hung, as its view"
    w.undo_assignment(w.panels[View.LMLO].display)  # undone: not hung there at the next reopen either
    load(w, [folder])
    assert [d.image.path.name for d in w.unplaced] == ["mystery.dcm"]


def test_a_mark_placed_before_the_reader_moves_its_image_to_another_view_is_still_listed(cad_window, load, tmp_path,
                                                                                          qtbot, quiet):  # fmt: skip
    w = cad_window
    lcc_image = left_cc_shown_as_right(w, load, tmp_path / "study")
    w.commands["cad_mark_mode"].trigger()
    click_stored(w.panels[View.RCC], 120, 300)  # R1 on it
    w.assign_view(lcc_image, View.LCC)  # "This image is really… L CC"
    w.commands["cad_first_read_done"].trigger()
    qtbot.waitUntil(lambda: w.cad.result is not None, timeout=30_000)
    listed = [m.label for r in w.cad.findings.rows for m in r.marks]
    assert listed == ["R1"], "the reader's mark vanished from the findings panel"


# -- 3. a failed quit (disk full, the reader answers No) loses the reading time counted until then --------------------
class Clock:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


def test_the_reading_time_counted_at_a_failed_quit_is_kept(tmp_path, monkeypatch):
    clock = Clock()
    reader = ReaderMarks(ReadStore(tmp_path / "reads"), clock=clock)
    reader.open_study("A")
    real_save = ReadStore.save

    def full(self, key, state):  # type: ignore[no-untyped-def]
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(ReadStore, "save", full)
    clock.t += 10
    reader.add(View.RCC, "RCC.dcm", 10.0, 20.0, MarkKind.MASS)  # not saved: the disk is full
    clock.t += 10
    assert reader.retry_unsaved()  # the reader quits: still not saved, "Quit anyway?" No
    monkeypatch.setattr(ReadStore, "save", real_save)  # space freed
    clock.t += 10
    reader.set_first_read_done()
    assert reader.store.load("A").reading_seconds == pytest.approx(30)


# -- 4. (tests) the cad_window fixture does not wait for the model: its waitUntil callback returns None ---
def test_the_cad_window_fixture_has_found_the_model(cad_window):
    assert cad_window.cad.model_info is not None


# -- 5. what the CAD showed is dropped when its save fails (the disk full at Ctrl+D): the read log has no CAD for it --
def test_what_the_cad_showed_is_kept_when_its_save_fails(tmp_path, monkeypatch):
    from mammoview.gui.read_state import CadSeen

    reader = ReaderMarks(ReadStore(tmp_path / "reads"), clock=Clock())
    reader.open_study("A")
    real_save = ReadStore.save

    def full(self, key, state):  # type: ignore[no-untyped-def]
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(ReadStore, "save", full)
    reader.set_first_read_done()  # not saved, kept in memory
    seen = CadSeen("model 1.0 (abcdef12)", 0.9, 0.4, 3)
    reader.record_cad(seen)  # the CAD is shown: not saved either
    monkeypatch.setattr(ReadStore, "save", real_save)  # space freed
    reader.open_study("B")  # the reader steps on, then quits: the read of A is saved at last
    assert reader.retry_unsaved() == []
    assert reader.store.load("A").cad_seen == seen


def test_delete_on_a_matched_row_means_its_mark_placed_after_cad():
    """R1 of the first read (frozen) and R2 placed after CAD both on one finding: Delete / Del on that row deletes R2
    (it deleted neither, saying R1 is a mark of the first read); a row with only first-read marks names R1."""
    from mammoview.gui.matching import deletable_mark
    from mammoview.gui.read_state import ReaderMark

    r1 = ReaderMark(1, View.RCC, "img", 10.0, 10.0, MarkKind.MASS)
    r2 = ReaderMark(2, View.RCC, "img", 12.0, 11.0, MarkKind.MASS, after_cad=True)
    assert deletable_mark([r1, r2]) is r2 and deletable_mark([r2, r1]) is r2
    assert deletable_mark([r1]) is r1


def test_view_assignments_round_trip_and_an_old_read_has_none(tmp_path):
    from mammoview.gui.read_state import ReadState

    state = ReadState(assigned_views=(("1.2.3", View.LMLO), ("x.dcm", View.RCC)))
    back = ReadState.from_json(state.to_json())
    assert back == state and dict(back.assigned_views)["x.dcm"] is View.RCC
    old = state.to_json()
    del old["assigned_views"]  # a read saved before the assignments were
    assert ReadState.from_json(old).assigned_views == ()
    reader = ReaderMarks(ReadStore(tmp_path / "reads"))
    reader.open_study("A")
    reader.set_assigned("x.dcm", View.LCC)
    assert reader.saved_assignments("A") == {"x.dcm": View.LCC}
    reader.set_assigned("x.dcm", None)
    assert reader.saved_assignments("A") == {} and reader.saved_assignments("B") == {}
