"""Every row of the read log is accounted for.  A study whose saved read could not be read is written
``first_read_done=unreadable`` so that reader-study would not drop it unsaid (mammoview.gui.read_log); reader-study
dropped it unsaid all the same: a cancer whose read was damaged left the sensitivity's denominator and the report
named only "N studies read ... of M in the log".  A value no mammoview writes (a newer one's) is refused, as an
unknown assessment is, rather than read as "not read"."""

from __future__ import annotations

import pytest

from mammoview.training.reader_study import load_read_log, reader_study, report_text
from tests.training.test_reader_study import _row, key_hash, write_log


def _log() -> list[dict[str, str]]:
    unreadable = {**_row("U", "", "", done=False), "first_read_done": "unreadable"}
    return [_row("A", "0", "0"), _row("B", "1", "1"), unreadable, _row("X", "", "", done=False),
            _row("Z", "0", "0"), {**_row("P", "0", "0"), "prior_of": "1"}]  # fmt: skip


def _truth() -> dict[str, str]:
    # A, U, X cancers; B normal; Z not in the truth; T in the truth, not in the log
    return {key_hash(k): t for k, t in (("A", "malignant"), ("B", "normal"), ("U", "malignant"), ("X", "malignant"),
                                        ("P", "malignant"), ("T", "malignant"))}  # fmt: skip


def test_every_row_of_the_log_is_accounted_for():
    rep = reader_study(_log(), _truth())
    assert rep["first_read_done"] == 2 and rep["before_cad"]["sensitivity"] == 1.0  # A of A (U unknown: not counted)
    assert rep["log_rows"] == {"read": 2, "unreadable": 1, "not_read": 1, "not_in_truth": 1, "listed_prior": 1}
    assert sum(rep["log_rows"].values()) == rep["rows"] == 6
    assert rep["truth_not_in_log"] == 1  # T
    text = report_text(rep)
    assert "1 unreadable" in text and "1 not in the truth" in text and "1 first read not done" in text, text
    assert "1 listed prior" in text and "1 study of the truth is not in the log" in text, text


@pytest.mark.parametrize("value", ["partial", "Yes", "1"])
def test_a_first_read_done_the_viewer_never_writes_is_refused(tmp_path, value):
    log = write_log(tmp_path / "log.csv", [_row("A", "0", "0"), {**_row("B", "0", "0"), "first_read_done": value}])
    with pytest.raises(ValueError, match="line 3"):
        load_read_log(log)


def test_reads_the_log_says_are_not_saved_are_counted_and_said():
    """The read log's ``not_saved`` (mammoview.gui.read_log) marks a row that is the saved read while the reader's is
    in conflict, or the reader's read whose save failed; reader-study counted them unsaid, like any saved read."""
    log = _log()
    log[0]["not_saved"] = "in conflict"
    log[1]["not_saved"] = "save failed"
    rep = reader_study(log, _truth())
    assert rep["first_read_done"] == 2  # still counted: the saved read, and the only read there is
    assert rep["read_not_saved"] == {"in conflict": 1, "save failed": 1}
    text = report_text(rep)
    assert "1 in conflict" in text and "1 save failed" in text, text
    assert "not saved" not in report_text(reader_study(_log(), _truth()))  # said only where there are some
