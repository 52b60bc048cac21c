"""A read in conflict (another viewer saved the study's read meanwhile, and the reader's would change it): the reader's
is kept at once beside it as a conflict copy, never over any file, by a window that holds the reads folder only; and
the reader may go on from the saved read ("Show the saved read"), which is then saved onto, or keep theirs."""

from __future__ import annotations

import datetime
import os
import shutil
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

import pytest
from PySide6 import QtCore, QtWidgets

from mammoview.gui import dialogs, read_conflict, read_lock
from mammoview.gui.pseudonym import app_data_dir
from mammoview.gui.read_state import Assessment, MarkKind, ReaderDecision, ReadState
from mammoview.gui.read_store import ReadConflict, ReadStore
from mammoview.io.model import View
from mammoview.io.study import ReadKey
from tests.gui.conftest import shown_main_window
from tests.gui.test_read_lock import OTHER_HOST, another_viewer_takes_the_folder, foreign_lock
from tests.gui.test_read_saved_meanwhile import mark, refused_with_one_mark_saved, replace_read, saved_by_another_viewer
from tests.gui.test_read_unlocked_saves import no_lock_file  # noqa: F401  (fixture)
from tests.gui.test_reads_saved_again import (
    answer,
    conflict_box,
    refused_window,  # noqa: F401  (fixture)
    taken_back,
    the_other_viewer_quits,
)
from tests.gui.test_worklist import batch


def copies(store: ReadStore, key: str) -> list[Path]:
    """The conflict copies beside the read of ``key``."""
    return sorted(store.folder.glob(f"{store.path_for(key).stem}.conflict-*.json"))


def kept(copy: Path, key: str | ReadKey) -> ReadState:
    """The read kept in ``copy``, loaded as the read store loads a study's read (it is in the same format): put in
    place of the read of ``key`` in a folder of its own."""
    store = ReadStore(copy.parent.parent / f"loaded-{copy.stem}")
    store.folder.mkdir(exist_ok=True)
    shutil.copy(copy, store.path_for(key.key if isinstance(key, ReadKey) else key))
    state = store.load(key)
    assert store.problem is None, store.problem
    return state


@pytest.fixture()
def conflicted(request, load, tmp_path, qtbot):  # type: ignore[no-untyped-def]
    """A window refused the reads folder marks L CC and gives BI-RADS 1 to a study whose read the other viewer saves as
    BI-RADS 0 recall with an R CC mark; the other viewer quits and the window takes the folder back: a conflict.  The
    window, the other viewer's read, and the "Read conflict" question."""
    window = request.getfixturevalue("refused_window")
    load(window, [batch(tmp_path / "batch")])
    reader = window.cad.reader
    reader.add(View.LCC, "LCC.dcm", 10.0, 20.0, MarkKind.MASS)
    reader.set_assessment(Assessment.NEGATIVE)
    theirs = ReadState(marks=(mark(1, View.RCC),), decision=ReaderDecision(Assessment.RECALL))
    theirs = saved_by_another_viewer(reader.store.folder, reader.read_key.key, theirs)
    assert taken_back(window, qtbot) == []
    return window, theirs, conflict_box(window, qtbot)


def without_time(state: ReadState) -> dict[str, object]:
    """``state`` but for when it was saved and its reading time (the reading clock ticks on between the read taken
    here and the copy written: a tenth of a second apart now and then on a loaded machine)."""
    return {**state.to_json(), "updated": "", "reading_seconds": 0}


def test_the_readers_read_in_conflict_is_kept_as_a_copy_beside_the_saved_one(conflicted, monkeypatch):
    w, theirs, box = conflicted
    reader = w.cad.reader
    (copy,) = copies(reader.store, reader.read_key.key)
    assert without_time(kept(copy, reader.read_key)) == without_time(reader.state)  # the reader's, as on screen
    assert ReadStore(reader.store.folder).load(reader.read_key).to_json() == theirs.to_json()  # theirs untouched
    said = box.text()
    assert str(copy) in said and f"process 4242 on {OTHER_HOST}" in said, said  # where, and who saved the other
    assert read_conflict.local_time(theirs.updated) in said and "BI-RADS 0 recall" in said, said  # and when, what
    answer(box, "Keep mine (not saved)")
    reader.add(View.RMLO, "RMLO.dcm", 30.0, 40.0, MarkKind.CALCIFICATION)  # the copy follows the reader's read
    (copy,) = copies(reader.store, reader.read_key.key)
    assert [m.view for m in kept(copy, reader.read_key).marks] == [View.LCC, View.RMLO]
    assert without_time(kept(copy, reader.read_key)) == without_time(reader.state)
    asked: list[str] = []
    monkeypatch.setattr(dialogs, "ask_yes_no", lambda parent, title, text: asked.append(text) or False)
    w.close()  # nothing is lost by quitting: said so
    assert asked and "Nothing is lost" in asked[0] and str(copies(reader.store, reader.read_key.key)[0]) in asked[0]
    assert "lose it" not in asked[0], asked[0]
    monkeypatch.setattr(dialogs, "ask_yes_no", lambda parent, title, text: True)  # (lets it close)


