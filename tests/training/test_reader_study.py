"""The reader study from a read log: recalls before / after CAD against the truth, changes, CAD AUCs."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from mammoview.cli import main
from mammoview.gui.pseudonym import study_pseudonym
from mammoview.gui.read_log import COLUMNS
from mammoview.training.reader_study import (
    NEEDED,
    load_read_log,
    load_truth,
    reader_study,
    truth_from_data,
)


def key_hash(key: str) -> str:
    """The read log's name of a study (this installation's pseudonym, shortened as the log writes it)."""
    return study_pseudonym(key)[:16]


def _row(key: str, before: str, after: str, *, done: bool = True, mal: float = 0.5, ab: float = 0.9,
         seconds: float = 60.0) -> dict[str, str]:  # fmt: skip
    row = dict.fromkeys(COLUMNS, "")
    row.update(study=key_hash(key), first_read_done="yes" if done else "no", reading_seconds=f"{seconds}",
               assessment=before, assessment_after_cad=after if done else "", cad_malignant=f"{mal}",
               cad_abnormal=f"{ab}")  # fmt: skip
    return row


def write_log(path: Path, log: list[dict[str, str]]) -> Path:
    """``log`` written as the viewer's read log CSV."""
    with open(path, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=COLUMNS)
        w.writeheader()
        w.writerows(log)
    return path


def rows() -> list[dict[str, str]]:
    """The read log of the tests (made inside a test: pseudonyms use the test's app data folder)."""
    return [
        _row("A", "0", "0", mal=0.9, seconds=30),  # cancer, recalled before and after
        _row("B", "1", "0", mal=0.8, seconds=50),  # cancer, recalled only after CAD
        _row("C", "1", "1", mal=0.3, seconds=70),  # cancer missed by both
        _row("D", "0", "2", mal=0.6, seconds=90),  # benign: false recall removed
        _row("E", "1", "0", mal=0.4, ab=0.2),  # normal: false recall added
        _row("F", "1", "2", mal=0.1, ab=0.1),  # normal: 1 -> 2, not a recall decision
        _row("G", "0", "", done=False),  # first read not done: not counted
        _row("H", "1", "1"),  # no truth: not counted
    ]


LABELS = ["malignant"] * 3 + ["benign", "normal", "normal", "malignant"]


def truth_map() -> dict[str, str]:
    return {key_hash(k): t for k, t in zip("ABCDEFG", LABELS, strict=True)}


def test_every_needed_column_is_in_the_viewers_read_log():
    assert set(NEEDED) <= set(COLUMNS)
    import hashlib

    assert "study" in COLUMNS and "study_sha256" not in COLUMNS  # a pseudonym: a plain hash is reversed by trying
    assert key_hash("P_00820") != hashlib.sha256(b"P_00820").hexdigest()[:16]  # the 100,000 CBIS patient numbers


def test_recalls_before_and_after_cad_against_the_truth():
    rep = reader_study(rows(), truth_map())
    assert rep["rows"] == 8 and rep["truth_known"] == 7 and rep["first_read_done"] == 6
    assert rep["truth"] == {"malignant": 3, "benign": 1, "normal": 2}
    before, after = rep["before_cad"], rep["after_cad"]
    assert before["recalls"] == 2 and before["sensitivity"] == pytest.approx(1 / 3)  # A
    assert before["specificity"] == pytest.approx(2 / 3)  # D recalled; E, F not
    assert after["recalls"] == 3 and after["sensitivity"] == pytest.approx(2 / 3)  # A, B
    assert after["specificity"] == pytest.approx(2 / 3)  # E recalled; D, F not
    assert rep["changes"] == {"changed": 4, "cancer_recalled": 1, "cancer_no_longer_recalled": 0,
                              "false_recall_added": 1, "false_recall_removed": 1, "other": 1}  # fmt: skip
    # CAD malignancy: cancers 0.9, 0.8, 0.3 vs 0.6, 0.4, 0.1 -> 7 of 9 pairs ordered
    assert rep["cad_auc_malignant"]["auc"] == pytest.approx(7 / 9)
    # abnormal (malignant or benign) 0.9 x4 vs normal 0.2, 0.1 -> 1.0
    assert rep["cad_auc_abnormal"]["auc"] == pytest.approx(1.0)
    assert rep["median_reading_seconds"] == pytest.approx(60.0)  # 30, 50, 60, 60, 70, 90
    undecided = [*rows()[:6], _row("I", "", "0")]  # a cancer recalled after CAD only, no first assessment
    truth_i = {**truth_map(), key_hash("I"): "malignant"}
    rep = reader_study(undecided, truth_i)
    assert rep["before_cad"]["undecided"] == 1 and rep["before_cad"]["sensitivity"] == pytest.approx(1 / 3)
    assert rep["after_cad"]["undecided"] == 0 and rep["after_cad"]["sensitivity"] == pytest.approx(3 / 4)
    assert rep["changes"]["changed"] == 4  # no first decision: nothing CAD changed


