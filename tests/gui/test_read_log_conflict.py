"""The worklist read log and a read in conflict (another window saved the study's read meanwhile, which the reader's
would change; the reader's not saved, kept as a conflict copy): the log wrote the reader's unsaved read as the study's
read, as if saved.  Its row is the read saved there, the study's read of record, and says that the reader's is in
conflict (``not_saved``); a read whose save failed (a full disk) is the reader's read, said not saved.  Where the
reader's is kept is said on screen, never in the log, whose rows name no patient (a conflict copy is named by a plain
hash of the study key, a CBIS-DDSM patient's ID)."""

from __future__ import annotations

import csv

from mammoview.gui import dialogs, read_log
from mammoview.gui.read_conflict import Conflict
from mammoview.gui.read_log import export_read_log, read_log_rows
from mammoview.gui.read_state import Assessment, ReaderDecision, ReadState
from mammoview.gui.read_store import ReadStore
from mammoview.io import open_paths
from mammoview.io.study import read_key
from tests.gui.export_support import HeldWriter, written_read_log
from tests.gui.test_read_conflict_copy import conflicted, copies  # noqa: F401  (fixture)
from tests.gui.test_reads_saved_again import answer, refused_window  # noqa: F401  (fixture)
from tests.gui.test_worklist import batch


def test_a_row_in_conflict_is_the_saved_read_and_a_row_whose_save_failed_is_the_readers_said_not_saved(tmp_path):
    studies, _ = open_paths([batch(tmp_path / "b")])
    store = ReadStore(tmp_path / "reads")
    keys = [read_key(s).key for s in studies]
    saved = ReadState(first_read_done=True, decision=ReaderDecision(Assessment.RECALL),
                      decision_after_cad=ReaderDecision(Assessment.RECALL))  # fmt: skip
    for key in keys:
        store.save(key, saved)
    mine = ReadState(decision=ReaderDecision(Assessment.NEGATIVE))
    unsaved = {keys[0]: mine, keys[1]: mine}
    conflicts = {keys[0]: Conflict("the first read's assessment", saved)}
    in_conflict, failed, as_saved = read_log_rows(studies, store, unsaved, conflicts)
    said = [(r["first_read_done"], r["assessment"], r["not_saved"]) for r in (in_conflict, failed, as_saved)]
    assert said == [("yes", "0", "in conflict"), ("no", "1", "save failed"), ("yes", "0", "")]


def test_the_export_of_a_read_in_conflict_says_where_the_readers_is_kept_on_screen_only(
    conflicted,  # noqa: F811  (the fixture)
    tmp_path,
    monkeypatch,
    qtbot,
):
    w, _theirs, box = conflicted
    answer(box, "Keep mine (not saved)")
    reader = w.cad.reader
    (copy,) = copies(reader.store, reader.read_key.key)
    out = written_read_log(w, qtbot, tmp_path / "log.csv")
    assert out is not None
    with out.open(newline="") as fh:
        row = next(csv.DictReader(fh))
    assert (row["assessment"], row["marks_first_read"], row["not_saved"]) == ("0", "1", "in conflict"), row
    assert copy.stem.split(".")[0] not in out.read_text()  # (the read's file name: a plain hash of the study key)
    title, text = w.last_message or ("", "")
    assert "conflict" in title.lower() and "#1" in text and str(copy) in text, (title, text)
    monkeypatch.setattr(dialogs, "ask_yes_no", lambda parent, title, text: True)  # (lets it close, read not saved)


def test_a_conflict_settled_while_the_log_is_written_is_said_as_it_was_asked_for(
    conflicted,  # noqa: F811  (the fixture)
    tmp_path,
    monkeypatch,
    qtbot,
):
    """The log's rows are read in a worker thread while the reader reads on: the reader takes the other viewer's read
    (the conflict settled) after asking for the log, before its outcome is said; the dialog looked the conflict up
    in the window's, gone by then (KeyError)."""
    w, _theirs, box = conflicted
    answer(box, "Keep mine (not saved)")
    reader = w.cad.reader
    writer = HeldWriter(monkeypatch, read_log, "write_read_log")
    out = tmp_path / "log.csv"
    assert export_read_log(w, out)
    assert writer.started.wait(10)
    reader.show_saved_read()  # settled: the conflict leaves the window's
    assert reader.store.conflicts == {}
    with qtbot.waitSignal(w.read_log_export.done, timeout=30_000):
        writer.release()
    with out.open(newline="") as fh:
        assert next(csv.DictReader(fh))["not_saved"] == "in conflict"  # the log as it was asked for ...
    title, text = w.last_message or ("", "")
    assert "conflict" in title.lower() and "#1" in text, (title, text)  # ... and said so
    monkeypatch.setattr(dialogs, "ask_yes_no", lambda parent, title, text: True)  # (lets it close)
