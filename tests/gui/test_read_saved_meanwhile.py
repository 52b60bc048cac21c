"""A read another viewer saved while this one could not save in the reads folder (it held the folder): this viewer's
next save of that study adds what its reader did to that read, and never writes its own, begun from what it loaded
before, over it; where adding would change the other viewer's read, nothing is written and the reader is told."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import pytest

from mammoview.gui import read_lock, read_store
from mammoview.gui.read_lock import claim_folder, saving_refused
from mammoview.gui.read_state import Assessment, MarkKind, ReaderDecision, ReaderMark, ReadState
from mammoview.gui.read_store import ReadConflict, ReadStore
from mammoview.gui.reader_marks import ReaderMarks
from mammoview.io.model import View
from tests.gui.test_read_io_error_kept import failing_reads  # noqa: F401  (fixture)
from tests.gui.test_read_lock import foreign_lock


def mark(n: int, view: View, x: float = 10.0) -> ReaderMark:
    return ReaderMark(n, view, f"{view.value}.dcm", x, 20.0, MarkKind.MASS, created=f"2024-01-0{n}T00:00:00+00:00")


def as_kind(m: ReaderMark, kind: MarkKind) -> ReaderMark:
    """``m`` with its kind changed, as the reader changes it (:meth:`.ReaderMarks.set_kind`)."""
    return replace(m, kind=kind)


def saved_by_another_viewer(folder: Path, key: str, state: ReadState) -> ReadState:
    """``state`` saved as the read of ``key`` by another viewer, which held ``folder`` meanwhile (and has quit)."""
    with pytest.MonkeyPatch.context() as m:
        m.setattr(read_store, "claim_folder", lambda folder: None)
        return ReadStore(folder).save(key, state)


def refused_with_one_mark_saved(tmp_path: Path) -> tuple[Path, Path]:
    """A reads folder another viewer holds (this one refused) and has saved study "S" in, one R CC mark: the folder and
    its lock."""
    folder = tmp_path / "reads"
    lock = Path(f"{folder}.lock")
    foreign_lock(lock)
    with pytest.raises(PermissionError):
        claim_folder(folder)
    saved_by_another_viewer(folder, "S", ReadState(marks=(mark(1, View.RCC),)))
    return folder, lock


def test_a_read_another_viewer_saved_meanwhile_is_added_to_not_written_over(tmp_path):
    store = ReadStore(tmp_path / "reads")
    store.load("S")  # none yet: the reader starts from an empty read
    saved_by_another_viewer(store.folder, "S", ReadState(marks=(mark(1, View.RCC),),
                                                         decision=ReaderDecision(Assessment.RECALL)))  # fmt: skip
    saved = store.save("S", ReadState(marks=(mark(1, View.LCC),), decision=ReaderDecision(density="b")))
    assert [(m.id, m.view) for m in saved.marks] == [(1, View.RCC), (2, View.LCC)]
    assert saved.decision == ReaderDecision(Assessment.RECALL, "b") and store.kept_theirs
    assert ReadStore(store.folder).load("S") == saved


def test_what_the_other_viewer_deleted_or_decided_meanwhile_stays_so(tmp_path):
    """Both began from the same read: the other viewer deleted R1 and recalled; this reader added a mark and left
    R1 and the assessment alone.  Added to as if begun from nothing, R1 came back and the old assessment won."""
    store = ReadStore(tmp_path / "reads")
    saved_by_another_viewer(store.folder, "S", ReadState(marks=(mark(1, View.RCC),),
                                                         decision=ReaderDecision(Assessment.BENIGN)))  # fmt: skip
    ours = store.load("S")
    saved_by_another_viewer(store.folder, "S", replace_read(ours, marks=(), decision=Assessment.RECALL))
    saved = store.save("S", replace_read(ours, marks=(*ours.marks, mark(2, View.LCC))))
    assert [m.view for m in saved.marks] == [View.LCC] and saved.decision.assessment is Assessment.RECALL


@pytest.mark.parametrize(
    "theirs, ours, said",
    [
        ({"decision": Assessment.RECALL}, {"decision": Assessment.NEGATIVE},
         "the first read's assessment: yours BI-RADS 1 negative, its BI-RADS 0 recall"),
        ({"marks": (mark(1, View.RCC), mark(2, View.LMLO))}, {"marks": ()}, "you deleted or changed marks R1"),
    ],
)  # fmt: skip
def test_a_read_that_adding_to_would_change_is_left_as_the_other_viewer_saved_it(tmp_path, theirs, ours, said):
    store = ReadStore(tmp_path / "reads")
    saved_by_another_viewer(store.folder, "S", ReadState(marks=(mark(1, View.RCC),)))
    base = store.load("S")
    on_disk = saved_by_another_viewer(store.folder, "S", replace_read(base, **theirs)).to_json()
    with pytest.raises(ReadConflict) as refused:
        store.save("S", replace_read(base, **ours))
    text = str(refused.value)
    assert said in text and "its read is kept as it saved it" in text and "not saved" in text, text
    assert ReadStore(store.folder).load("S").to_json() == on_disk
    with pytest.raises(ReadConflict):  # the reader's next action neither
        store.save("S", replace_read(base, **ours))


@pytest.mark.parametrize(
    "theirs, ours, said",
    [
        ((), (as_kind(mark(1, View.RCC), MarkKind.CALCIFICATION),), "marks R1, which it deleted"),
        ((as_kind(mark(1, View.RCC), MarkKind.CALCIFICATION),), (), "marks R1, which it changed"),
        ((as_kind(mark(1, View.RCC), MarkKind.OTHER),), (as_kind(mark(1, View.RCC), MarkKind.CALCIFICATION),),
         "marks R1, which it changed"),
    ],
    ids=["changed-deleted", "deleted-changed", "changed-changed"],
)  # fmt: skip
def test_a_mark_one_viewer_changed_that_the_other_deleted_or_changed_its_own_way_is_a_conflict(tmp_path, theirs, ours,
                                                                                                said):  # fmt: skip
    """A mark's kind changed by the reader and the mark deleted by the other viewer came back (changed); deleted by the
    reader and changed by the other, it stayed; changed by both each their own way, it was there twice (R1 and R2 of
    the same spot): a changed mark was taken for a new one, and none of these for a conflict."""
    store = ReadStore(tmp_path / "reads")
    saved_by_another_viewer(store.folder, "S", ReadState(marks=(mark(1, View.RCC),)))
    base = store.load("S")
    on_disk = saved_by_another_viewer(store.folder, "S", replace_read(base, marks=theirs)).to_json()
    with pytest.raises(ReadConflict) as refused:
        saved = store.save("S", replace_read(base, marks=ours))
        pytest.fail(f"saved as {[(m.id, m.kind.value) for m in saved.marks]}")
    assert said in str(refused.value), str(refused.value)
    assert ReadStore(store.folder).load("S").to_json() == on_disk


def test_a_mark_both_viewers_changed_the_same_way_is_saved_once(tmp_path):
    store = ReadStore(tmp_path / "reads")
    saved_by_another_viewer(store.folder, "S", ReadState(marks=(mark(1, View.RCC), mark(2, View.LCC))))
    base = store.load("S")
    changed = as_kind(base.marks[0], MarkKind.CALCIFICATION)
    saved_by_another_viewer(store.folder, "S", replace_read(base, marks=(changed,)))  # and R2 deleted
    saved = store.save("S", replace_read(base, marks=(changed, base.marks[1], mark(3, View.LMLO))))
    assert [(m.id, m.view, m.kind) for m in saved.marks] == [(1, View.RCC, MarkKind.CALCIFICATION),
                                                             (2, View.LMLO, MarkKind.MASS)]  # fmt: skip


def test_a_read_loaded_as_the_folder_is_taken_is_read_again_at_its_save(tmp_path, monkeypatch):
    """While this viewer read the study's read (as it opened the study), the other viewer saved that read once more and
    quit, and this viewer's heartbeat took the folder: the read loaded before that save was counted as loaded under
    the new hold, and the reader's next save wrote it whole over the other viewer's last one."""
    folder, lock = refused_with_one_mark_saved(tmp_path)
    read = ReadStore._read

    def read_as_the_other_viewer_quits(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        state = read(self, *args, **kwargs)
        monkeypatch.setattr(ReadStore, "_read", read)
        saved_by_another_viewer(folder, "S", ReadState(marks=(mark(1, View.RCC), mark(2, View.LCC))))
        lock.unlink()
        read_lock._beat()
        return state

    monkeypatch.setattr(ReadStore, "_read", read_as_the_other_viewer_quits)
    store = ReadStore(folder)
    base = store.load("S")
    assert [m.id for m in base.marks] == [1] and not saving_refused(folder)
    saved = store.save("S", replace_read(base, marks=(*base.marks, mark(3, View.LMLO))))
    assert [m.view for m in saved.marks] == [View.RCC, View.LCC, View.LMLO]


def test_a_read_saved_by_another_viewer_while_the_lock_file_was_gone_is_added_to(tmp_path):
    """The lock file removed (by hand, by a clean-up) while this viewer held the folder: another viewer of this
    computer, opened meanwhile, found none, saved there and quit before the heartbeat made the lock again, and this
    viewer's next save, counted as under the same hold, wrote its read whole over the one saved meanwhile."""
    store = ReadStore(tmp_path / "reads")
    store.save("S", ReadState(marks=(mark(1, View.RCC),)))
    base = store.load("S")
    Path(f"{os.path.realpath(store.folder)}.lock").unlink()
    saved_by_another_viewer(store.folder, "S", replace_read(base, marks=(*base.marks, mark(2, View.LCC))))
    read_lock._beat()  # (made again)
    saved = store.save("S", replace_read(base, marks=(*base.marks, mark(3, View.LMLO))))
    assert [m.view for m in saved.marks] == [View.RCC, View.LCC, View.LMLO]


