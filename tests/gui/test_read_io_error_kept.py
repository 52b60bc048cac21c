"""A saved read that could not be read for an I/O error (EIO, EACCES, a network share gone stale) is not damage: it
was renamed aside as ``*.damaged-*`` like a broken file, the study showed as not read, and its next save wrote only
the new session's marks, so the reader's first read was no longer the study's.  It is now left as it is and never
written over; the next save reads it again and adds what the reader did meanwhile to it."""

from __future__ import annotations

import errno
import json
from pathlib import Path

import pytest

from mammoview.gui.read_state import Assessment, MarkKind, Measurement, ReaderDecision, ReaderMark, ReadState
from mammoview.gui.read_store import ReadStore
from mammoview.gui.reader_marks import ReaderMarks
from mammoview.io.model import View
from mammoview.io.study import ReadKey


@pytest.fixture()
def failing_reads(monkeypatch) -> set[Path]:  # type: ignore[no-untyped-def]
    """The files (added by the test) whose read fails with EIO, as on a failing disk or a stale share."""
    failing: set[Path] = set()
    real = Path.read_text

    def read_text(self: Path, *args, **kwargs) -> str:  # type: ignore[no-untyped-def]
        if self in failing:
            raise OSError(errno.EIO, "Input/output error", str(self))
        return real(self, *args, **kwargs)

    monkeypatch.setattr(Path, "read_text", read_text)
    return failing


def mark(n: int, x: float) -> ReaderMark:
    return ReaderMark(n, View.LCC, "LCC.dcm", x, 20.0, MarkKind.MASS, created="2024-01-01T00:00:00+00:00")


FIRST_READ = ReadState(first_read_done=True, done_at="2024-01-01T00:10:00+00:00", marks=(mark(1, 10.0), mark(2, 30.0)),
                       decision=ReaderDecision(Assessment.RECALL, "c"), reading_seconds=95.0)  # fmt: skip


def saved_first_read(tmp_path: Path) -> tuple[ReadStore, Path, str]:
    store = ReadStore(tmp_path / "reads")
    store.save("A", FIRST_READ)
    path = store.path_for("A")
    return store, path, path.read_text()


def test_a_read_that_fails_to_read_is_left_as_it_is_and_said(tmp_path, failing_reads):
    store, path, text = saved_first_read(tmp_path)
    failing_reads.add(path)
    assert store.load("A") == ReadState()
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # not renamed aside as damaged
    assert store.problem is not None
    assert "could not be read just now" in store.problem and "left as it is" in store.problem
    assert "Input/output error" in store.problem
    failing_reads.clear()
    assert path.read_text() == text


def test_the_next_save_adds_the_new_work_to_the_read_once_it_reads(tmp_path, failing_reads):
    store, path, _ = saved_first_read(tmp_path)
    failing_reads.add(path)
    session = store.load("A")
    failing_reads.clear()  # the share is back
    new = ReaderMark(1, View.RCC, "RCC.dcm", 5.0, 6.0, MarkKind.CALCIFICATION, created="2024-02-01T00:00:00+00:00")
    saved = store.save("A", ReadState(marks=(new,), reading_seconds=12.0, decision=ReaderDecision(density="d")))
    assert store.problem is None
    on_disk = ReadStore(store.folder).load("A")
    assert on_disk == saved
    assert on_disk.first_read_done and on_disk.done_at == FIRST_READ.done_at  # the first read stays done...
    assert on_disk.decision == FIRST_READ.decision and on_disk.reading_seconds == 95.0  # ...and frozen
    assert on_disk.marks[:2] == FIRST_READ.marks
    (added,) = on_disk.marks[2:]  # numbered after the saved ones, and not part of the unaided first read
    assert (added.id, added.image, added.x, added.kind, added.after_cad) == (3, "RCC.dcm", 5.0, new.kind, True)
    assert on_disk.decision_after_cad == ReaderDecision(density="d")  # the reader's latest grade
    assert session == ReadState()


def test_a_read_still_failing_is_not_written_over(tmp_path, failing_reads):
    store, path, text = saved_first_read(tmp_path)
    failing_reads.add(path)
    store.load("A")
    with pytest.raises(OSError, match="not written over"):
        store.save("A", ReadState(marks=(mark(1, 50.0),)))
    failing_reads.clear()
    assert path.read_text() == text
    assert [p.name for p in path.parent.iterdir()] == [path.name]


