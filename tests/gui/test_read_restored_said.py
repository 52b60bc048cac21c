"""What the viewer says when a save adds the reader's session to their saved read, which could not be read (an I/O
error) when the study was opened: the undo history is gone with it (its steps were taken on the read shown empty), so
no message may offer Ctrl+Z, and the message that the read is back must not be hidden behind one that does."""

from __future__ import annotations

from pathlib import Path

from mammoview.gui.read_state import MarkKind, ReaderMark, ReadState
from mammoview.gui.read_store import ReadStore
from mammoview.io import open_paths
from mammoview.io.model import View
from mammoview.io.study import read_key
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
