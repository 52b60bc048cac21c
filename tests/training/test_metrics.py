"""Metrics against values computed by hand (no scikit-learn to compare with)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from mammoview.training.metrics import (
    binary_metrics,
    confusion_matrix,
    multiclass_metrics,
    patch_metrics,
    roc_auc,
    roc_curve,
)


def test_binary_metrics_by_hand():
    y = [1, 1, 1, 0, 0, 0, 0, 1]
    p = [1, 0, 1, 0, 1, 0, 0, 1]
    # TP = 3 (idx 0, 2, 7), FN = 1 (idx 1), FP = 1 (idx 4), TN = 3
    m = binary_metrics(y, p)
    assert m["confusion"] == [[3, 1], [1, 3]]
    assert m["accuracy"] == pytest.approx(6 / 8)
    assert m["precision"] == pytest.approx(3 / 4)
    assert m["recall"] == pytest.approx(3 / 4)
    assert m["specificity"] == pytest.approx(3 / 4)
    assert m["f1"] == pytest.approx(0.75)


def test_binary_metrics_asymmetric_case():
    y = [1, 1, 0, 0, 0]
    p = [1, 1, 1, 1, 0]
    m = binary_metrics(y, p)
    assert m["confusion"] == [[1, 2], [0, 2]]
    assert m["precision"] == pytest.approx(0.5)
    assert m["recall"] == pytest.approx(1.0)
    assert m["f1"] == pytest.approx(2 * 0.5 * 1.0 / 1.5)


def test_binary_precision_undefined_when_nothing_predicted_positive():
    m = binary_metrics([1, 0, 0], [0, 0, 0])
    assert math.isnan(m["precision"])
    assert m["recall"] == 0.0
    assert m["f1"] == 0.0  # 2TP / (2TP + FP + FN) = 0 / 1: the one lesion was missed


def test_confusion_and_multiclass_by_hand():
    classes = ("normal", "mass", "calcification")
    y = [0, 0, 0, 1, 1, 2, 2, 2]
    p = [0, 1, 0, 1, 2, 2, 2, 0]
    cm = confusion_matrix(y, p, 3)
    assert cm.tolist() == [[2, 1, 0], [0, 1, 1], [1, 0, 2]]
    m = multiclass_metrics(y, p, classes)
    assert m["accuracy"] == pytest.approx(5 / 8)
    # normal: P = 2/3, R = 2/3; mass: P = 1/2, R = 1/2; calc: P = 2/3, R = 2/3
    assert m["per_class"]["normal"]["precision"] == pytest.approx(2 / 3)
    assert m["per_class"]["mass"]["recall"] == pytest.approx(1 / 2)
    assert m["per_class"]["calcification"]["f1"] == pytest.approx(2 / 3)
    assert m["precision_macro"] == pytest.approx((2 / 3 + 1 / 2 + 2 / 3) / 3)
    assert m["per_class"]["calcification"]["support"] == 3


def test_multiclass_undefined_class_is_nan_with_note():
    m = multiclass_metrics([0, 0, 1], [0, 0, 1], ("normal", "mass", "calcification"))
    assert math.isnan(m["per_class"]["calcification"]["recall"])
    assert any("calcification" in n for n in m["notes"])
    assert m["recall_macro"] == pytest.approx(1.0)  # NaN skipped, not counted as 0


def test_confusion_rejects_out_of_range():
    with pytest.raises(ValueError, match="outside"):
        confusion_matrix([0, 3], [0, 1], 3)


def test_auc_with_ties_equals_hand_mann_whitney():
    # positives 0.8, 0.5, 0.5; negatives 0.5, 0.2.  Pairs (pos, neg):
    # (0.8,0.5)=1 (0.8,0.2)=1 (0.5,0.5)=0.5 (0.5,0.2)=1 (0.5,0.5)=0.5 (0.5,0.2)=1 -> 5/6
    r = roc_auc([1, 1, 1, 0, 0], [0.8, 0.5, 0.5, 0.5, 0.2])
    assert r.auc == pytest.approx(5 / 6)
    assert (r.n_pos, r.n_neg) == (3, 2)
    # Hanley-McNeil by hand: Q1 = A/(2-A) = 5/7, Q2 = 2A^2/(1+A) = 50/66
    a, q1, q2 = 5 / 6, 5 / 7, 50 / 66
    se = math.sqrt((a * (1 - a) + 2 * (q1 - a * a) + 1 * (q2 - a * a)) / 6)
    assert r.ci95 == pytest.approx((max(0.0, a - 1.96 * se), min(1.0, a + 1.96 * se)))


def test_auc_all_tied_is_half():
    assert roc_auc([1, 0, 1, 0], [0.3] * 4).auc == pytest.approx(0.5)


def test_auc_perfect_and_inverted():
    y = [0, 0, 1, 1, 1]
    s = [0.1, 0.2, 0.7, 0.8, 0.9]
    assert roc_auc(y, s).auc == 1.0
    assert roc_auc(y, [-v for v in s]).auc == 0.0
    assert all(math.isnan(v) for v in roc_auc(y, s).ci95)  # no zero-width interval from 5 cases


def test_auc_one_class_is_nan_with_note():
    r = roc_auc([1, 1, 1], [0.1, 0.5, 0.9])
    assert math.isnan(r.auc)
    assert "no negative" in r.note
    r0 = roc_auc([], [])
    assert math.isnan(r0.auc) and "no positive" in r0.note


def test_auc_rejects_nan_scores():
    with pytest.raises(ValueError, match="NaN"):
        roc_auc([1, 0], [0.5, float("nan")])


def test_roc_curve_area_equals_mann_whitney(rng):
    y = rng.integers(0, 2, 200)
    s = np.round(rng.normal(size=200) + 0.8 * y, 1)  # rounding makes many ties
    fpr, tpr, thr = roc_curve(y, s)
    assert fpr[0] == 0 and tpr[0] == 0 and fpr[-1] == 1 and tpr[-1] == 1
    assert np.all(np.diff(thr) < 0)
    area = float(np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1]) / 2))
    assert area == pytest.approx(roc_auc(y, s).auc)


def test_roc_curve_points_by_hand():
    fpr, tpr, thr = roc_curve([1, 0, 1, 0], [0.9, 0.6, 0.6, 0.1])
    assert thr.tolist() == [np.inf, 0.9, 0.6, 0.1]
    assert tpr.tolist() == [0, 0.5, 1, 1]
    assert fpr.tolist() == [0, 0, 0.5, 1]


def test_patch_metrics_views_and_breakdown():
    #            normal mass calc malignant
    probs = [
        [0.9, 0.05, 0.05, 0.2],  # normal, right
        [0.6, 0.3, 0.1, 0.2],  # normal, right
        [0.2, 0.7, 0.1, 0.9],  # mass malignant, right
        [0.35, 0.2, 0.45, 0.1],  # mass benign, predicted calcification
        [0.3, 0.1, 0.6, 0.5],  # calcification, pathology unknown
    ]
    labels = ["normal", "normal", "mass", "mass", "calcification"]
    malignant = [None, None, True, False, None]
    sources = ["cbis", "magic5", "cbis", "cbis", "magic5"]
    m = patch_metrics(probs, labels, malignant, sources)
    assert m["three_way"]["confusion"] == [[2, 0, 0], [0, 1, 1], [0, 0, 1]]
    assert m["lesion_vs_normal"]["confusion"] == [[2, 0], [0, 3]]
    # abnormal = 0.1, 0.4 vs 0.8, 0.65, 0.7: perfectly separated
    assert m["auc"]["lesion_vs_normal"]["auc"] == 1.0
    # p(mass | lesion): mass 0.875, 0.308 vs calc 0.143: perfectly separated
    assert m["auc"]["mass_vs_calcification"]["auc"] == 1.0
    assert m["auc"]["benign_vs_malignant"]["auc"] == 1.0
    assert m["auc"]["benign_vs_malignant"]["n_pos"] == 1
    assert m["by_source"]["cbis"]["n"] == 3
    cbis = m["by_source"]["cbis"]["auc"]["mass_vs_calcification"]
    assert math.isnan(cbis["auc"]) and "no negative" in cbis["note"]
    assert m["by_source"]["magic5"]["counts"] == {"calcification": 1, "normal": 1}


def test_patch_metrics_rejects_bad_shape():
    with pytest.raises(ValueError, match="must be"):
        patch_metrics([[0.5, 0.5, 0.0]], ["normal"], [None])