def test_files_and_the_command(tmp_path, capsys):
    log = write_log(tmp_path / "log.csv", rows())
    truth = tmp_path / "truth.csv"
    pairs = zip("ABCDEFG", LABELS, strict=True)
    lines = [f"{study_pseudonym(k).upper()},{t.capitalize() if t == 'malignant' else t}\n" for k, t in pairs]
    truth.write_text("study,truth\n" + "".join(lines))
    assert load_truth(truth) == truth_map()  # full pseudonyms shortened, case folded
    assert load_read_log(log) == rows()
    out = tmp_path / "reports" / "rep.json"  # its folder made
    assert main(["reader-study", str(log), "--truth", str(truth), "--json", str(out)]) == 0
    text = capsys.readouterr().out
    assert "6 studies read" in text and "after CAD" in text and "cancer recalled 1" in text
    assert json.loads(out.read_text())["after_cad"]["recalls"] == 3
    assert main(["reader-study", str(log), "--truth", str(truth), "--json", str(out)]) == 2  # never overwrites
    capsys.readouterr()
    other = tmp_path / "other.csv"
    other.write_text("study,truth\n0123456789abcdef,malignant\n")  # pseudonyms of another installation
    assert main(["reader-study", str(log), "--truth", str(other)]) == 0
    assert "no study of the log is in the truth" in capsys.readouterr().err
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n")
    assert main(["reader-study", str(bad), "--truth", str(truth)]) == 2
    assert "not a mammoview read log" in capsys.readouterr().err
    bad.write_text(log.read_text().replace("study,", "study_sha256,", 1))
    with pytest.raises(ValueError, match="read log of an earlier mammoview"):
        load_read_log(bad)
    truth.write_text("study,truth\nabc,cancer\n")
    with pytest.raises(ValueError, match="line 2"):
        load_truth(truth)


def test_truth_from_the_data_labels(tmp_path):
    from tests.training.test_extract import make_fake_data

    data = make_fake_data(tmp_path / "data", n_cbis=4, n_mias=4, n_magic=0)
    truth = truth_from_data(key_hash, data)
    # fake CBIS: images 0-3, patient i // 2, malignant when i % 3 != 0: P_00000 has a benign and a malignant image
    assert truth[key_hash("P_00000")] == "malignant" and truth[key_hash("P_00001")] == "malignant"
    # fake MIAS: mdb001 (calcification, malignant) + mdb002 (normal) = patient 001; mdb003 + mdb004 = patient 002
    assert truth[key_hash("mini-MIAS patient 001")] == "malignant"
    assert len(truth) == 4


def test_a_listed_prior_is_not_a_study_of_the_batch():
    prior = {**_row("A", "0", "0"), "prior_of": "2"}  # the woman's earlier exam, read again by mistake
    rep = reader_study([prior, *rows()[1:]], truth_map())
    assert rep["truth_known"] == 6 and rep["first_read_done"] == 5
    older = [{k: v for k, v in r.items() if k != "prior_of"} for r in rows()]  # a log written before the column
    assert reader_study(older, truth_map())["first_read_done"] == 6


def test_a_truth_csv_saved_by_excel_with_a_byte_order_mark_is_read(tmp_path):
    """Excel's "CSV UTF-8" starts the file with a BOM: the first header then reads '\\ufeffstudy', and the truth
    CSV was refused as having no column study although it visibly has it."""
    truth = tmp_path / "truth.csv"
    truth.write_text("study,truth\n0123456789abcdef,malignant\n", encoding="utf-8-sig")
    assert load_truth(truth) == {"0123456789abcdef": "malignant"}


def test_the_first_read_logs_are_named_as_an_earlier_mammoviews(tmp_path):
    """The first read log (before the CAD columns) is a mammoview read log of an earlier version, not 'not a
    mammoview read log (no column study, cad_abnormal, cad_malignant)'."""
    old = (
        "n",
        "study_sha256",
        "views",
        "first_read_done",
        "done_at",
        "reading_seconds",
        "assessment",
        "density",
        "assessment_after_cad",
        "density_after_cad",
        "changed_after_cad",
        "marks_first_read",
        "marks_after_cad",
        "measurements",
    )  # fmt: skip  (mammoview/gui/read_log.py at 8d5ea52)
    log = tmp_path / "old.csv"
    log.write_text(",".join(old) + "\n1,abc,4 views,yes,,10.0,1,a,1,a,no,0,0,0\n")
    with pytest.raises(ValueError, match="earlier mammoview"):
        load_read_log(log)


def test_conflicting_truths_of_one_study_are_refused(tmp_path):
    truth = tmp_path / "truth.csv"
    truth.write_text("study,truth\n0123456789abcdef,malignant\n0123456789ABCDEF,normal\n")
    with pytest.raises(ValueError, match="line 3"):
        load_truth(truth)