def test_a_read_that_could_not_be_read_while_another_viewer_saved_is_not_written_over_its_decision(
    tmp_path,
    failing_reads,  # noqa: F811  (the fixture)
):
    """Opened while the other viewer held the folder, the study's read could not be read (a share's hiccup): the reader
    began from an empty read, and once this viewer held the folder its save added to the read on disk as to the
    reader's own earlier one, the reader's assessment over the one the other viewer saved meanwhile."""
    folder = tmp_path / "reads"
    lock = Path(f"{folder}.lock")
    foreign_lock(lock)
    with pytest.raises(PermissionError):
        claim_folder(folder)
    store = ReadStore(folder)
    on_disk = saved_by_another_viewer(folder, "S", ReadState(decision=ReaderDecision(Assessment.RECALL))).to_json()
    failing_reads.add(store.path_for("S"))
    assert store.load("S") == ReadState() and store.problem is not None
    failing_reads.clear()
    lock.unlink()
    read_lock._beat()
    with pytest.raises(ReadConflict, match="yours BI-RADS 1 negative, its BI-RADS 0 recall"):
        store.save("S", ReadState(marks=(mark(1, View.LCC),), decision=ReaderDecision(Assessment.NEGATIVE)))
    assert ReadStore(folder).load("S").to_json() == on_disk