def test_a_conflict_copy_is_never_written_over(tmp_path, monkeypatch):
    """Files of the copy's name already there (another viewer's copy made in the same second) stay as they are."""

    class Frozen(datetime.datetime):
        @classmethod
        def now(cls, tz=None):  # type: ignore[no-untyped-def, override]
            return datetime.datetime(2024, 5, 2, 12, 0, 0, tzinfo=tz)

    monkeypatch.setattr(read_conflict, "_dt", SimpleNamespace(datetime=Frozen, UTC=datetime.UTC))
    store = ReadStore(tmp_path / "reads")
    saved_by_another_viewer(store.folder, "S", ReadState(marks=(mark(1, View.RCC),)))
    base = store.load("S")
    saved_by_another_viewer(store.folder, "S", replace_read(base, decision=Assessment.RECALL))
    stem = store.path_for("S").stem
    others = {store.folder / f"{stem}.conflict-20240502T120000Z{n}.json": f"other {n}" for n in ("", "-2")}
    for path, text in others.items():
        path.write_text(text)
    ours = replace_read(base, decision=Assessment.NEGATIVE)
    with pytest.raises(ReadConflict) as refused:
        store.save("S", ours)
    copy = store.folder / f"{stem}.conflict-20240502T120000Z-3.json"
    assert str(copy) in str(refused.value) and without_time(kept(copy, "S")) == without_time(ours)
    ours = replace_read(ours, marks=(*ours.marks, mark(2, View.LCC)))
    with pytest.raises(ReadConflict):  # the reader went on: a new copy, and this window's older one goes
        store.save("S", ours)
    assert copies(store, "S") == sorted([*others, store.folder / f"{stem}.conflict-20240502T120000Z-4.json"])
    assert all(path.read_text() == text for path, text in others.items())  # never written over, nor removed


def test_a_conflict_names_the_viewer_that_held_the_folder_meanwhile(tmp_path):
    folder, lock = refused_with_one_mark_saved(tmp_path)
    store = ReadStore(folder)
    base = store.load("S")
    theirs = saved_by_another_viewer(folder, "S", replace_read(base, decision=Assessment.RECALL))
    lock.unlink()  # (the other viewer quits)
    read_lock._beat()
    with pytest.raises(ReadConflict) as refused:
        store.save("S", replace_read(base, decision=Assessment.NEGATIVE))
    conflict = refused.value.conflict
    assert conflict.saved_by == f"another mammoview window (process 4242 on {OTHER_HOST})" and conflict.theirs == theirs
    assert conflict.saved_at == f" at {read_conflict.local_time(theirs.updated)}" and store.conflicts == {"S": conflict}


def test_showing_the_saved_read_puts_it_on_screen_and_the_next_marks_are_saved_onto_it(conflicted):
    w, theirs, box = conflicted
    reader = w.cad.reader
    resolve = w.commands["resolve_read_conflict"]
    assert resolve.isEnabled()
    mine = reader.state
    answer(box, "Show the saved read")
    assert reader.state == theirs and not reader.unsaved and not reader.can_undo  # the other's, on screen
    assert [r.marks[0].view for r in w.cad.findings.rows if r.marks] == [View.RCC]
    (copy,) = copies(reader.store, reader.read_key.key)  # the reader's stays in its copy
    assert without_time(kept(copy, reader.read_key)) == without_time(mine)
    assert not resolve.isEnabled() and str(copy) in w.statusBar().currentMessage()
    reader.add(View.LMLO, "LMLO.dcm", 30.0, 40.0, MarkKind.MASS)  # saved, onto the read saved there
    saved = ReadStore(reader.store.folder).load(reader.read_key)
    assert [m.view for m in saved.marks] == [View.RCC, View.LMLO] and saved.decision.assessment is Assessment.RECALL
    assert not reader.unsaved and copies(reader.store, reader.read_key.key) == [copy]


