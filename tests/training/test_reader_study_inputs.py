"""reader-study: strict JSON, assessments the viewer never writes, truth rows cut short."""

from __future__ import annotations

import json

import pytest

from mammoview.cli import main
from mammoview.training.reader_study import load_read_log, load_truth, reader_study
from tests.training.test_reader_study import _row, key_hash, write_log


def _strict(text: str) -> object:
    def refuse(name: str) -> object:
        raise ValueError(f"{name} is not JSON")

    return json.loads(text, parse_constant=refuse)


def test_the_json_report_is_strict_json_when_the_cads_auc_is_perfect(tmp_path):
    """A CAD that ranks every cancer first (AUC 1: common on a small pilot) has no Hanley-McNeil interval (NaN); the
    report must say so with null, as metrics.json does (to_jsonable), not with NaN, which no strict JSON reader
    (a browser's JSON.parse, R's jsonlite, jq 1.6) accepts."""
    rows = [_row("A", "0", "0", mal=0.9), _row("B", "1", "1", mal=0.1), _row("C", "1", "1", mal=0.2, ab=0.1)]
    log = write_log(tmp_path / "log.csv", rows)
    truth = tmp_path / "t.csv"
    truth.write_text(f"study,truth\n{key_hash('A')},malignant\n{key_hash('B')},benign\n{key_hash('C')},normal\n")
    out = tmp_path / "rep.json"
    assert main(["reader-study", str(log), "--truth", str(truth), "--json", str(out)]) == 0
    rep = _strict(out.read_text())
    assert rep["cad_auc_malignant"]["auc"] == 1.0 and rep["cad_auc_malignant"]["ci95"] == [None, None]


def test_a_truth_row_without_its_truth_is_refused_with_its_line(tmp_path):
    """A truth CSV row with the study only (a spreadsheet drops trailing empty cells) was an AttributeError
    ("'NoneType' object has no attribute 'strip'", exit 1) naming neither the file nor the line."""
    truth = tmp_path / "t.csv"
    truth.write_text(f"study,truth\n{key_hash('A')},malignant\n{key_hash('B')}\n")
    with pytest.raises(ValueError, match="line 3"):
        load_truth(truth)


@pytest.mark.parametrize("value", ["4", "BI-RADS 0", " 0", "recall"])
def test_an_assessment_the_viewer_never_writes_is_not_read_as_no_recall(tmp_path, value):
    """The viewer writes 0, 1, 2 or nothing; any other value (a hand-edited or merged log: BI-RADS 4, "BI-RADS 0")
    was silently counted as "not recalled" and lowered the sensitivity: the log must be refused, saying where."""
    log = write_log(tmp_path / "log.csv", [_row("B", "0", "0"), _row("A", value, value)])
    try:
        rows = load_read_log(log)
    except ValueError as exc:
        assert "line 3" in str(exc)
        return
    truth = {key_hash("A"): "malignant", key_hash("B"): "malignant"}
    assert reader_study(rows, truth)["before_cad"]["sensitivity"] != 0.5, "an unknown assessment read as no recall"


def test_before_and_after_are_also_compared_on_the_reads_decided_in_both():
    """A cancer without a decision at the first read and "1" after CAD: the rows read sensitivity 1.0 before and 0.5
    after with "changed by CAD: 0", as if CAD had cost a cancer.  The paired rows compare the reads decided in both
    readings (with CAD shown): the same reads before and after."""
    from mammoview.training.reader_study import report_text

    log = [_row("A", "0", "0"), _row("B", "", "1"), _row("N", "1", "1")]
    truth = {key_hash("A"): "malignant", key_hash("B"): "malignant", key_hash("N"): "normal"}
    rep = reader_study(log, truth)
    assert rep["before_cad"]["sensitivity"] == 1.0 and rep["after_cad"]["sensitivity"] == 0.5
    paired = rep["paired"]
    assert paired["reads"] == 2
    assert (paired["before_cad"]["sensitivity"], paired["after_cad"]["sensitivity"]) == (1.0, 1.0)
    assert (paired["before_cad"]["specificity"], paired["after_cad"]["specificity"]) == (1.0, 1.0)
    text = report_text(rep)
    assert "paired: before" in text and "paired: after" in text and "decided in both" in text
    # without undecided reads or reads without CAD the two rows already compare the same reads: no extra rows
    plain = reader_study([_row("A", "0", "0"), _row("N", "1", "0")], truth)
    assert plain["paired"]["reads"] == 2 and "paired:" not in report_text(plain)


def test_the_paired_reads_get_an_exact_mcnemar_test_of_the_change_in_recalls():
    """Cancers recalled only after CAD (3) against only before (0): exact two-sided p = 2 x (1/2)^3 = 0.25; normals
    with one false recall added and one removed: p = 1."""
    from mammoview.training.reader_study import mcnemar_exact, report_text

    assert mcnemar_exact(3, 0) == pytest.approx(0.25) and mcnemar_exact(0, 0) is None
    assert mcnemar_exact(1, 1) == pytest.approx(1.0) and mcnemar_exact(5, 1) == pytest.approx(2 * 7 / 64)
    log = [_row("A", "1", "0"), _row("B", "1", "0"), _row("C", "1", "0"), _row("D", "0", "0"),
           _row("M", "1", "0"), _row("N", "0", "1"), _row("O", "1", "1")]  # fmt: skip
    truth = {key_hash(k): "malignant" for k in "ABCD"} | {key_hash(k): "normal" for k in "MNO"}
    paired = reader_study(log, truth)["paired"]
    assert paired["mcnemar_sensitivity_p"] == pytest.approx(0.25)
    assert paired["mcnemar_specificity_p"] == pytest.approx(1.0)
    assert "McNemar" in report_text(reader_study(log, truth))


@pytest.mark.parametrize(
    "column, value",
    [("cad_malignant", "high"), ("cad_abnormal", "0,93"), ("cad_malignant", "nan"), ("cad_abnormal", "1.5"),
     ("reading_seconds", "1:05"), ("reading_seconds", "-3"), ("reading_seconds", "inf")],
)  # fmt: skip
def test_a_number_the_viewer_never_writes_is_refused_with_its_line(tmp_path, column, value):
    """A log saved again by a spreadsheet of another locale (0,93), or edited: "error: could not convert string to
    float: 'high'" named neither the file nor the line, and a NaN CAD score was ranked into the AUC."""
    row = _row("A", "0", "0")
    row[column] = value
    log = write_log(tmp_path / "log.csv", [_row("B", "0", "0"), row])
    with pytest.raises(ValueError, match=f"line 3: {column} ") as err:
        load_read_log(log)
    assert str(log) in str(err.value)
