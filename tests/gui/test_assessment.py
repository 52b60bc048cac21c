"""The reader's decision (assessment + density) before and after CAD, the reading clock, and the read log."""

from __future__ import annotations

import csv
import json

import pytest

from mammoview.gui.read_log import COLUMNS, read_log_rows, write_read_log
from mammoview.gui.read_state import Assessment, MarkKind, ReaderDecision, ReadState
from mammoview.gui.read_store import ReadStore
from mammoview.gui.reader_marks import ReaderMarks
from mammoview.io import open_paths
from mammoview.io.model import View
from tests.gui import cad_support
from tests.gui.export_support import written_read_log
from tests.gui.test_worklist import batch

#: The shared CAD fixtures (tests/gui/cad_support.py), bound here so pytest finds them.
cad_models, cad_window = cad_support.cad_models, cad_support.cad_window


def read_csv(path) -> list[dict[str, str]]:  # type: ignore[no-untyped-def]
    with path.open(newline="") as f:
        return list(csv.DictReader(f))


class Clock:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


@pytest.fixture()
def reader(tmp_path) -> tuple[ReaderMarks, Clock]:  # type: ignore[no-untyped-def]
    clock = Clock()
    return ReaderMarks(ReadStore(tmp_path / "reads"), clock=clock), clock


def test_the_first_read_decision_is_frozen_and_the_one_after_cad_starts_as_its_copy(reader):
    marks, _ = reader
    marks.open_study("1.2.3")
    assert marks.set_assessment(Assessment.NEGATIVE) and marks.set_density("b")
    assert not marks.set_density("b")  # no change, nothing saved
    assert marks.state.decision == ReaderDecision(Assessment.NEGATIVE, "b")
    marks.set_first_read_done()
    assert marks.state.decision_after_cad == marks.state.decision
    marks.set_assessment(Assessment.RECALL)  # CAD changed the reader's mind
    s = marks.store.load("1.2.3")
    assert s.decision == ReaderDecision(Assessment.NEGATIVE, "b")  # the unaided read is kept
    assert s.decision_after_cad == ReaderDecision(Assessment.RECALL, "b")
    assert ReadState.from_json(json.loads(json.dumps(s.to_json()))) == s
    assert ReadState.from_json({"first_read_done": True}).decision.empty  # files of older versions load
    with pytest.raises(ValueError, match="density"):
        ReaderDecision(density="e")


def test_the_reading_clock_counts_until_the_first_read_is_done_and_banks_on_leaving(reader):
    marks, clock = reader
    changes: list[int] = []
    marks.changed.connect(lambda: changes.append(1))
    marks.open_study("A")
    clock.t += 40
    marks.open_study("B")  # A left unfinished: its 40 s are saved, no change signal for A
    assert marks.store.load("A").reading_seconds == pytest.approx(40)
    assert len(changes) == 2  # one per open_study
    clock.t += 5
    marks.open_study("A")
    clock.t += 20
    marks.set_first_read_done()
    assert marks.store.load("A").reading_seconds == pytest.approx(60)
    clock.t += 100  # looking at CAD is not reading time
    marks.close_study()
    assert marks.store.load("A").reading_seconds == pytest.approx(60)
    assert marks.store.load("B").reading_seconds == pytest.approx(5)
    # Another application in front: the clock pauses.
    marks.open_study("C")
    clock.t += 10
    marks.set_active(False)
    clock.t += 600  # away
    marks.set_active(True)
    clock.t += 5
    marks.set_first_read_done()
    assert marks.store.load("C").reading_seconds == pytest.approx(15)
    marks.open_study("D")  # opened and left at once: no file written for it
    marks.close_study()
    assert not marks.store.path_for("D").exists()


def test_a_study_opened_while_another_application_is_in_front_counts_from_when_the_viewer_comes_back(reader):
    """The pause was tested only for a study opened with the viewer in front: a study opened (e.g. by a worklist
    step from a script, or at start-up) while the reader is in another application must not count that time."""
    marks, clock = reader
    marks.set_active(False)
    marks.open_study("E")
    clock.t += 300  # away
    marks.set_active(True)
    clock.t += 7
    marks.set_first_read_done()
    assert marks.store.load("E").reading_seconds == pytest.approx(7)


