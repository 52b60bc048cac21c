"""Every rate the reader study reports states its n.  The rows printed a sensitivity "1.000 [0.34, 1.00]" without
the number of cancers behind it, and the JSON had the recalls but no denominator: the after-CAD row counts only the
reads with CAD shown and each row only its decided reads, so neither the truth's counts nor the row's "studies" give
it, and a reader of the report could not tell 2 of 2 from 20 of 20.  The recall rate (recalls / decided reads) was
not given at all.

By hand: A cancer 0/0, B cancer 1/0 read without CAD, C cancer -/0 (no first decision), N normal 1/1, M normal 0/1.
before CAD (A, B, C, N, M; C undecided): cancers A, B -> 1/2; others N, M -> 1/2 not recalled; recalls A, M -> 2/4
(Wilson 2/4: [0.150, 0.850]).  after CAD (with CAD shown: A, C, N, M): cancers 2/2; others 2/2; recalls 2/4."""

from __future__ import annotations

import pytest

from mammoview.training.reader_study import reader_study, report_text
from tests.training.test_reader_study import _row, key_hash


def _log() -> list[dict[str, str]]:
    no_cad = {**_row("B", "1", "0"), "cad_abnormal": "", "cad_malignant": ""}
    return [_row("A", "0", "0", mal=0.9), no_cad, _row("C", "", "0", mal=0.8), _row("N", "1", "1", mal=0.1),
            _row("M", "0", "1", mal=0.2)]  # fmt: skip


def _truth() -> dict[str, str]:
    return {key_hash(k): "malignant" for k in "ABC"} | {key_hash(k): "normal" for k in "NM"}


def test_each_rate_has_its_numerator_and_denominator():
    rep = reader_study(_log(), _truth())
    b, a = rep["before_cad"], rep["after_cad"]
    assert (b["decided"], b["cancers"], b["non_cancers"]) == (4, 2, 2)
    assert (a["decided"], a["cancers"], a["non_cancers"]) == (4, 2, 2)
    assert (b["true_recalls"], b["sensitivity"], a["true_recalls"], a["sensitivity"]) == (1, 0.5, 2, 1.0)
    assert b["recall_rate"] == 0.5 and a["recall_rate"] == 0.5
    lo, hi = b["recall_rate_ci"]
    assert (lo, hi) == (pytest.approx(0.1500, abs=1e-4), pytest.approx(0.8500, abs=1e-4))
    text = report_text(rep)
    before = next(line for line in text.splitlines() if line.startswith("before CAD"))
    after = next(line for line in text.splitlines() if line.startswith("after CAD"))
    assert "2/4 0.500" in before and "1/2 0.500" in before, text  # recall rate, sensitivity (and specificity)
    assert "2/4 0.500" in after and "2/2 1.000 [0.34, 1.00]" in after, text
    assert "Wilson" in text, text
    auc = next(line for line in text.splitlines() if "malignant score AUC" in line)
    assert "2 malignant vs 2 other studies" in auc, text  # the CAD's scores: A, C vs N, M (B was read without)


def test_the_mcnemar_test_states_its_discordant_pairs():
    """Paired (decided in both, CAD shown): A, N, M; C has no first decision.  Cancers: none changed; others: M
    recalled before only (0 vs 1): p = 1."""
    rep = reader_study(_log(), _truth())
    assert rep["paired"]["discordant_cancers"] == (0, 0) and rep["paired"]["discordant_others"] == (0, 1)
    assert rep["paired"]["mcnemar_specificity_p"] == pytest.approx(1.0)
    assert "(0 vs 1)" in report_text(rep)
