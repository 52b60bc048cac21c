"""The CAD's exam-score AUC in a reader study of two readers' logs put together (README: each reading counts):
the CAD read each study once, so a study read by both readers must count once in the CAD's AUC.  It counted once
per reading: studies read twice weighed double (the AUC itself moved) and the interval counted every study twice
(too narrow: n_pos / n_neg doubled)."""

from __future__ import annotations

import pytest

from mammoview.training.reader_study import reader_study
from tests.training.test_reader_study import _row, key_hash


def test_a_study_read_by_two_readers_counts_once_in_the_cads_auc():
    # per study: cancers A 0.9, C 0.3; normals B 0.1, D 0.5 -> 3 of 4 pairs ordered: AUC 0.75
    reader1 = [_row("A", "0", "0", mal=0.9), _row("B", "1", "1", mal=0.1), _row("C", "1", "1", mal=0.3),
               _row("D", "1", "1", mal=0.5)]  # fmt: skip
    reader2 = [_row("A", "1", "0", mal=0.9), _row("B", "1", "1", mal=0.1)]  # the second reader read A and B only
    truth = {key_hash("A"): "malignant", key_hash("B"): "normal", key_hash("C"): "malignant",
             key_hash("D"): "normal"}  # fmt: skip
    rep = reader_study(reader1 + reader2, truth)
    assert rep["first_read_done"] == 6 and rep["studies_read_more_than_once"] == 2  # the readings all count
    auc = rep["cad_auc_malignant"]
    assert (auc["n_pos"], auc["n_neg"]) == (2, 2), auc  # the CAD's studies, once each
    assert auc["auc"] == pytest.approx(0.75), auc  # (8 of 9 with A and B counted twice)
    assert rep["cad_auc_malignant"] == reader_study(reader1, truth)["cad_auc_malignant"]
