"""Reads saved where no lock file can be made (an app-data folder read-only while its reads/ folder is writable, some
network shares): this window cannot know that nobody else saves there, so each save reads the study's read again and
adds to what another window saved meanwhile, as a save under a new hold of the folder does."""

from __future__ import annotations

from dataclasses import replace

import pytest
from PySide6 import QtCore

from mammoview.gui import read_lock
from mammoview.gui.read_lock import claim_folder, holding
from mammoview.gui.read_state import Assessment, MarkKind, ReaderDecision, ReadState
from mammoview.gui.read_store import ReadConflict, ReadStore
from mammoview.io.model import View
from tests.gui.test_read_saved_meanwhile import mark


@pytest.fixture
def no_lock_file(monkeypatch, tmp_path):  # type: ignore[no-untyped-def]
    """No lock file can be made beside the reads folder (as root, a read-only folder cannot be made here: the error
    Qt gives for one)."""
    monkeypatch.setattr(read_lock, "_take", lambda key: QtCore.QLockFile.LockError.PermissionError)
    assert claim_folder(tmp_path / "reads") is None and holding(tmp_path / "reads") is None  # (never held)


def test_two_windows_without_a_lock_add_to_each_others_reads(tmp_path, no_lock_file):
    """Both loaded the study's read under "no hold", and saved under "no hold": taken for one hold, nothing was read
    again, and the second save wrote its whole read over the first's mark and assessment."""
    first, second = ReadStore(tmp_path / "reads"), ReadStore(tmp_path / "reads")
    assert first.load("S") == second.load("S") == ReadState()
    first.save("S", ReadState(marks=(mark(1, View.RCC),), decision=ReaderDecision(Assessment.RECALL)))
    saved = second.save("S", ReadState(marks=(mark(1, View.LCC),)))
    assert [(m.id, m.view) for m in saved.marks] == [(1, View.RCC), (2, View.LCC)] and second.kept_theirs
    assert saved.decision.assessment is Assessment.RECALL
    assert ReadStore(tmp_path / "reads").load("S") == saved


def test_a_change_that_would_take_the_other_windows_work_away_is_a_conflict_not_a_save(tmp_path, no_lock_file):
    first, second = ReadStore(tmp_path / "reads"), ReadStore(tmp_path / "reads")
    first.save("S", ReadState(marks=(mark(1, View.RCC),)))
    base = first.load("S")
    assert second.load("S") == base
    on_disk = first.save("S", replace(base, marks=(*base.marks, mark(2, View.LCC)))).to_json()
    with pytest.raises(ReadConflict, match="you deleted or changed marks R1, which it kept"):
        second.save("S", replace(base, marks=()))
    assert ReadStore(tmp_path / "reads").load("S").to_json() == on_disk


def test_a_lone_window_without_a_lock_saves_as_its_reader_left_the_read(tmp_path, no_lock_file):
    """Its own earlier save is what the next one is compared with: deleting, changing and undoing its own marks and
    decisions is no conflict with itself."""
    store = ReadStore(tmp_path / "reads")
    state = store.load("S")
    for change in (
        {"marks": (mark(1, View.RCC), mark(2, View.LCC)), "decision": ReaderDecision(Assessment.RECALL)},
        {"marks": (mark(2, View.LCC),)},
        {"marks": (replace(mark(2, View.LCC), kind=MarkKind.CALCIFICATION),), "decision": ReaderDecision()},
        {"reading_seconds": 12.34},
    ):
        wanted = replace(state, **change)
        state = store.save("S", wanted)
        assert state == replace(wanted, updated=state.updated) and not store.kept_theirs and store.problem is None
    assert ReadStore(tmp_path / "reads").load("S").to_json() == state.to_json()
