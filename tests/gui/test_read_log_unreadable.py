"""The worklist read log and a saved read it cannot read (damaged, or written by a newer mammoview: another
machine's app data copied over, a newer version tried and left): the log wrote the study as not read
(first_read_done 'no', no decision), as if never read, and the export said nothing -- `reader-study` then left the
read out without a word.  The row must say the read could not be read, and the export must say which."""

from __future__ import annotations

import csv
import json

from mammoview.gui.read_log import read_log_rows
from mammoview.gui.read_state import Assessment
from mammoview.gui.read_store import ReadStore
from mammoview.gui.reader_marks import ReaderMarks
from mammoview.io import open_paths
from mammoview.io.model import StudyInfo
from mammoview.io.study import read_key
from tests.gui.export_support import written_read_log
from tests.gui.test_worklist import batch


def _read_and_make_newer(store: ReadStore, study: StudyInfo) -> None:
    key = read_key(study)
    marks = ReaderMarks(store)
    marks.open_study(key)
    marks.set_assessment(Assessment.RECALL)
    marks.set_first_read_done()
    marks.close_study()
    path = store.path_for(key.key)
    doc = json.loads(path.read_text())
    path.write_text(json.dumps({**doc, "format": 2}))  # a newer mammoview's read


def test_a_read_the_log_cannot_read_is_not_written_as_not_read(tmp_path):
    studies, _ = open_paths([batch(tmp_path / "b")])
    store = ReadStore(tmp_path / "reads")
    _read_and_make_newer(store, studies[0])
    first, second, _ = read_log_rows(studies, store)
    assert first["first_read_done"] == "unreadable", first
    assert second["first_read_done"] == "no"  # never read: no file


def test_the_export_says_which_reads_it_could_not_read(main_window, load, qtbot, tmp_path):
    folder = batch(tmp_path / "batch")
    load(main_window, [folder])
    entries = main_window.worklist.entries
    _read_and_make_newer(main_window.worklist.store, entries[2].study)  # not the study on screen
    out = written_read_log(main_window, qtbot, tmp_path / "log.csv")
    assert out is not None
    with out.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert rows[2]["first_read_done"] == "unreadable"
    title, text = main_window.last_message or ("", "")
    assert "could not be read" in title + text and "3" in text, (title, text)