def test_the_menu_asks_again_which_read_goes_on(conflicted, qtbot, monkeypatch):
    w, theirs, box = conflicted
    answer(box, "Keep mine (not saved)")
    QtCore.QCoreApplication.processEvents()
    w.commands["resolve_read_conflict"].trigger()
    answer(conflict_box(w, qtbot), "Show the saved read")
    assert w.cad.reader.state == theirs
    monkeypatch.setattr(dialogs, "ask_yes_no", lambda parent, title, text: True)  # (no read unsaved: not asked)


def test_a_window_that_does_not_hold_the_reads_folder_writes_no_copy(conflicted, tmp_path, qtbot, monkeypatch):
    """Another viewer took the folder after the conflict: the reader's next marks are not kept in a new copy, and the
    saved read is not shown in place of the reader's, which no copy would keep."""
    w, _theirs, box = conflicted
    answer(box, "Keep mine (not saved)")
    reader = w.cad.reader
    (copy,) = copies(reader.store, reader.read_key.key)
    was = copy.read_text()
    another_viewer_takes_the_folder(Path(f"{os.path.realpath(reader.store.folder)}.lock"), tmp_path)
    read_lock._beat()
    QtCore.QCoreApplication.processEvents()
    reader.add(View.RMLO, "RMLO.dcm", 30.0, 40.0, MarkKind.MASS)
    assert copies(reader.store, reader.read_key.key) == [copy] and copy.read_text() == was
    mine = reader.state
    said: list[tuple[str, str]] = []
    w.problemsReported.connect(lambda title, text: said.append((title, text)))
    w.commands["resolve_read_conflict"].trigger()
    answer(conflict_box(w, qtbot), "Show the saved read")
    assert (reader.marks, reader.decision) == (mine.marks, mine.decision)  # the reader's, still on screen
    assert reader.read_key.key in reader.unsaved
    assert said and "could not be kept as a conflict copy" in said[0][1] and "process 5151" in said[0][1], said
    assert copies(reader.store, reader.read_key.key) == [copy] and copy.read_text() == was
    monkeypatch.setattr(dialogs, "ask_yes_no", lambda parent, title, text: True)  # (lets it close, read not saved)


def test_showing_a_saved_read_whose_first_read_is_not_done_hides_the_cad_again(request, load, tmp_path, qtbot):
    """The reader closed their first read (CAD shown) in the window refused the folder; the other viewer's read, not
    done, is shown in its place: the CAD is locked again, as for any read whose first read is not done."""
    from mammoview.cad.types import FindingKind
    from tests.gui.cad_support import finding, planted_result

    w = request.getfixturevalue("refused_window")
    load(w, [batch(tmp_path / "batch")])
    reader = w.cad.reader
    reader.add(View.LCC, "LCC.dcm", 10.0, 20.0, MarkKind.MASS)
    reader.set_assessment(Assessment.NEGATIVE)
    w.commands["cad_first_read_done"].trigger()
    w.cad.set_result(planted_result(w, {View.LCC: [finding(FindingKind.MASS, 30, 40)]}))
    assert any(o.result is not None for o in w.cad.overlays.values())  # the CAD on screen
    theirs = ReadState(marks=(mark(1, View.RCC),), decision=ReaderDecision(Assessment.RECALL))
    saved_by_another_viewer(reader.store.folder, reader.read_key.key, theirs)
    assert taken_back(w, qtbot) == []
    answer(conflict_box(w, qtbot), "Show the saved read")
    assert not reader.first_read_done and not w.cad.unlocked
    assert all(o.result is None for o in w.cad.overlays.values())  # no CAD item left over the unaided read


