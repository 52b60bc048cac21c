"""Each mark placed carries an identity of its own (a short random ``uid``), saved with it and kept through its
changes, undo and redo: a save that rebases the read onto one another viewer saved meanwhile matches marks by it, so
two marks placed at one spot in one second are two marks.  Reads saved before (or by an older mammoview, which drops
it) have none: their marks are matched by where and when they were placed, as before."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from mammoview.gui import reader_marks
from mammoview.gui.read_merge import rebase_read
from mammoview.gui.read_state import MarkKind, ReaderMark, ReadState
from mammoview.gui.read_store import ReadStore
from mammoview.gui.reader_marks import ReaderMarks
from mammoview.io.model import View
from tests.gui.test_read_saved_meanwhile import mark
from tests.gui.test_read_unlocked_saves import no_lock_file  # noqa: F401  (fixture)

SECOND = "2024-03-01T09:00:00+00:00"


def at_one_spot(uid: str, n: int, kind: MarkKind) -> ReaderMark:
    """Mark R``n`` of ``kind``, placed at the spot and in the second the others are."""
    return ReaderMark(n, View.RCC, "RCC.dcm", 10.0, 20.0, kind, created=SECOND, uid=uid)


def test_marks_placed_carry_their_own_identity_through_changes_undo_and_redo(tmp_path):
    reader = ReaderMarks(ReadStore(tmp_path / "reads"))
    reader.open_study("S")
    first = reader.add(View.RCC, "RCC.dcm", 10.0, 20.0, MarkKind.MASS)
    second = reader.add(View.RCC, "RCC.dcm", 10.0, 20.0, MarkKind.MASS)
    assert first is not None and second is not None and first.uid and second.uid and first.uid != second.uid
    reader.set_kind(first.id, MarkKind.CALCIFICATION)
    reader.remove(second.id)
    reader.undo()
    reader.undo()
    reader.redo()
    assert [(m.uid, m.kind) for m in reader.marks] == [(first.uid, MarkKind.CALCIFICATION), (second.uid, MarkKind.MASS)]
    on_disk = json.loads(reader.store.path_for("S").read_text())["state"]["marks"]
    assert [m["uid"] for m in on_disk] == [first.uid, second.uid]
    assert ReadStore(tmp_path / "reads").load("S").marks == reader.marks


def test_a_read_saved_before_marks_had_an_identity_reads_and_is_written_back_as_it_was(tmp_path):
    store = ReadStore(tmp_path / "reads")
    old = ReadState(marks=(mark(1, View.RCC),))
    path = store.path_for("S")
    store.save("S", old)
    doc = json.loads(path.read_text())
    assert "uid" not in doc["state"]["marks"][0]  # (no empty one written)
    assert store.load("S").marks[0].uid == ""


@pytest.mark.parametrize("uids, said", [((7, None), "7 is not a string"), (("a1", "a1"), "two of its marks are one")])
def test_a_hand_edited_identity_is_damage(uids, said):
    marks = [{**at_one_spot("", n, MarkKind.MASS).to_json(), "id": n, "uid": uid} for n, uid in enumerate(uids, 1)]
    with pytest.raises(ValueError, match=said):
        ReadState.from_json({"marks": [{k: v for k, v in m.items() if v is not None} for m in marks]})


@pytest.mark.parametrize("uids", [("aa", "bb"), ("", "")], ids=["placed-now", "saved-before-identities"])
def test_deleting_one_of_two_marks_placed_at_one_spot_in_one_second_is_not_undone_by_a_rebase(uids):
    """A mass and a calcification placed at one spot in one second matched as one mark (their kinds aside): the
    reader's deletion of the mass, which the other viewer kept, passed, and the rebase brought the mass back.  Without
    identities (a read saved before them), the one unchanged is taken for the mark it is."""
    first, second = uids
    base = ReadState(marks=(at_one_spot(first, 1, MarkKind.MASS), at_one_spot(second, 2, MarkKind.CALCIFICATION)))
    theirs = replace(base, marks=(*base.marks, mark(3, View.LCC)))
    with pytest.raises(ValueError, match="you deleted or changed marks R1, which it kept"):
        rebase_read(base, replace(base, marks=base.marks[1:]), theirs)


def test_a_read_an_older_mammoview_saved_without_identities_is_rebased_onto_by_where_marks_were_placed():
    """The other viewer an older mammoview: its save dropped the marks' uids.  Its marks are the same marks still,
    neither deleted nor changed (no conflict), and none is added twice."""
    base = ReadState(marks=(at_one_spot("aa", 1, MarkKind.MASS), replace(mark(2, View.LCC), uid="cc")))
    theirs = replace(base, marks=tuple(replace(m, uid="") for m in (*base.marks, mark(3, View.LMLO))))
    ours = replace(base, marks=(replace(base.marks[0], kind=MarkKind.OTHER), base.marks[1]))
    with pytest.raises(ValueError, match="you deleted or changed marks R1, which it kept"):
        rebase_read(base, ours, theirs)
    added = replace(mark(4, View.RMLO), uid="dd")
    merged = rebase_read(base, replace(base, marks=(*base.marks, added)), theirs)
    assert [(m.id, m.view, m.uid) for m in merged.marks] == [(1, View.RCC, ""), (2, View.LCC, ""), (3, View.LMLO, ""),
                                                             (4, View.RMLO, "dd")]  # fmt: skip


def test_a_reader_deleting_one_of_two_marks_at_one_spot_is_told_the_other_window_kept_it(
    tmp_path,
    no_lock_file,  # noqa: F811  (the fixture)
    monkeypatch,
):
    """Two windows saving without a lock (each save rebased); the other window kept both marks."""
    monkeypatch.setattr(reader_marks, "now_iso", lambda: SECOND)  # (both placed in one second)
    reader = ReaderMarks(ReadStore(tmp_path / "reads"))
    reader.open_study("S")
    reader.add(View.RCC, "RCC.dcm", 10.0, 20.0, MarkKind.MASS)
    reader.add(View.RCC, "RCC.dcm", 10.0, 20.0, MarkKind.CALCIFICATION)
    other = ReadStore(tmp_path / "reads")
    theirs = other.save("S", replace(other.load("S"), marks=(*reader.marks, mark(3, View.LCC))))
    failed: list[str] = []
    reader.saveFailed.connect(failed.append)
    reader.remove(1)
    assert failed and "R1, which it kept" in failed[0], f"not said; saved as {reader.marks}"
    assert [m.kind for m in reader.marks] == [MarkKind.CALCIFICATION]  # as the reader left it, on screen
    assert ReadStore(tmp_path / "reads").load("S").to_json() == theirs.to_json()
