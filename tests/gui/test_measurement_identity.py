"""Each length measurement drawn carries an identity of its own (a short random ``uid``), as a mark does, saved with it
and kept through undo and redo: a save that rebases the read onto one another viewer saved meanwhile matches
measurements by it, so two lines drawn alike (one spot, one second) in two windows are two lines.  Reads saved before
(or by an older mammoview, which drops it) have none: their measurements are matched by where and when they were
drawn, as before."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from mammoview.gui.read_merge import rebase_read
from mammoview.gui.read_state import Measurement, ReadState
from mammoview.gui.read_store import ReadStore
from mammoview.gui.reader_marks import ReaderMarks
from mammoview.io.model import View

SECOND = "2024-03-01T09:00:00+00:00"


def line(n: int, uid: str, x: float = 10.0) -> Measurement:
    """Measurement M``n``, drawn at the spot (``x``) and in the second the others are."""
    return Measurement(n, View.RCC, "RCC.dcm", x, 20.0, 40.0, 60.0, created=SECOND, uid=uid)


def test_measurements_drawn_carry_their_own_identity_through_undo_and_redo(tmp_path):
    reader = ReaderMarks(ReadStore(tmp_path / "reads"))
    reader.open_study("S")
    first = reader.add_measurement(View.RCC, "RCC.dcm", (10.0, 20.0), (40.0, 60.0))
    second = reader.add_measurement(View.RCC, "RCC.dcm", (10.0, 20.0), (40.0, 60.0))
    assert first is not None and second is not None
    assert len(first.uid) == 8 and int(first.uid, 16) >= 0 and second.uid and first.uid != second.uid
    reader.remove_measurement(first.id)
    reader.undo()
    reader.undo()
    reader.redo()
    assert [m.uid for m in reader.measurements] == [first.uid, second.uid]
    on_disk = json.loads(reader.store.path_for("S").read_text())["state"]["measurements"]
    assert [m["uid"] for m in on_disk] == [first.uid, second.uid]
    assert ReadStore(tmp_path / "reads").load("S").measurements == reader.measurements


def test_a_read_saved_before_measurements_had_an_identity_reads_and_is_written_back_as_it_was(tmp_path):
    store = ReadStore(tmp_path / "reads")
    store.save("S", ReadState(measurements=(line(1, ""),)))
    doc = json.loads(store.path_for("S").read_text())
    assert "uid" not in doc["state"]["measurements"][0] and doc["format"] == 1  # (no empty one written)
    assert store.load("S").measurements[0].uid == ""


@pytest.mark.parametrize("uids, said", [((7, None), "7 is not a string"),
                                        (("a1", "a1"), "two of its measurements are one")])  # fmt: skip
def test_a_hand_edited_measurement_identity_is_damage(uids, said):
    lines = [{**line(n, "").to_json(), "uid": uid} for n, uid in enumerate(uids, 1)]
    with pytest.raises(ValueError, match=said):
        ReadState.from_json({"measurements": [{k: v for k, v in m.items() if v is not None} for m in lines]})


def test_two_lines_drawn_alike_in_two_windows_both_survive_a_rebase():
    """Both windows began from an empty read and drew a line at one spot in one second: matched by place, they were
    one line, and the reader's was dropped as already there."""
    theirs = ReadState(measurements=(line(1, "aaaa0001"),))
    merged = rebase_read(ReadState(), ReadState(measurements=(line(1, "bbbb0002"),)), theirs)
    assert [(m.id, m.uid) for m in merged.measurements] == [(1, "aaaa0001"), (2, "bbbb0002")]


def test_deleting_one_of_two_lines_drawn_alike_that_the_other_window_kept_is_a_conflict():
    base = ReadState(measurements=(line(1, "aaaa0001"), line(2, "bbbb0002")))
    theirs = replace(base, measurements=(*base.measurements, line(3, "cccc0003", x=99.0)))
    with pytest.raises(ValueError, match="you deleted or changed measurements M1, which it kept"):
        rebase_read(base, replace(base, measurements=base.measurements[1:]), theirs)


def test_a_read_an_older_mammoview_saved_without_identities_is_rebased_onto_by_where_lines_were_drawn():
    """The other viewer an older mammoview: its save dropped the lines' uids.  They are the same lines still, neither
    deleted nor changed (no conflict), and none is added twice."""
    base = ReadState(measurements=(line(1, "aaaa0001"), line(2, "bbbb0002", x=50.0)))
    theirs = replace(base, measurements=tuple(replace(m, uid="") for m in (*base.measurements, line(3, "", x=70.0))))
    ours = replace(base, measurements=(*base.measurements, line(3, "dddd0004", x=90.0)))
    merged = rebase_read(base, ours, theirs)
    assert [(m.id, m.x0, m.uid) for m in merged.measurements] == [(1, 10.0, ""), (2, 50.0, ""), (3, 70.0, ""),
                                                                  (4, 90.0, "dddd0004")]  # fmt: skip
