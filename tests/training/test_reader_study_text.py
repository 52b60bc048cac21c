"""the reader-study text puts 'before CAD' (every read) and 'after CAD' (the reads the CAD informed) side
by side; with reads whose CAD was unavailable the two rows count different reads, and nothing in the text says so:
recalls drop 'after CAD' while 'changed by CAD: 0'."""

from __future__ import annotations

from mammoview.training.reader_study import reader_study, report_text


def _row(study: str, before: str, after: str, cad: bool) -> dict[str, str]:
    return {"study": study, "first_read_done": "yes", "reading_seconds": "30", "assessment": before,
            "assessment_after_cad": after, "cad_model": "m" if cad else "", "cad_abnormal": "0.9" if cad else "",
            "cad_malignant": "0.5" if cad else ""}  # fmt: skip


def test_the_text_says_which_reads_the_after_cad_row_leaves_out():
    rows = [_row("s1", "0", "0", True), _row("s2", "0", "0", False), _row("s3", "0", "0", False)]
    rep = reader_study(rows, {"s1": "malignant", "s2": "malignant", "s3": "normal"})
    assert rep["changes"]["changed"] == 0
    text = report_text(rep)
    assert any(line.startswith("before CAD") for line in text.splitlines()), text
    after = next(line for line in text.splitlines() if line.startswith("after CAD")).split()
    # nothing changed, yet the rows differ (recalls 3 vs 1): the text must say why
    assert "without CAD" in text, text
    same = next(line for line in text.splitlines() if "same reads" in line).split()
    assert same[2:] == after[2:], text
