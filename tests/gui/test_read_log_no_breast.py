"""An exam in which the CAD found no breast in any view (blank exposures, labels only): the read log wrote its exam
scores of 0 as 'cad_abnormal 0.0000', and `reader-study` counted that in the CAD's AUC as the lowest real score. The
CAD read nothing there: its scores are blank, and the reading still counts as one with the CAD shown."""

from __future__ import annotations

from mammoview.gui.read_log import read_log_rows
from mammoview.gui.read_state import Assessment, CadSeen
from mammoview.gui.read_store import ReadStore
from mammoview.gui.reader_marks import ReaderMarks
from mammoview.io import open_paths
from mammoview.io.study import read_key
from mammoview.training.reader_study import reader_study
from tests.gui.test_worklist import batch


def test_an_exam_without_breast_has_no_cad_scores_in_the_read_log_but_counts_as_read_with_cad(tmp_path):
    studies, _ = open_paths([batch(tmp_path / "b")])
    store = ReadStore(tmp_path / "reads")
    seen = {
        0: CadSeen("m 1.0", 0.0, 0.0, 0, read=False),
        1: CadSeen("m 1.0", 0.93, 0.7, 2),
        2: CadSeen("m 1.0", 0.2, 0.1, 0),
    }
    for n, study in enumerate(studies):
        marks = ReaderMarks(store)
        marks.open_study(read_key(study))
        marks.set_assessment(Assessment.RECALL if n == 1 else Assessment.NEGATIVE)
        marks.set_first_read_done()
        marks.record_cad(seen[n])
        marks.close_study()
    assert store.load(read_key(studies[0])).cad_seen == seen[0]  # saved and read back with it
    rows = read_log_rows(studies, store)
    assert rows[0]["cad_model"] == "m 1.0" and rows[0]["cad_abnormal"] == "" and rows[0]["cad_malignant"] == ""
    assert rows[1]["cad_abnormal"] == "0.9300"
    truth = {rows[0]["study"]: "normal", rows[1]["study"]: "malignant", rows[2]["study"]: "normal"}
    report = reader_study(rows, truth)
    auc = report["cad_auc_abnormal"]
    assert auc is not None and auc["n_neg"] == 1 and auc["n_pos"] == 1  # the exam without breast left out