def test_the_decision_in_menu_dock_worklist_and_export(main_window, load, synthetic_study, tmp_path):
    from mammoview.gui.export import export_study

    w = main_window
    load(w, [synthetic_study])
    controls = w.cad.assessment
    w.commands["assess_0"].trigger()  # Alt+R
    assert w.cad.reader.decision.assessment is Assessment.RECALL
    assert controls.assessment.currentData() is Assessment.RECALL and w.commands["assess_0"].isChecked()
    assert w.worklist_panel.tree.topLevelItem(0).text(2) == "started · BI-RADS 0 · 0 marks"
    w.commands["assess_0"].trigger()  # again: unset
    assert w.cad.reader.decision.assessment is None and controls.assessment.currentIndex() == 0
    controls.assessment.activated.emit(controls.assessment.findData(Assessment.NEGATIVE))  # the dock's combo
    w.commands["density_c"].trigger()
    assert w.cad.reader.decision == ReaderDecision(Assessment.NEGATIVE, "c") and controls.density.currentData() == "c"
    assert controls.first_read.text() == "Your first read (before CAD)"
    w.commands["cad_first_read_done"].trigger()
    assert controls.first_read.text() == "First read: BI-RADS 1 negative · density C"
    w.commands["assess_0"].trigger()
    assert controls.first_read.text().endswith("— changed after CAD")
    assert w.worklist_panel.tree.topLevelItem(0).text(2) == "read · BI-RADS 0 · 0 marks"
    doc = json.loads(export_study(w, tmp_path / "read.png").json.read_text())
    state = doc["read_state"]
    assert state["decision"] == {"assessment": "1", "density": "c"}
    assert state["decision_after_cad"] == {"assessment": "0", "density": "c"}
    assert state["first_read_done"] and state["reading_seconds"] >= 0


def test_the_read_log_has_a_row_per_study_and_never_overwrites(tmp_path):
    studies, _ = open_paths([batch(tmp_path / "b")])
    store = ReadStore(tmp_path / "reads")
    marks = ReaderMarks(store)
    marks.open_study(studies[0].key)
    marks.add(View.LCC, "LCC.dcm", 1.0, 2.0, MarkKind.MASS)
    marks.set_assessment(Assessment.BENIGN)
    marks.set_first_read_done()
    marks.add(View.RCC, "RCC.dcm", 3.0, 4.0, MarkKind.CALCIFICATION)
    marks.set_assessment(Assessment.RECALL)
    marks.open_study(studies[1].key)
    marks.set_density("a")
    marks.close_study()
    out = tmp_path / "log.csv"
    write_read_log(out, read_log_rows(studies, store))
    rows = read_csv(out)
    assert tuple(rows[0]) == COLUMNS and [r["n"] for r in rows] == ["1", "2", "3"]
    first, second, third = rows
    assert (first["first_read_done"], first["assessment"], first["assessment_after_cad"]) == ("yes", "2", "0")
    assert (first["changed_after_cad"], first["marks_first_read"], first["marks_after_cad"]) == ("yes", "1", "1")
    assert (second["first_read_done"], second["density"], second["assessment_after_cad"]) == ("no", "a", "")
    assert third["first_read_done"] == "no" and third["reading_seconds"] == ""  # never opened
    assert studies[0].key not in out.read_text()  # studies are named by a hash of the key only
    with pytest.raises(FileExistsError):
        write_read_log(out, [])
    assert len(read_csv(out)) == 3


def test_the_window_exports_the_worklist_read_log(main_window, load, qtbot, tmp_path):
    load(main_window, [batch(tmp_path / "batch")])
    main_window.commands["assess_1"].trigger()
    out = written_read_log(main_window, qtbot, tmp_path / "log.csv")
    assert out is not None and "3 studies (0 read)" in main_window.statusBar().currentMessage()
    rows = read_csv(out)
    assert [r["assessment"] for r in rows] == ["1", "", ""]
    assert written_read_log(main_window, qtbot, out) is None  # exists: refused, said
    assert main_window.last_message is not None and "exists" in main_window.last_message[1]


def test_what_the_cad_showed_is_kept_for_the_read_log(cad_window, load, synthetic_study, qtbot, tmp_path):
    from mammoview.cad.types import FindingKind
    from tests.gui.cad_support import finding, planted_result

    w = cad_window
    load(w, [synthetic_study])
    r = planted_result(w, {View.LCC: [finding(FindingKind.MASS, 120, 300, 0.8, 0.7)]})
    w.cad.set_result(r)
    assert w.cad.reader.state.cad_seen is None  # locked: the reader has seen nothing of it
    w.commands["cad_first_read_done"].trigger()
    seen = w.cad.reader.store.load(w.cad.reader.read_key).cad_seen
    assert seen is not None and seen.findings == 1 and seen.abnormal == pytest.approx(r.abnormal)
    assert seen.model.startswith(f"{r.model.name} {r.model.version}") and seen.density is None
    (row,) = read_csv(written_read_log(w, qtbot, tmp_path / "log.csv"))
    assert (row["cad_marks"], row["cad_abnormal"]) == ("1", f"{r.abnormal:.4f}")
