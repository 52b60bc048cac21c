"""An exam sent in three parts whose first two were opened (and read) together before the third came: the exam of
all three finds the read saved for the first two, as it finds a part's, unless a read of a part it does not cover
was saved too.  None of those files is ever written or removed."""

from __future__ import annotations

from pathlib import Path

from mammoview.gui.read_state import MarkKind, ReaderMark, ReadState
from mammoview.gui.read_store import ReadStore
from mammoview.io import study
from mammoview.io.model import View
from mammoview.io.study import ReadKey, read_key
from tests.gui.test_split_exam_shown import CC_UID, MLO_UID, one, split_exam

LMLO_UID = "1.2.840.5.3"
THREE = {"RCC": CC_UID, "LCC": CC_UID, "RMLO": MLO_UID, "LMLO": LMLO_UID}


def keys(root: Path) -> tuple[ReadKey, ReadKey, ReadKey, ReadKey, ReadKey]:
    """The read keys of the CC part, the R MLO part, the L MLO part, the CC + R MLO exam and the whole exam."""
    split_exam(root, THREE)
    cc, rmlo, lmlo = root / CC_UID, root / MLO_UID, root / LMLO_UID
    return (read_key(one([cc])), read_key(one([rmlo])), read_key(one([lmlo])), read_key(one([cc, rmlo])),
            read_key(one([root])))  # fmt: skip


def files(reads: ReadStore) -> dict[Path, bytes]:
    return {path: path.read_bytes() for path in reads.folder.glob("*.json")}


MARK = ReaderMark(id=1, view=View.RCC, image="RCC.dcm", x=10.0, y=20.0, kind=MarkKind.MASS)


def test_the_whole_exam_lists_the_joins_of_fewer_of_its_parts(tmp_path: Path) -> None:
    *_, first_two, whole = keys(tmp_path)
    assert whole.key == f"{CC_UID} + {MLO_UID} + {LMLO_UID} · Patient ID 0012345"
    assert first_two in whole.joins and len(whole.joins) == 3 and first_two.joins == ()
    assert all(len(join.parts) == 2 and set(join.parts) <= set(whole.parts) for join in whole.joins)


def test_a_read_saved_for_two_of_three_parts_is_found_for_the_whole_exam(tmp_path: Path) -> None:
    cc, _rmlo, _lmlo, first_two, whole = keys(tmp_path / "exam")
    reads = ReadStore(tmp_path / "reads")
    reads.save(cc, ReadState(reading_seconds=5.0))  # the CC part opened alone first: the two parts' read began there
    saved = reads.save(first_two, ReadState(first_read_done=True, marks=(MARK,), reading_seconds=42.0))
    before = files(reads)
    shown = reads.load(whole)
    # as a part's read: its marks and time, but not a first read done (the L MLO view was never in it)
    assert shown.marks == saved.marks and shown.reading_seconds == 42.0 and not shown.first_read_done
    assert "covered that part's views only" in (reads.problem or "")
    assert reads.peek(whole) == shown and not reads.unreadable(whole)
    reads.save(whole, shown)
    assert {p: b for p, b in files(reads).items() if p in before} == before  # written nor removed


def test_reads_of_two_parts_that_neither_covers_are_several(tmp_path: Path) -> None:
    _cc, _rmlo, lmlo, first_two, whole = keys(tmp_path / "exam")
    reads = ReadStore(tmp_path / "reads")
    reads.save(first_two, ReadState(marks=(MARK,)))
    reads.save(lmlo, ReadState(first_read_done=True))
    before = files(reads)
    assert reads.load(whole) == ReadState() and "2 of its parts" in (reads.problem or "")
    assert reads.peek(whole) is None and reads.unreadable(whole) and files(reads) == before


def test_an_exam_of_many_parts_lists_its_largest_joins_up_to_a_bound(tmp_path: Path, monkeypatch) -> None:
    """Each join listed is a file looked for on every worklist row: bounded, the joins missing one part first (the
    likeliest to have been read: the last part was the one that came late)."""
    monkeypatch.setattr(study, "MAX_SUB_JOINS", 5)
    split_exam(tmp_path, {view: f"1.2.840.9.{i}" for i, view in enumerate(("RCC", "LCC", "RMLO", "LMLO"))})
    joins = read_key(one([tmp_path])).joins
    assert [len(join.parts) for join in joins] == [3, 3, 3, 3, 2]