def test_a_read_that_now_reads_as_damaged_is_set_aside_and_the_new_work_saved(tmp_path, failing_reads):
    store, path, _ = saved_first_read(tmp_path)
    failing_reads.add(path)
    store.load("A")
    failing_reads.clear()
    path.write_text('{"format": 1, "state": ')  # what the failing disk gave back
    store.save("A", ReadState(marks=(mark(1, 50.0),)))
    (aside,) = path.parent.glob(f"{path.name}.damaged-*")
    assert aside.read_text() == '{"format": 1, "state": '
    assert store.load("A").marks == (mark(1, 50.0),)


def test_a_legacy_read_that_failed_to_read_is_added_to_and_then_removed(tmp_path, failing_reads):
    store = ReadStore(tmp_path / "reads")
    store.save("legacy", FIRST_READ)  # saved before reads were keyed by woman
    legacy = store.path_for("legacy")
    key = ReadKey("own", legacy="legacy")
    failing_reads.add(legacy)
    assert store.load(key) == ReadState() and store.problem is not None
    failing_reads.clear()
    store.save(key, ReadState(marks=(mark(1, 50.0),)))
    assert [m.x for m in store.load(key).marks] == [10.0, 30.0, 50.0]
    assert not legacy.exists()  # the same read, now in the study's own file


def test_the_same_mark_is_not_added_twice(tmp_path, failing_reads):
    store, path, _ = saved_first_read(tmp_path)
    failing_reads.add(path)
    store.load("A")
    failing_reads.clear()
    saved = store.save("A", ReadState(marks=(mark(7, 30.0), mark(8, 70.0))))  # R7 is the saved R2, come back
    assert [(m.id, m.x) for m in saved.marks] == [(1, 10.0), (2, 30.0), (3, 70.0)]


def test_an_unaided_read_in_two_sittings_is_one_read():
    from mammoview.gui.read_merge import merge_reads

    saved = ReadState(marks=(mark(1, 10.0),), decision=ReaderDecision(density="b"), reading_seconds=40.0)
    session = ReadState(first_read_done=True, done_at="2024-02-01T00:00:00+00:00", marks=(mark(1, 60.0),),
                        decision=ReaderDecision(Assessment.NEGATIVE), reading_seconds=25.0,
                        decision_after_cad=ReaderDecision(Assessment.NEGATIVE))  # fmt: skip
    merged = merge_reads(saved, session)
    assert [(m.id, m.x, m.after_cad) for m in merged.marks] == [(1, 10.0, False), (2, 60.0, False)]
    assert merged.first_read_done and merged.done_at == session.done_at and merged.reading_seconds == 65.0
    assert merged.decision == merged.decision_after_cad == ReaderDecision(Assessment.NEGATIVE, "b")
    assert merge_reads(merged, merged) == merged  # nothing is added twice


def open_while_failing(reader: ReaderMarks, path: Path, failing: set[Path]) -> None:
    """Open study A while its saved read fails to read (held), then let the share come back."""
    failing.add(path)
    reader.open_study("A")
    failing.clear()


def test_the_reader_sees_the_merged_read_and_its_undo_cannot_take_the_saved_marks_away(tmp_path, failing_reads):
    store, path, _ = saved_first_read(tmp_path)
    t = [0.0]
    reader = ReaderMarks(store, clock=lambda: t[0])
    said: list[str] = []
    reader.loadFailed.connect(said.append)
    reader.saveFailed.connect(said.append)
    restored: list[str] = []
    reader.restored.connect(restored.append)
    failing_reads.add(path)
    reader.open_study("A")
    assert said and "could not be read just now" in said[0]
    reader.add(View.RCC, "RCC.dcm", 5.0, 6.0, MarkKind.MASS)  # still failing: kept in memory, said
    assert len(said) == 2 and "not written over" in said[1] and "A" in reader.unsaved
    assert json.loads(path.read_bytes())["state"]["marks"] == [m.to_json() for m in FIRST_READ.marks]
    failing_reads.clear()
    t[0] += 30
    reader.add(View.RCC, "RCC.dcm", 7.0, 8.0, MarkKind.MASS)
    assert [m.id for m in reader.marks] == [1, 2, 3, 4] and reader.first_read_done and not reader.unsaved
    assert not reader.can_undo  # its steps were taken on the read shown without the saved marks
    assert len(restored) == 1 and "could be read again" in restored[0] and "CAD is available" in restored[0]
    reader.add(View.RCC, "RCC.dcm", 9.0, 8.0, MarkKind.MASS)  # a plain save: nothing restored, nothing said
    assert len(restored) == 1 and reader.can_undo
    reader.undo()
    assert reader.undo() is None and store.load("A").marks[:2] == FIRST_READ.marks
    t[0] += 30
    reader.open_study("B")  # the first read was done: no reading time is added to it
    assert store.load("A").reading_seconds == 95.0


