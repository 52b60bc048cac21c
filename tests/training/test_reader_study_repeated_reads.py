"""Two readers' logs put together: each reading counts (README), and the Wilson intervals and the McNemar test count
each reading as an independent observation.  Two readings of one study are not independent (the same cancer, easy or
hard for both), so the intervals printed were too narrow and the p-value too small, without a word: the CAD's AUC was
made to count each study once for this reason, the reader rows' intervals kept counting readings."""

from __future__ import annotations

from mammoview.training.reader_study import reader_study, report_text
from tests.training.test_reader_study import _row, key_hash


def test_the_report_says_its_intervals_treat_repeated_readings_as_independent():
    rows = [_row("A", "1", "0"), _row("A", "1", "0"), _row("B", "1", "1"), _row("B", "1", "1")]
    truth = {key_hash("A"): "malignant", key_hash("B"): "normal"}
    text = report_text(reader_study(rows, truth))
    # 2 of 2 "cancers" recalled after CAD: Wilson [0.34, 1.00] counts one cancer as two
    assert "2/2 1.000 [0.34, 1.00]" in text, text
    assert "independent" in text and "too narrow" in text, text
    assert "independent" not in report_text(reader_study(rows[::2], truth))
