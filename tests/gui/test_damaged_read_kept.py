"""A saved read that cannot be read is set aside before anything is saved for its study.  When it could not be set
aside (moved: the file in use by another program, a share that refuses renames), the reader was told it "is still"
there, and the first mark placed, or the reading time banked on stepping to the next study, replaced it with the new
read: the old marks and decisions gone without another word.  It is now never written over: the save says why,
and the read is kept in memory (saved once the file can be moved)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from mammoview.gui import read_lock
from mammoview.gui.read_state import MarkKind, ReaderMark, ReadState
from mammoview.gui.read_store import ReadStore
from mammoview.gui.reader_marks import ReaderMarks
from mammoview.io.model import View
from tests.gui.test_read_lock import foreign_lock, taken_over

DAMAGED = '{"format": 1, "study_sha256": "not this study", "state": {"first_read_done": true}}\n'


@pytest.fixture()
def unmovable(monkeypatch):  # type: ignore[no-untyped-def]
    """Setting a file aside (renaming it to *.damaged-*) fails while ``blocked`` is true."""
    real = os.replace
    blocked = [True]

    def replace(src, dst):  # type: ignore[no-untyped-def]
        if blocked[0] and ".damaged-" in str(dst):
            raise PermissionError(13, "The file is in use by another program", str(src))
        return real(src, dst)

    monkeypatch.setattr(os, "replace", replace)
    return blocked


def test_a_damaged_read_that_could_not_be_set_aside_is_not_written_over(tmp_path, unmovable):
    store = ReadStore(tmp_path / "reads")
    path = store.path_for("A")
    path.parent.mkdir(parents=True)
    path.write_text(DAMAGED)
    reader = ReaderMarks(store)
    said: list[str] = []
    reader.loadFailed.connect(said.append)
    reader.saveFailed.connect(said.append)
    reader.open_study("A")
    assert said and "could not be set aside" in said[0]
    mark = reader.add(View.RCC, "RCC.dcm", 10.0, 20.0, MarkKind.MASS)
    assert path.read_text() == DAMAGED, "the read the reader was told is still there was written over"
    assert len(said) == 2 and "not written over" in said[1]
    assert reader.marks == (mark,) and "A" in reader.unsaved  # the new mark is kept, and quitting asks
    unmovable[0] = False  # the other program let go of the file
    reader.add(View.RCC, "RCC.dcm", 30.0, 40.0, MarkKind.MASS)
    assert [m.id for m in store.load("A").marks] == [1, 2]  # saved now...
    (aside,) = path.parent.glob(f"{path.name}.damaged-*")
    assert aside.read_text() == DAMAGED  # ...with the old read set aside first


def test_stepping_on_does_not_write_over_a_damaged_read_that_stays(tmp_path, unmovable):
    store = ReadStore(tmp_path / "reads")
    path = store.path_for("A")
    path.parent.mkdir(parents=True)
    path.write_text(DAMAGED)
    t = [0.0]
    reader = ReaderMarks(store, clock=lambda: t[0])
    reader.open_study("A")
    t[0] += 20  # the reader looks, places nothing, and steps on: the reading time is banked
    reader.open_study("B")
    assert path.read_text() == DAMAGED


@pytest.mark.parametrize("how", ["refused at opening", "taken over"])
def test_a_window_that_does_not_hold_the_reads_folder_leaves_a_damaged_read_to_the_one_that_does(tmp_path, how):
    """Refused the reads folder (another viewer saves there), or taken over since, a window set a damaged read aside
    as it loaded it, in a folder it does not own: a race could move the other viewer's good read aside.  It now
    leaves the file as it is, says it looks damaged, and sets it aside only once the folder is its own."""
    store = ReadStore(tmp_path / "reads")
    path = store.path_for("A")
    if how == "refused at opening":
        path.parent.mkdir(parents=True)
        foreign_lock(Path(f"{store.folder}.lock"))
    else:
        store.save("B", store.load("B"))  # the folder held...
        taken_over(store.folder)  # ...and taken over while this computer slept
    path.write_text(DAMAGED)
    assert store.load("A").marks == ()
    assert [p.name for p in path.parent.iterdir() if p.name.startswith(path.name)] == [path.name], "renamed aside"
    assert path.read_text() == DAMAGED
    said = store.problem or ""
    assert "looks damaged" in said and "another mammoview window" in said and "set aside" not in said, said
    Path(f"{os.path.realpath(store.folder)}.lock").unlink()  # the other viewer quits
    read_lock._beat()  # this window takes the folder
    saved = store.save("A", ReadState(marks=(ReaderMark(1, View.RCC, "RCC.dcm", 10.0, 20.0, MarkKind.MASS),)))
    (aside,) = path.parent.glob(f"{path.name}.damaged-*")  # set aside now, by the window that holds the folder
    said = store.problem or ""
    assert "looked damaged when the study was opened" in said and aside.name in said, said
    assert aside.read_text() == DAMAGED and store.load("A") == saved