def test_a_read_nobody_saved_meanwhile_is_saved_as_the_reader_left_it(tmp_path):
    store = ReadStore(tmp_path / "reads")
    saved_by_another_viewer(store.folder, "S", ReadState(marks=(mark(1, View.RCC), mark(2, View.LCC))))
    base = store.load("S")
    saved = store.save("S", replace_read(base, marks=base.marks[1:], decision=Assessment.BENIGN))  # R1 deleted
    assert [m.id for m in saved.marks] == [2] and saved.decision.assessment is Assessment.BENIGN
    assert not store.kept_theirs


def test_the_reader_is_told_the_read_saved_meanwhile_is_kept_with_their_work_added(tmp_path, qtbot):
    reader = ReaderMarks(ReadStore(tmp_path / "reads"))
    reader.open_study("S")
    saved_by_another_viewer(reader.store.folder, "S", ReadState(marks=(mark(1, View.RCC),)))
    said: list[str] = []
    reader.restored.connect(said.append)
    reader.add(View.LCC, "LCC.dcm", 10.0, 20.0, MarkKind.MASS)
    assert [m.view for m in reader.state.marks] == [View.RCC, View.LCC]  # on screen as saved
    assert said and "another mammoview window saved meanwhile is kept" in said[0], said


def replace_read(state: ReadState, marks: tuple[ReaderMark, ...] | None = None,
                 decision: Assessment | None = None) -> ReadState:  # fmt: skip
    """``state`` with other ``marks`` and assessment (of the first read)."""
    state = state if marks is None else replace(state, marks=marks)
    return state if decision is None else replace(state, decision=ReaderDecision(decision))


@pytest.mark.parametrize("found", ["damaged", "failing"])
def test_a_read_found_unreadable_at_the_save_after_the_folder_is_taken_is_said_so_not_at_opening(
    tmp_path,
    failing_reads,  # noqa: F811  (the fixture)
    found,
):
    """Read well as the study opened, while the other viewer held the folder, the read was found damaged (or failing)
    only at the first save once this viewer took the folder: the reader was told it "could not be read when the study
    was opened" (or "still cannot be read"), which sent them looking for a failure that never was."""
    folder, lock = refused_with_one_mark_saved(tmp_path)
    store = ReadStore(folder)
    base = store.load("S")
    assert base.marks and store.problem is None  # read well
    if found == "damaged":
        store.path_for("S").write_text('{"format": 1, "state": ')  # the other viewer's last save, cut short
    else:
        failing_reads.add(store.path_for("S"))
    lock.unlink()
    read_lock._beat()
    try:
        store.save("S", replace_read(base, marks=(*base.marks, mark(2, View.LCC))))
        said = store.problem or ""
    except OSError as exc:
        said = str(exc)
    assert "when the study was opened" not in said and "still" not in said, said
    assert "at this save" in said and "while this window did not hold the reads folder" in said, said
