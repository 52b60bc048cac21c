"""A reads folder that fails under the reader (a network share gone stale, a failing disk): an I/O error while the
saved read of a study is looked for is said, never an exception that leaves the previous study's read in charge."""

from __future__ import annotations

import errno
import sys
from pathlib import Path

import pytest

from mammoview.gui.read_state import MarkKind
from mammoview.gui.read_store import ReadStore
from mammoview.gui.reader_marks import ReaderMarks
from mammoview.io.model import View


@pytest.fixture()
def stale_share(monkeypatch) -> set[Path]:  # type: ignore[no-untyped-def]
    """The folders (added by the test) where looking for a file fails with EIO, as ``stat`` of a file on a network
    share that went away, or on a failing disk, does; taken out again, the folder is back."""
    failing: set[Path] = set()
    real_exists = Path.exists

    def exists(self: Path) -> bool:
        if self.parent in failing:
            raise OSError(errno.EIO, "Input/output error", str(self))
        return real_exists(self)

    monkeypatch.setattr(Path, "exists", exists)
    return failing


def test_a_study_opened_while_the_reads_folder_fails_is_not_read_into_the_previous_one(tmp_path, stale_share, qtbot):
    store = ReadStore(tmp_path / "reads")
    reader = ReaderMarks(store)
    reader.open_study("A")
    reader.add(View.RCC, "a.dcm", 10.0, 20.0, MarkKind.MASS)
    stale_share.add(store.folder)
    said: list[str] = []
    reader.loadFailed.connect(said.append)
    reader.open_study("B")  # raised OSError: study B on screen, study A's read (and its mark) still in charge
    assert reader.study_key == "B" and reader.marks == ()
    assert said and "could not be read" in said[0] and "Input/output error" in said[0]
    reader.add(View.LCC, "b.dcm", 30.0, 40.0, MarkKind.CALCIFICATION)
    stale_share.clear()  # the share is back
    assert [m.image for m in ReadStore(store.folder).peek("A").marks] == ["a.dcm"]  # A's read has B's mark nowhere


def test_the_read_log_of_a_worklist_whose_reads_folder_fails_is_no_exception(tmp_path, stale_share):
    from mammoview.gui.read_log import UNREADABLE, read_log_rows
    from mammoview.io.study import open_paths
    from tests.gui.test_worklist import batch

    studies, _ = open_paths([str(batch(tmp_path / "batch"))])
    store = ReadStore(tmp_path / "reads")
    store.folder.mkdir()
    stale_share.add(store.folder)
    rows = read_log_rows(studies, store)  # raised OSError: File > Export worklist read log crashed
    assert {r["first_read_done"] for r in rows} == {UNREADABLE}  # not "no": a read may be there


def test_a_study_opened_in_the_viewer_while_the_reads_folder_fails_is_said(main_window, load, synthetic_study,
                                                                            stale_share, monkeypatch):  # fmt: skip
    errors: list[object] = []
    monkeypatch.setattr(sys, "excepthook", lambda *a: errors.append(a))
    said: list[str] = []
    main_window.problemsReported.connect(lambda title, text: said.append(title))
    stale_share.add(main_window.cad.reader.store.folder)
    load(main_window, [synthetic_study])
    assert not errors
    assert "Your read could not be restored" in said