def test_hand_computed_small_log(tmp_path, capsys):
    """5 studies + an unread one + one without truth + a listed prior; by hand:
    before: recalls A, C -> sens 1/2 (A of A,B), spec 1/2 (C recalled of C,D);
    after:  recalls A, B -> sens 2/2, spec 2/2;  changes: B cancer recalled, C false recall removed."""
    rows = [_row("A", "0", "0", mal=0.9), _row("B", "1", "0", mal=0.7), _row("C", "0", "1", mal=0.2),
            _row("D", "2", "2", mal=0.1), _row("E", "", "", done=False), _row("X", "0", "0"),
            {**_row("P", "0", "0"), "prior_of": "1"}]  # fmt: skip
    truth = {key_hash("A"): "malignant", key_hash("B"): "malignant", key_hash("C"): "benign",
             key_hash("D"): "normal", key_hash("E"): "malignant", key_hash("P"): "malignant"}  # fmt: skip
    rep = reader_study(rows, truth)
    assert rep["first_read_done"] == 4 and rep["truth_known"] == 5
    b, a = rep["before_cad"], rep["after_cad"]
    assert (b["recalls"], b["sensitivity"], b["specificity"]) == (2, 0.5, 0.5)
    assert (a["recalls"], a["sensitivity"], a["specificity"]) == (2, 1.0, 1.0)
    assert rep["changes"]["cancer_recalled"] == 1 and rep["changes"]["false_recall_removed"] == 1
    assert rep["cad_auc_malignant"]["auc"] == pytest.approx(1.0)
    log = write_log(tmp_path / "log.csv", rows)
    t = tmp_path / "t.csv"
    t.write_text("study,truth\n" + "".join(f"{k},{v}\n" for k, v in truth.items()))
    assert main(["reader-study", str(log), "--truth", str(t)]) == 0
    assert "4 studies read" in capsys.readouterr().out


def test_a_study_read_twice_counts_twice_and_is_said():
    """Two readers' logs put together: each reading counts, and the report says how many studies were read again
    (they were counted as studies, silently)."""
    from mammoview.training.reader_study import report_text

    rows = [_row("A", "0", "0"), _row("A", "1", "0"), _row("B", "1", "1"), _row("C", "1", "1", done=False)]
    truth = {key_hash("A"): "malignant", key_hash("B"): "normal", key_hash("C"): "normal"}
    rep = reader_study(rows, truth)
    assert rep["first_read_done"] == 3 and rep["studies_read_more_than_once"] == 1
    assert rep["before_cad"]["true_recalls"] == 1 and rep["after_cad"]["true_recalls"] == 2
    assert "1 of them read more than once" in report_text(rep)
    assert "more than once" not in report_text(reader_study(rows[1:], truth))


def test_sensitivity_and_specificity_carry_wilson_intervals(tmp_path, capsys):
    """A rate on a handful of studies says little without its interval.  By hand (Wilson score, z = 1.96):
    after CAD the log of the tests recalls 2 of 3 cancers -> 2/3 in [0.2077, 0.9385]; before, 1 of 3 ->
    [0.0615, 0.7923]; no cancer read -> no rate and no interval."""
    rep = reader_study(rows(), truth_map())
    lo, hi = rep["after_cad"]["sensitivity_ci"]
    assert (lo, hi) == (pytest.approx(0.2077, abs=1e-4), pytest.approx(0.9385, abs=1e-4))
    lo, hi = rep["before_cad"]["sensitivity_ci"]
    assert (lo, hi) == (pytest.approx(0.0615, abs=1e-4), pytest.approx(0.7923, abs=1e-4))
    assert rep["before_cad"]["specificity_ci"] == rep["after_cad"]["specificity_ci"]  # both 2 of 3
    # 3 of 3: the interval reaches 1, not past it
    lo, hi = __import__("mammoview.training.reader_study", fromlist=["wilson"]).wilson(3, 3)
    assert hi == pytest.approx(1.0) and lo == pytest.approx(0.4385, abs=1e-4)
    only_normals = [_row("E", "1", "0", mal=0.4, ab=0.2)]
    r = reader_study(only_normals, truth_map())["after_cad"]
    assert r["sensitivity"] is None and r["sensitivity_ci"] is None
    log = write_log(tmp_path / "log.csv", rows())
    t = tmp_path / "t.csv"
    t.write_text("study,truth\n" + "".join(f"{k},{v}\n" for k, v in truth_map().items()))
    out = tmp_path / "rep.json"
    assert main(["reader-study", str(log), "--truth", str(t), "--json", str(out)]) == 0
    text = capsys.readouterr().out
    assert "0.667 [0.21, 0.94]" in text, text
    assert json.loads(out.read_text())["after_cad"]["sensitivity_ci"] == [
        pytest.approx(0.2077, abs=1e-4),
        pytest.approx(0.9385, abs=1e-4),
    ]
