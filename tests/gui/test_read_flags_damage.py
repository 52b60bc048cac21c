"""A saved read whose yes/no fields are not JSON booleans (hand-edited: "first_read_done": "false" to reopen a
first read closed by mistake, "after_cad": "no") was read with Python's bool(): any non-empty string is True, so
"false" closed the first read (CAD shown, the decision frozen, the study counted as read in the read log) and a
first-read mark became one placed after CAD (deletable, counted in marks_after_cad).  Such a value is damage, set
aside and said like any other, never read as its opposite; so is a negative reading time."""

from __future__ import annotations

import json

import pytest

from mammoview.gui.read_state import ReadState
from mammoview.gui.read_store import ReadStore, study_hash

MARK = {"id": 1, "view": "LCC", "image": "i", "x": 1.0, "y": 2.0, "kind": "mass"}


@pytest.mark.parametrize(
    "state",
    [
        {"first_read_done": "false"},
        {"first_read_done": "no"},
        {"marks": [{**MARK, "after_cad": "false"}]},
        {"reading_seconds": -30.0},
    ],
)
def test_a_flag_that_is_not_a_boolean_is_damage_not_true(tmp_path, state):
    store = ReadStore(tmp_path)
    store.path_for("S").write_text(json.dumps({"format": 1, "study_sha256": study_hash("S"), "state": state}))
    assert store.peek("S") is None, store.peek("S")


def test_real_booleans_and_older_reads_still_load():
    assert ReadState.from_json({"first_read_done": True}).first_read_done
    assert not ReadState.from_json({"first_read_done": False}).first_read_done
    assert not ReadState.from_json({}).first_read_done  # a read saved before the flag
    state = ReadState.from_json({"marks": [{**MARK, "id": 2, "after_cad": True}, MARK]})
    assert [m.after_cad for m in state.marks] == [True, False]
