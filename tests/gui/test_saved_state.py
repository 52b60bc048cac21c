"""The viewer's own saved state : damaged reads are said, a second window or a crash loses no read,
an unsaved read is neither dropped at quit nor missing from the read log, a damaged recent list never breaks a menu."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6 import QtCore, QtWidgets

from mammoview.gui import dialogs
from mammoview.gui.read_state import Assessment, MarkKind, ReadState
from mammoview.gui.read_store import ReadStore, study_hash
from mammoview.gui.reader_marks import ReaderMarks
from mammoview.gui.settings import RecentStudy, ViewerSettings
from mammoview.io.model import View
from tests.gui.conftest import STUDY_UID
from tests.gui.export_support import written_read_log
from tests.gui.test_worklist import batch

ROOT = Path(__file__).resolve().parents[2]


def full_disk(self, key, state):  # type: ignore[no-untyped-def]
    raise OSError(28, "No space left on device")


# -- 1. a damaged read is said, once -------------------------------------------------------------------------
def test_a_damaged_read_is_said_when_the_study_opens(main_window, load, synthetic_study, qtbot):
    path = ReadStore().path_for(STUDY_UID)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text('{"format": 1, "study_sha256": "' + study_hash(STUDY_UID) + '", "state": {"marks": [')  # cut
    problems: list[tuple[str, str]] = []
    main_window.problemsReported.connect(lambda title, text: problems.append((title, text)))
    load(main_window, [synthetic_study])
    (aside,) = path.parent.glob("*.damaged-*")  # kept, not lost...
    assert main_window.cad.reader.state == ReadState()
    assert any(aside.name in text for _title, text in problems), problems  # ...and the reader is told where


def test_a_read_of_a_newer_format_is_not_rewritten_without_its_fields(tmp_path):
    store = ReadStore(tmp_path)
    path = store.path_for("S")
    newer = {"format": 99, "study_sha256": study_hash("S"),
             "state": {"marks": [{"id": 1, "view": "LCC", "image": "i", "x": 1, "y": 2, "kind": "mass",
                                  "confidence": 4}], "reader": "dr who"}}  # fmt: skip
    path.write_text(json.dumps(newer))
    store.save("S", store.load("S"))
    kept = [json.loads(p.read_text()) for p in tmp_path.iterdir()]
    assert newer in kept  # what the newer mammoview wrote is somewhere, whole


def test_a_mark_at_a_coordinate_that_is_not_a_number_is_damage(tmp_path):
    store = ReadStore(tmp_path)
    mark = {"id": 1, "view": "LCC", "image": "i", "x": float("nan"), "y": 2, "kind": "mass"}
    store.path_for("S").write_text(json.dumps({"study_sha256": study_hash("S"), "state": {"marks": [mark]}}))
    assert store.peek("S") is None


# -- 2. a crash keeps the reading time -------------------------------------------------------------------------
def test_a_crash_keeps_the_reading_time_counted_before_the_last_action(tmp_path, qtbot):
    now = [0.0]
    store = ReadStore(tmp_path)
    reader = ReaderMarks(store, clock=lambda: now[0])
    reader.open_study("S")
    now[0] += 600.0  # ten minutes reading
    reader.add(View.LCC, "i", 1.0, 2.0, MarkKind.MASS)
    # kill -9 here: nothing else runs; the viewer is started again
    again = ReaderMarks(store, clock=lambda: now[0])
    again.open_study("S")
    assert again.state.reading_seconds == pytest.approx(600.0)


# -- 3. two viewers on one app data folder ------------------------------------------------------------------------
OTHER_VIEWER = """
import sys
from PySide6 import QtCore
app = QtCore.QCoreApplication([])
from mammoview.gui.reader_marks import ReaderMarks
from mammoview.gui.read_state import MarkKind, Assessment
from mammoview.io.model import View
r = ReaderMarks()
r.open_study(sys.argv[1])
r.add(View.RCC, "RCC.dcm", 10.0, 10.0, MarkKind.MASS)
r.set_assessment(Assessment.RECALL)
print("ready", flush=True)
sys.stdin.readline()  # the other window stays open while this one is used
"""


def test_a_second_viewer_on_the_same_app_data_never_overwrites_the_firsts_read(qtbot):
    reader = ReaderMarks()  # this window has the study open...
    reader.open_study("S")
    # ...when the reader, in a second window opened by mistake, marks it and recalls
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    other = subprocess.Popen([sys.executable, "-c", OTHER_VIEWER, "S"], cwd=ROOT, stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True, env=env)  # fmt: skip
    try:
        assert other.stdout.readline().strip() == "ready"
        failed: list[str] = []
        reader.saveFailed.connect(failed.append)
        reader.add(View.LCC, "LCC.dcm", 50.0, 50.0, MarkKind.CALCIFICATION)
        on_disk = ReadStore().peek("S")
        assert on_disk is not None
        lost = View.RCC not in {m.view for m in on_disk.marks} or on_disk.decision.assessment is not Assessment.RECALL
        assert not lost or failed, "the first window's mark and recall were overwritten silently"
        assert not failed or "another" in failed[0].lower()  # and the reader knows why
    finally:
        other.communicate("\n", timeout=30)


# -- 4. a read not saved (full disk) is neither dropped at quit nor missing from the read log ------------------
def test_quitting_with_a_read_not_saved_asks_first(main_window, load, qtbot, tmp_path, monkeypatch):
    w = main_window
    load(w, [batch(tmp_path / "batch")])
    real_save = ReadStore.save
    monkeypatch.setattr(ReadStore, "save", full_disk)
    w.cad.reader.add(View.LCC, "LCC.dcm", 10.0, 20.0, MarkKind.MASS)
    asked: list[str] = []

    def question(parent, title, text):  # type: ignore[no-untyped-def]
        asked.append(text)
        return False  # "no, don't quit"

    monkeypatch.setattr(dialogs, "ask_yes_no", question)
    w.close()
    assert asked and "not saved" in asked[0]
    assert w.isVisible()  # the reader can free space and try again
    monkeypatch.setattr(ReadStore, "save", real_save)  # space freed: quitting saves it
    w.close()
    key = w.cad.reader.read_key
    assert [m.view for m in ReadStore().load(key).marks] == [View.LCC]


def test_a_read_the_disk_refused_is_saved_as_soon_as_saves_work_again_on_another_study(tmp_path, qtbot,
                                                                                         monkeypatch):  # fmt: skip
    """Study A's marks failed on a full disk; the reader went on to study B, where saves work again (space freed):
    A's read waited in memory until A was reopened or the viewer quit, so a crash while reading B lost it all."""
    store = ReadStore(tmp_path / "reads")
    reader = ReaderMarks(store)
    reader.open_study("A")
    real_save = ReadStore.save
    monkeypatch.setattr(ReadStore, "save", full_disk)
    reader.add(View.LCC, "LCC.dcm", 10.0, 20.0, MarkKind.MASS)
    reader.set_assessment(Assessment.RECALL)
    reader.open_study("B")
    monkeypatch.setattr(ReadStore, "save", real_save)  # space freed
    reader.add(View.RCC, "RCC.dcm", 30.0, 40.0, MarkKind.CALCIFICATION)
    # kill -9 here: what is on disk is all that is left
    a = ReadStore(store.folder).load("A")
    assert [m.view for m in a.marks] == [View.LCC] and a.decision.assessment is Assessment.RECALL
    assert reader.unsaved == {}  # (nothing left for the quit question)


