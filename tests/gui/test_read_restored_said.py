"""What the viewer says when a save adds the reader's session to their saved read, which could not be read (an I/O
error) when the study was opened: the undo history is gone with it (its steps were taken on the read shown empty), so
no message may offer Ctrl+Z, and the message that the read is back must not be hidden behind one that does."""

from __future__ import annotations

from pathlib import Path

import pytest

from mammoview.gui.read_state import MarkKind, ReaderMark, ReadState
from mammoview.gui.read_store import ReadStore
from mammoview.gui.reader_marks import ReaderMarks
from mammoview.gui.texts import study_title
from mammoview.io import open_paths
from mammoview.io.model import View
from mammoview.io.study import read_key
from tests.gui.conftest import write_view
from tests.gui.test_read_io_error_kept import failing_reads

__all__ = ["failing_reads"]  # (the fixture, used by name)

SAVED = ReaderMark(1, View.LCC, "LCC.dcm", 10.0, 20.0, MarkKind.MASS, created="2024-01-01T00:00:00+00:00")


def opened_held(window, load, folder: Path, failing: set[Path]) -> None:  # type: ignore[no-untyped-def]
    """``folder``'s study opened while its saved read (one mark) fails to read."""
    (info,), _ = open_paths([folder])
    store = ReadStore()  # the viewer's (the test's app data folder)
    key = read_key(info)
    store.save(key, ReadState(marks=(SAVED,)))
    failing.add(store.path_for(key.key))
    load(window, [folder])
    assert "could not be read just now" in (window.last_message or ("", ""))[1]


def status(window) -> str:  # type: ignore[no-untyped-def]
    return window.statusBar().currentMessage()


def test_deleting_the_sessions_mark_as_the_read_comes_back_offers_no_undo(main_window, load, synthetic_study,
                                                                          failing_reads):  # fmt: skip
    w = main_window
    opened_held(w, load, synthetic_study, failing_reads)
    placed = w.cad.reader.add(View.RCC, "RCC.dcm", 30.0, 40.0, MarkKind.MASS)  # not saved: the read still fails
    assert placed is not None and w.cad.reader.unsaved
    failing_reads.clear()  # the share is back
    w.cad.delete_mark(placed.id)  # its save adds the session to the saved read: R1 now is the saved mark
    assert not w.cad.reader.can_undo and w.cad.reader.marks == (SAVED,)
    assert "could be read again" in status(w) and "Ctrl+Z" not in status(w), status(w)


def test_a_length_measured_as_the_read_comes_back_offers_no_undo(main_window, load, synthetic_study, failing_reads):
    w = main_window
    opened_held(w, load, synthetic_study, failing_reads)
    failing_reads.clear()
    m = w.cad.measure_tool.measure(w.panels[View.RCC], (60.0, 150.0), (120.0, 230.0))
    assert m is not None and not w.cad.reader.can_undo and w.cad.reader.marks == (SAVED,)
    assert m.label in status(w) and "Ctrl+Z" not in status(w), status(w)
    w.cad.measure_tool.measure(w.panels[View.RCC], (60.0, 150.0), (100.0, 230.0))  # a plain save: undoable
    assert w.cad.reader.can_undo and "Ctrl+Z undoes" in status(w), status(w)


@pytest.mark.parametrize("damaged", [False, True])
def test_the_read_of_the_study_left_that_comes_back_is_named_not_this_study(tmp_path, failing_reads, damaged):
    """Opening another study saves the reading time of the one left, which adds the session to its saved read when
    that reads again (or sets it aside, found damaged): said of "this study" while the next one was on screen."""
    store = ReadStore(tmp_path / "reads")
    store.save("A", ReadState(first_read_done=True, marks=(SAVED,)))
    t = [0.0]
    reader = ReaderMarks(store, clock=lambda: t[0])
    said: list[str] = []
    reader.restored.connect(said.append)
    reader.loadFailed.connect(said.append)
    path = store.path_for("A")
    failing_reads.add(path)
    reader.open_study("A", title="Doe Jane | 03 Jan 2024")
    failing_reads.clear()
    if damaged:
        path.write_text('{"format": 1, "state": ')  # what the failing disk gave back
    t[0] += 30
    said.clear()
    reader.open_study("B", title="Roe Mary | 04 Jan 2024")
    (text,) = said
    assert "the study you just left (Doe Jane | 03 Jan 2024)" in text and "this study" not in text, text
    assert ("damaged" in text) is damaged and "CAD is available" not in text, text


def test_the_read_of_the_study_shown_again_that_comes_back_is_this_studys(tmp_path, failing_reads):
    store = ReadStore(tmp_path / "reads")
    store.save("A", ReadState(marks=(SAVED,)))
    t = [0.0]
    reader = ReaderMarks(store, clock=lambda: t[0])
    said: list[str] = []
    reader.restored.connect(said.append)
    failing_reads.add(store.path_for("A"))
    reader.open_study("A", title="Doe Jane")
    failing_reads.clear()
    t[0] += 30
    reader.open_study("A", title="Doe Jane")  # shown again (a pixel spacing given): still on screen
    assert len(said) == 1 and "Your saved read of this study could be read again" in said[0], said


def test_the_viewer_names_the_study_left(main_window, load, synthetic_study, tmp_path, failing_reads):
    w = main_window
    opened_held(w, load, synthetic_study, failing_reads)
    title = study_title(w.loaded.study.info)
    failing_reads.clear()
    said: list[str] = []
    w.cad.reader.restored.connect(said.append)
    load(w, [write_view(tmp_path / "next", "RCC.dcm", "RCC", study_uid="1.2.3.4.5", patient_id="OTHER")])
    assert said and f"the study you just left ({title})" in said[0], said