def test_showing_a_saved_read_whose_first_read_is_done_runs_the_cad_and_says_so(request, load, tmp_path, qtbot,
                                                                                 monkeypatch):  # fmt: skip
    """The other viewer's read, first read done, shown in place of the reader's unaided one: CAD was unlocked without a
    word and nothing ran (the panels empty until Ctrl+R), unlike a study opened with its first read done."""
    w = request.getfixturevalue("refused_window")
    load(w, [batch(tmp_path / "batch")])
    reader = w.cad.reader
    reader.add(View.LCC, "LCC.dcm", 10.0, 20.0, MarkKind.MASS)
    reader.set_assessment(Assessment.NEGATIVE)
    runs: list[bool] = []
    monkeypatch.setattr(w.cad, "run", lambda: runs.append(True))
    theirs = ReadState(marks=(mark(1, View.RCC),), decision=ReaderDecision(Assessment.RECALL), first_read_done=True)
    saved_by_another_viewer(reader.store.folder, reader.read_key.key, theirs)
    assert taken_back(w, qtbot) == []
    answer(conflict_box(w, qtbot), "Show the saved read")
    assert reader.first_read_done and w.cad.unlocked
    assert runs == [True]
    said = w.statusBar().currentMessage()
    assert "first read is done" in said and "CAD" in said, said


def test_a_conflict_found_by_the_quit_question_answered_no_can_be_resolved_at_once(qtbot, load, tmp_path,
                                                                                 monkeypatch):  # fmt: skip
    """The window refused the reads folder takes it only as the reader quits (the other viewer closed since its last
    heartbeat, a minute apart): the read in conflict is found there, the reader answers No and reads on.  File ▸
    Resolve read conflict… stayed greyed (and its Ctrl+Shift+C did nothing) until the reader's next action."""
    foreign_lock(Path(f"{os.path.realpath(app_data_dir() / 'reads')}.lock"))
    with shown_main_window(qtbot) as w:
        qtbot.waitUntil(lambda: w.reads_refused is not None, timeout=5_000)
        load(w, [batch(tmp_path / "batch")])
        reader = w.cad.reader
        reader.set_assessment(Assessment.NEGATIVE)
        theirs = saved_by_another_viewer(reader.store.folder, reader.read_key.key,
                                         ReadState(decision=ReaderDecision(Assessment.RECALL)))  # fmt: skip
        the_other_viewer_quits(w)
        resolve = w.commands["resolve_read_conflict"]
        assert not resolve.isEnabled()  # (no conflict known yet: the folder is not tried again before a minute)
        asked: list[str] = []
        monkeypatch.setattr(dialogs, "ask_yes_no", lambda parent, title, text: asked.append(text) or False)
        w.close()
        assert asked and "to compare with the read the other window saved" in asked[0], asked
        assert reader.conflict is not None and resolve.isEnabled()
        resolve.trigger()
        answer(conflict_box(w, qtbot), "Show the saved read")
        assert reader.state == theirs and not reader.unsaved


def test_a_new_conflict_after_the_saved_read_was_shown_is_offered_again_the_same_one_never_twice(
    main_window,
    load,
    tmp_path,
    qtbot,
    no_lock_file,  # noqa: F811  (the fixture: each save reads the study's read again)
    monkeypatch,
):
    """The reader chose "Show the saved read"; the other window saved the study again, differently, and the reader's
    next change conflicted with that read: the choice was offered once per opening of the study, so only the status
    bar said so.  A conflict with another saved read is offered; the same one, at each save after, is not."""
    w = main_window
    load(w, [batch(tmp_path / "batch")])
    reader = w.cad.reader
    other = ReadStore(reader.store.folder)
    other.load(reader.read_key)
    first = other.save(reader.read_key, ReadState(decision=ReaderDecision(Assessment.RECALL)))
    reader.set_assessment(Assessment.NEGATIVE)
    answer(conflict_box(w, qtbot), "Show the saved read")
    assert reader.state == first
    second = other.save(reader.read_key, replace(first, decision=ReaderDecision(Assessment.RECALL, "b")))
    reader.set_density("c")  # a conflict with the read saved since: asked again
    box = conflict_box(w, qtbot)
    assert "density B" in box.text(), box.text()
    answer(box, "Keep mine (not saved)")
    assert reader.conflict is not None and reader.conflict.theirs == second
    reader.add(View.RMLO, "RMLO.dcm", 30.0, 40.0, MarkKind.MASS)  # the same conflict: the status bar only
    QtCore.QCoreApplication.processEvents()
    assert w.statusBar().currentMessage().startswith("Read not saved"), w.statusBar().currentMessage()
    assert not [b for b in w.findChildren(QtWidgets.QMessageBox) if b.windowTitle() == "Read conflict"
                and b.isVisible()]  # fmt: skip
    monkeypatch.setattr(dialogs, "ask_yes_no", lambda parent, title, text: True)  # (lets it close, read not saved)
