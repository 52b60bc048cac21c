"""A saved read holding two marks (or two measurements) of one number (hand-merged reads, a read edited by hand) was
taken as it was: the findings panel's comparison listed one of the two marks only (they are matched by number), and
deleting R1 deleted both, the one never selected included.  Such a read is damage, set aside and said like any
other, never read with one mark standing for two."""

from __future__ import annotations

import json

import pytest

from mammoview.gui.read_state import ReadState
from mammoview.gui.read_store import ReadStore, study_hash

MARK = {"id": 1, "view": "RCC", "image": "i", "x": 1.0, "y": 2.0, "kind": "mass"}
LINE = {"id": 1, "view": "RCC", "image": "i", "p0": [1.0, 2.0], "p1": [30.0, 40.0]}


@pytest.mark.parametrize(
    "state",
    [
        {"marks": [MARK, {**MARK, "x": 100.0, "y": 200.0, "kind": "calcification"}]},
        {"measurements": [LINE, {**LINE, "p1": [90.0, 90.0]}]},
    ],
)
def test_a_read_with_two_marks_of_one_number_is_damage(tmp_path, state):
    store = ReadStore(tmp_path)
    store.path_for("S").write_text(json.dumps({"format": 1, "study_sha256": study_hash("S"), "state": state}))
    assert store.peek("S") is None, store.peek("S")
    assert store.load("S") == ReadState() and "could not be read" in (store.problem or "")
    assert list(tmp_path.glob("*.damaged-*")), "the read is set aside, not lost"


def test_marks_and_measurements_may_share_a_number():
    state = ReadState.from_json({"marks": [MARK, {**MARK, "id": 2}], "measurements": [LINE]})
    assert [m.label for m in state.marks] == ["R1", "R2"] and [m.label for m in state.measurements] == ["M1"]