def test_a_joined_exam_adds_to_its_parts_read_and_leaves_the_part_its_own(tmp_path, failing_reads):
    """A split exam's part read (saved when the part was opened alone) that failed to read when the joined exam
    opened: the exam's save adds the session to it in the exam's own file, and the part's file stays, as a load that
    reads it leaves it (its part opened alone still shows it).  The save removed it, as if it were a legacy read."""
    store = ReadStore(tmp_path / "reads")
    part, other = ReadKey("U1 · Patient ID 7", "7", legacy="U1"), ReadKey("U2 · Patient ID 7", "7", legacy="U2")
    exam = ReadKey("U1 + U2 · Patient ID 7", "7", parts=(part, other))
    store.save(part, FIRST_READ)
    part_file = store.path_for(part.key)
    before = part_file.read_bytes()
    failing_reads.add(part_file)
    assert store.load(exam) == ReadState() and store.problem is not None
    failing_reads.clear()
    saved = store.save(exam, ReadState(marks=(mark(1, 50.0),)))
    assert [m.x for m in saved.marks] == [10.0, 30.0, 50.0] and not saved.first_read_done  # (a part's: not done)
    assert part_file.read_bytes() == before  # the part's own read, as it was


def test_the_mark_and_length_placed_by_the_save_that_restores_the_read_are_returned_as_saved(tmp_path, failing_reads):
    """The save that adds the session to the saved read numbers the session's marks and lengths after the saved ones:
    the one returned (whose label the status bar gives, "M1: 12 mm") was the one handed in, named after a saved one."""
    store = ReadStore(tmp_path / "reads")
    length = Measurement(1, View.LCC, "LCC.dcm", 0.0, 0.0, 9.0, 9.0, created="2024-01-01T00:00:00+00:00")
    store.save("A", ReadState(marks=(mark(1, 10.0),), measurements=(length,)))
    path = store.path_for("A")
    reader = ReaderMarks(store)
    for place in (lambda: reader.add_measurement(View.LCC, "LCC.dcm", (1.0, 2.0), (3.0, 4.0)),
                  lambda: reader.add(View.RCC, "RCC.dcm", 5.0, 6.0, MarkKind.MASS)):  # fmt: skip
        open_while_failing(reader, path, failing_reads)  # (the file failing to read again: held again)
        placed = place()
        assert placed is not None and placed.label in ("M2", "R2"), placed
        assert placed in (*reader.marks, *reader.measurements)


def test_the_reader_is_told_when_the_read_that_failed_to_read_is_damaged_at_the_save(tmp_path, failing_reads):
    """Told at opening that the read is added to once it reads, the reader heard nothing when the save found it
    damaged instead and set it aside: the session alone became the study's read, unsaid."""
    store, path, _ = saved_first_read(tmp_path)
    reader = ReaderMarks(store)
    said: list[str] = []
    reader.loadFailed.connect(said.append)
    open_while_failing(reader, path, failing_reads)
    path.write_text('{"format": 1, "state": ')  # what the failing disk gave back
    reader.add(View.RCC, "RCC.dcm", 5.0, 6.0, MarkKind.MASS)
    (aside,) = path.parent.glob(f"{path.name}.damaged-*")
    assert len(said) == 2 and "damaged" in said[1] and aside.name in said[1], said
    reader.add(View.RCC, "RCC.dcm", 7.0, 8.0, MarkKind.MASS)  # said once
    assert len(said) == 2 and [m.x for m in store.load("A").marks] == [5.0, 7.0]


def test_a_first_read_done_in_the_session_is_not_said_to_have_been_done_before(tmp_path, failing_reads):
    store = ReadStore(tmp_path / "reads")
    store.save("A", ReadState(marks=(mark(1, 10.0),), reading_seconds=20.0))  # a first read begun, not done
    path = store.path_for("A")
    reader = ReaderMarks(store)
    restored: list[str] = []
    reader.restored.connect(restored.append)
    open_while_failing(reader, path, failing_reads)
    reader.set_first_read_done()  # the session's: CAD comes with it, not with the saved read
    assert reader.first_read_done and len(restored) == 1 and "done before" not in restored[0], restored