def test_the_read_log_counts_a_read_the_disk_refused(main_window, load, qtbot, tmp_path, monkeypatch):
    w = main_window
    load(w, [batch(tmp_path / "batch")])
    real_save = ReadStore.save
    monkeypatch.setattr(ReadStore, "save", full_disk)
    w.cad.reader.set_assessment(Assessment.RECALL)
    w.cad.reader.set_first_read_done()
    monkeypatch.setattr(w, "report_problems", lambda *a, **k: None)
    out = written_read_log(w, qtbot, tmp_path / "elsewhere" / "log.csv")
    assert out is not None
    row = next(csv.DictReader(io.StringIO(out.read_text())))
    assert (row["first_read_done"], row["assessment"]) == ("yes", "0")
    assert row["not_saved"] == "save failed"  # (never passed off as saved)
    monkeypatch.setattr(ReadStore, "save", real_save)  # (the window then closes without asking)


# -- 5. a damaged recent list ----------------------------------------------------------------------------------
@pytest.mark.parametrize("entry", [{"paths": [], "title": ""}, {"paths": "/data/study", "title": ""},
                                   {"paths": [3], "title": ""}])  # fmt: skip
def test_a_damaged_recent_entry_is_dropped(entry):
    settings = ViewerSettings()
    settings.set_value("recent/studies", [json.dumps(entry), RecentStudy(("/a/b",), "kept").to_json()])
    assert [r.title for r in settings.recent_studies()] == ["kept"]


def test_a_recent_entry_without_paths_never_breaks_the_recent_menu(main_window, qtbot, monkeypatch):
    errors: list[object] = []
    monkeypatch.setattr(sys, "excepthook", lambda *a: errors.append(a))
    main_window.settings.set_value("recent/studies", [json.dumps({"paths": [], "title": ""})])
    (menu,) = [m for m in main_window.findChildren(QtWidgets.QMenu) if "ecent" in m.title()]
    menu.aboutToShow.emit()
    assert not errors
    QtCore.QCoreApplication.processEvents()


def test_a_save_that_keeps_failing_is_said_once_not_once_per_mark(main_window, load, qtbot, tmp_path, monkeypatch):
    """On a full disk every mark raised another critical box (five marks, five boxes); now the box comes once per
    reason, the status bar says it each time, and after saves have worked again a new failure is said in full."""
    w = main_window
    load(w, [batch(tmp_path / "batch")])
    reports: list[str] = []
    w.problemsReported.connect(lambda title, text: reports.append(title))
    real_save = ReadStore.save
    monkeypatch.setattr(ReadStore, "save", full_disk)
    for k in range(3):
        w.cad.reader.add(View.LCC, "LCC.dcm", 10.0 + k, 20.0, MarkKind.MASS)
    assert reports.count("Read not saved") == 1
    assert "Read not saved" in w.statusBar().currentMessage()
    w.cad.reader.set_first_read_done()  # not a mark: the words say what was not saved (they said "your marks")
    assert "first read done" in w.statusBar().currentMessage() and reports.count("Read not saved") == 1
    monkeypatch.setattr(ReadStore, "save", real_save)  # space freed
    w.cad.reader.add(View.LCC, "LCC.dcm", 40.0, 20.0, MarkKind.MASS)
    assert not w.cad.reader.unsaved
    monkeypatch.setattr(ReadStore, "save", full_disk)  # full again: said again
    w.cad.reader.add(View.LCC, "LCC.dcm", 50.0, 20.0, MarkKind.MASS)
    assert reports.count("Read not saved") == 2
    monkeypatch.setattr(ReadStore, "save", real_save)  # (the window closes with every read saved)
    w.cad.reader.retry_unsaved()
