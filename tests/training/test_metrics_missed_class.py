"""Metrics an ML engineer publishes: a class the model never predicts counts in the macro F1; a calibration with
one class of findings is a note, not a crash."""

from __future__ import annotations

from pathlib import Path

import pytest

from mammoview.training.calibrate import fit_malignancy_calibration
from mammoview.training.metrics import binary_metrics, multiclass_metrics, patch_metrics
from mammoview.training.sources import Lesion, SourceImage

CLASSES = ("normal", "mass", "calcification")


def test_macro_f1_counts_a_class_that_is_never_predicted_as_zero():
    # calcification: 2 samples, never predicted: recall 0, so its F1 is 2TP / (2TP + FP + FN) = 0 / 2 = 0
    # normal: P 2/3, R 1 -> F1 0.8; mass: P 2/3, R 1 -> F1 0.8
    m = multiclass_metrics([0, 0, 1, 1, 2, 2], [0, 0, 1, 1, 1, 0], CLASSES)
    assert m["per_class"]["calcification"]["f1"] == 0.0
    assert m["f1_macro"] == pytest.approx((0.8 + 0.8 + 0.0) / 3)
    # a macro F1 can never exceed both the macro precision and the macro recall of the same classes
    assert m["f1_macro"] <= max(m["precision_macro"], m["recall_macro"])


def test_magic5_row_f1_macro_is_not_the_normal_class_alone():
    # what `mammoview evaluate` wrote for the shipped model on 33 MAGIC-5 validation patches: every patch
    # called normal (18 normal, 15 calcification): the report's "F1 macro" was 0.706 (normal's F1 alone)
    # with accuracy 0.545, precision_macro 0.545 and recall_macro 0.5
    probs = [[0.9, 0.05, 0.05, 0.1]] * 33
    labels = ["normal"] * 18 + ["calcification"] * 15
    out = patch_metrics(probs, labels, [None] * 33, ["magic5"] * 33)
    three = out["by_source"]["magic5"]["three_way"]
    f1_normal = 2 * (18 / 33) * 1.0 / (18 / 33 + 1.0)
    assert three["f1_macro"] == pytest.approx((f1_normal + 0.0) / 2)
    # the lesion-vs-normal view: 15 lesions, none found: F1 = 0, not undefined
    assert out["by_source"]["magic5"]["lesion_vs_normal"]["f1"] == 0.0


def test_binary_f1_is_zero_when_positives_exist_and_none_is_predicted():
    assert binary_metrics([1, 0, 0], [0, 0, 0])["f1"] == 0.0


def _truth(n: int) -> list[SourceImage]:
    lesion = Lesion("mass", True, bbox=(0, 0, 100, 100), center=(50, 50))
    return [
        SourceImage("cbis", f"img{i}", Path(f"/x/img{i}.jpg"), f"cbis:P{i}", "L", "CC", (0.29, 0.18), "mass", True,
                    (lesion,))
        for i in range(n)
    ]  # fmt: skip


def test_calibration_on_malignant_only_findings_is_a_note_not_a_crash():
    # a cancer-only test set (or --max-images on one): >= 20 findings on lesions of known pathology, all
    # malignant.  evaluate() calls this after detect and before writing metrics.json: a ValueError here
    # loses the whole evaluation
    doc = {
        "images": [
            {"path": f"/x/img{i}.jpg", "scores": {"abnormal": 0.5, "malignant": 0.5},
             "findings": [{"center": [50, 50], "score": 0.9, "malignancy": 0.1 + 0.03 * i}]}
            for i in range(25)
        ]
    }  # fmt: skip
    out = fit_malignancy_calibration(doc, _truth(25))
    assert "slope" not in out and "both classes" in out["note"]
