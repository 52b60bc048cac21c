"""The AUC intervals of `mammoview evaluate` must be patient-level.

The validation patches are 4 jittered patches per CBIS mass (8 per MIAS lesion) and two views per breast: the
Hanley-McNeil interval counts each as an independent sample. On the shipped model's validation patches it gave
0.934 [0.924, 0.944] for lesion vs normal, where resampling the 167 validation patients gives [0.914, 0.952].
"""

from __future__ import annotations

import numpy as np

from mammoview.training.metrics import patch_metrics


def _case(copies: int) -> tuple[np.ndarray, list[str], list, list[str]]:
    rng = np.random.default_rng(3)
    n = 40  # patients, one patch each ...
    lesion = np.arange(n) % 2 == 0
    p_ab = np.clip(np.where(lesion, 0.6, 0.4) + rng.normal(0, 0.25, n), 0.01, 0.99)
    probs = np.stack([1 - p_ab, p_ab * 0.7, p_ab * 0.3, np.full(n, 0.5)], 1)
    labels = ["mass" if v else "normal" for v in lesion]
    patients = [f"cbis:P_{i:05d}" for i in range(n)]
    # ... each repeated: near-copies of one patch (as the jittered patches of one mass are) add no information
    return (np.repeat(probs, copies, 0), [x for x in labels for _ in range(copies)], [None] * (n * copies),
            [x for x in patients for _ in range(copies)])  # fmt: skip


def _width(m: dict) -> float:
    lo, hi = m["auc"]["lesion_vs_normal"]["ci95"]
    return hi - lo


def test_repeating_each_patients_patch_does_not_narrow_the_interval():
    p1, l1, m1, pat1 = _case(1)
    p8, l8, m8, pat8 = _case(8)
    once = patch_metrics(p1, l1, m1, patients=pat1)
    eight = patch_metrics(p8, l8, m8, patients=pat8)
    assert once["auc"]["lesion_vs_normal"]["auc"] == eight["auc"]["lesion_vs_normal"]["auc"]
    # a patient-level interval is the same (up to bootstrap noise); Hanley-McNeil shrinks it by ~sqrt(8)
    assert _width(eight) > 0.8 * _width(once), (_width(eight), _width(once))


def test_evaluate_passes_the_patients():
    import inspect

    from mammoview.training import eval_patches

    assert "patients=" in inspect.getsource(eval_patches.evaluate_patches)
