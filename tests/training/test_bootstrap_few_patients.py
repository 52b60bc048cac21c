"""A patient bootstrap cannot measure between-patient spread from one patient per class.

With one validation patient (a MIAS validation side of one woman, a by_source block) or with one patient per class
(MIAS malignant vs benign images of two women), every resample that holds both classes is the same data up to
duplication, so every resampled AUC equals the point estimate and the "95 % interval" is [AUC, AUC]: the report
then prints e.g. 0.833 [0.83, 0.83], certainty where the data say nothing (Hanley-McNeil gave [0.41, 1.00]).
"""

from __future__ import annotations

import math

import numpy as np

from mammoview.training.froc import score_detections  # noqa: F401  (the image AUCs use the same function)
from mammoview.training.metrics import patch_metrics, patient_bootstrap_ci


def _undefined(ci) -> bool:
    return all(math.isnan(v) for v in ci)


def test_one_patient_gives_no_interval():
    y, s = [1, 0, 1, 0, 0], [0.9, 0.1, 0.4, 0.5, 0.2]
    lo, hi = patient_bootstrap_ci(y, s, ["mias:001"] * 5)
    assert _undefined((lo, hi)) or hi > lo, (lo, hi)


def test_one_patient_per_class_gives_no_interval():
    lo, hi = patient_bootstrap_ci([1, 1, 0, 0], [0.9, 0.4, 0.5, 0.1], ["a", "a", "b", "b"])
    assert _undefined((lo, hi)) or hi > lo, (lo, hi)


def test_a_by_source_block_of_one_patient_has_no_zero_width_interval():
    rng = np.random.default_rng(0)
    n = 12
    probs = rng.dirichlet([1, 1, 1, 1], n)
    labels = ["normal"] * 6 + ["calcification"] * 6
    sources = ["cbis"] * 6 + ["mias"] * 6
    labels[6:9] = ["normal"] * 3  # the one MIAS patient: 3 normal and 3 calcification patches
    patients = [f"cbis:P_{i:05d}" for i in range(6)] + ["mias:001"] * 6
    m = patch_metrics(probs, labels, [None] * n, sources, patients=patients)
    a = m["by_source"]["mias"]["auc"]["lesion_vs_normal"]
    assert not math.isnan(a["auc"])
    lo, hi = a["ci95"]
    assert _undefined((lo, hi)) or hi > lo, a


def test_a_perfect_separation_gives_no_zero_width_interval():
    """Every resample of perfectly separated patients separates them too: the percentile interval is [1, 1].

    Three malignant and three benign validation patients whose scores do not overlap are no proof of a perfect
    model; Hanley-McNeil says "unknown" there (NaN), and so must the patient bootstrap.
    """
    y, s, patients = [1, 1, 1, 0, 0, 0], [0.9, 0.8, 0.7, 0.3, 0.2, 0.1], ["a", "b", "c", "d", "e", "f"]
    assert _undefined(patient_bootstrap_ci(y, s, patients))
    assert _undefined(patient_bootstrap_ci(y, [-v for v in s], patients))  # AUC 0: the same
