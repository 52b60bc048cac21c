"""Classification metrics in plain numpy: confusion matrices, precision/recall/F1, ROC AUC.

No scikit-learn (not a dependency).  Conventions:

- an undefined value (a ratio with a zero denominator, an AUC with one class only) is
  ``NaN`` together with a ``note`` saying why, never an exception: a validation subset
  can legitimately lack a class (e.g. no malignant MIAS image in a small split);
- ROC AUC is the Mann-Whitney statistic, ties counted as one half, so it equals the
  trapezoidal area under :func:`roc_curve` exactly;
- confusion matrices are ``[true, predicted]``; the binary one is ``[[TN, FP], [FN, TP]]``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy.stats import rankdata

ArrayLike = npt.ArrayLike
FloatArray = npt.NDArray[np.float64]


def safe_div(num: float, den: float) -> float:
    """``num / den``, or NaN when ``den`` is 0 (an undefined ratio, not a zero one)."""
    return float(num) / float(den) if den else math.nan


def _binary_labels(y_true: ArrayLike) -> npt.NDArray[np.bool_]:
    y = np.asarray(y_true)
    if y.dtype != np.bool_:
        values = set(np.unique(y).tolist())
        if not values <= {0, 1}:
            raise ValueError(f"binary labels must be 0/1 or bool, got values {sorted(values)}")
        y = y.astype(bool)
    return y.ravel()


def _scores(scores: ArrayLike, n: int) -> FloatArray:
    s = np.asarray(scores, dtype=np.float64).ravel()
    if s.shape[0] != n:
        raise ValueError(f"{s.shape[0]} scores for {n} labels")
    if not np.all(np.isfinite(s)):
        raise ValueError(f"{int(np.sum(~np.isfinite(s)))} score(s) are NaN or infinite")
    return s


@dataclass(frozen=True)
class AucResult:
    """A ROC AUC with its sample sizes; ``auc`` is NaN (and ``note`` says why) when undefined.

    ``ci95`` is the Hanley & McNeil (1982) normal-approximation interval, clipped to
    [0, 1] (NaN at an AUC of exactly 0 or 1, where its variance degenerates): with
    validation sets of a few dozen images the interval matters as much as the estimate.
    """

    auc: float
    n_pos: int
    n_neg: int
    ci95: tuple[float, float] = (math.nan, math.nan)
    note: str = ""
    ci95_method: str = "Hanley-McNeil"  # or "patient bootstrap" (:func:`with_patient_bootstrap`)

    def to_dict(self) -> dict[str, Any]:
        return {"auc": self.auc, "n_pos": self.n_pos, "n_neg": self.n_neg, "ci95": list(self.ci95),
                "ci95_method": self.ci95_method, "note": self.note}  # fmt: skip

    def with_patient_bootstrap(self, y_true: ArrayLike, scores: ArrayLike, groups: ArrayLike) -> AucResult:
        """The same AUC with :func:`patient_bootstrap_ci`'s interval (unchanged where the AUC is undefined)."""
        if math.isnan(self.auc):
            return self
        return replace(self, ci95=patient_bootstrap_ci(y_true, scores, groups), ci95_method="patient bootstrap")


def roc_auc(y_true: ArrayLike, scores: ArrayLike) -> AucResult:
    """ROC AUC as the Mann-Whitney U statistic: P(score_pos > score_neg) + 0.5 P(tie).

    Parameters
    ----------
    y_true : array-like of bool or {0, 1}
        1 = positive class.
    scores : array-like of float
        Higher = more positive.  NaN/inf raise ``ValueError`` (a broken model must not
        pass silently).

    Returns
    -------
    AucResult
        ``auc`` is NaN with a note when either class is empty.
    """
    y = _binary_labels(y_true)
    s = _scores(scores, y.shape[0])
    n_pos, n_neg = int(y.sum()), int((~y).sum())
    if n_pos == 0 or n_neg == 0:
        missing = "positive" if n_pos == 0 else "negative"
        return AucResult(math.nan, n_pos, n_neg, note=f"undefined: no {missing} samples")
    auc = _mann_whitney_auc(y, s)
    return AucResult(auc, n_pos, n_neg, ci95=_hanley_mcneil_ci(auc, n_pos, n_neg))


def _mann_whitney_auc(y: npt.NDArray[np.bool_], s: FloatArray) -> float:
    """The AUC of labels ``y`` (both classes present) and scores ``s``: the Mann-Whitney U over n_pos x n_neg."""
    n_pos = int(y.sum())
    # average ranks give ties half a win each, which is the tie rule of the Mann-Whitney U
    ranks = rankdata(s, method="average")
    return (float(ranks[y].sum()) - n_pos * (n_pos + 1) / 2.0) / (n_pos * (y.size - n_pos))


def patient_bootstrap_ci(
    y_true: ArrayLike, scores: ArrayLike, groups: ArrayLike, n_boot: int = 1000, seed: int = 0
) -> tuple[float, float]:
    """95 % percentile interval of the ROC AUC, resampling whole ``groups`` (patients) with replacement.

    Samples of one patient are not independent (several jittered patches of one mass, two views of one
    breast): the Hanley-McNeil interval, which counts every sample as independent, is then too narrow.
    NaN when a class is empty, held by a single patient, or no resample holds both classes, and at an AUC
    of exactly 0 or 1 (as Hanley-McNeil's).
    """
    y = _binary_labels(y_true)
    s = _scores(scores, y.shape[0])
    g = np.asarray(groups, dtype=object).ravel()
    if g.shape[0] != y.shape[0]:
        raise ValueError(f"{g.shape[0]} groups for {y.shape[0]} labels")
    if not y.any() or y.all():
        return (math.nan, math.nan)
    _, inverse = np.unique(g.astype(str), return_inverse=True)
    if np.unique(inverse[y]).size < 2 or np.unique(inverse[~y]).size < 2:
        # one patient holds a whole class: every resample is that data duplicated, its AUC the estimate itself
        # (a [AUC, AUC] "interval"); the spread between patients cannot be measured
        return (math.nan, math.nan)
    if _mann_whitney_auc(y, s) in (0.0, 1.0):
        # every resample of perfectly separated classes is perfectly separated too: a [1, 1] "interval" from
        # 3 + 3 patients would claim a certainty the sample cannot give
        return (math.nan, math.nan)
    members = [np.flatnonzero(inverse == k) for k in range(int(inverse.max()) + 1)]
    rng = np.random.default_rng(seed)
    aucs = []
    for _ in range(n_boot):
        take = np.concatenate([members[k] for k in rng.integers(0, len(members), len(members))])
        yt = y[take]
        if yt.any() and not yt.all():  # (a draw without both classes has no AUC)
            aucs.append(_mann_whitney_auc(yt, s[take]))
    if not aucs:
        return (math.nan, math.nan)
    lo, hi = np.percentile(aucs, [2.5, 97.5])
    return (float(lo), float(hi))


def _hanley_mcneil_ci(auc: float, n_pos: int, n_neg: int) -> tuple[float, float]:
    if auc in (0.0, 1.0):
        # the approximation's variance is 0 there: a [1, 1] interval from 3 cases would
        # claim a certainty the sample cannot give, so say "unknown" instead
        return (math.nan, math.nan)
    q1 = auc / (2.0 - auc)
    q2 = 2.0 * auc * auc / (1.0 + auc)
    var = (auc * (1 - auc) + (n_pos - 1) * (q1 - auc * auc) + (n_neg - 1) * (q2 - auc * auc)) / (n_pos * n_neg)
    se = math.sqrt(max(var, 0.0))
    return (max(0.0, auc - 1.96 * se), min(1.0, auc + 1.96 * se))


def roc_curve(y_true: ArrayLike, scores: ArrayLike) -> tuple[FloatArray, FloatArray, FloatArray]:
    """ROC operating points, one per distinct score (thresholds descending).

    Returns
    -------
    fpr, tpr, thresholds : ndarray
        Starting at (0, 0) with threshold ``+inf``; a sample is called positive when
        ``score >= threshold``.  Rates are NaN when a class is empty.
    """
    y = _binary_labels(y_true)
    s = _scores(scores, y.shape[0])
    order = np.argsort(-s, kind="stable")
    s, y = s[order], y[order]
    # the last index of each run of equal scores is where an operating point ends
    last = np.r_[np.nonzero(np.diff(s))[0], s.shape[0] - 1] if s.size else np.zeros(0, dtype=int)
    tp = np.cumsum(y)[last]
    fp = np.cumsum(~y)[last]
    n_pos, n_neg = int(y.sum()), int((~y).sum())
    tpr = np.r_[0.0, tp / n_pos] if n_pos else np.full(last.size + 1, math.nan)
    fpr = np.r_[0.0, fp / n_neg] if n_neg else np.full(last.size + 1, math.nan)
    return fpr.astype(np.float64), tpr.astype(np.float64), np.r_[np.inf, s[last]].astype(np.float64)


def confusion_matrix(y_true: ArrayLike, y_pred: ArrayLike, n_classes: int) -> npt.NDArray[np.int64]:
    """``cm[i, j]`` = number of samples of true class ``i`` predicted as class ``j``."""
    t = np.asarray(y_true, dtype=np.int64).ravel()
    p = np.asarray(y_pred, dtype=np.int64).ravel()
    if t.shape != p.shape:
        raise ValueError(f"{t.size} labels vs {p.size} predictions")
    for name, a in (("label", t), ("prediction", p)):
        if a.size and (a.min() < 0 or a.max() >= n_classes):
            raise ValueError(f"{name} outside 0..{n_classes - 1}")
    cm = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(cm, (t, p), 1)
    return cm


def multiclass_metrics(y_true: ArrayLike, y_pred: ArrayLike, classes: Sequence[str]) -> dict[str, Any]:
    """Accuracy, per-class and macro precision / recall / F1, and the confusion matrix.

    Macro averages skip undefined (NaN) per-class values and say so in ``notes``.
    """
    cm = confusion_matrix(y_true, y_pred, len(classes))
    n = int(cm.sum())
    per_class: dict[str, dict[str, float | int]] = {}
    notes: list[str] = []
    for k, name in enumerate(classes):
        tp = int(cm[k, k])
        precision = safe_div(tp, cm[:, k].sum())
        recall = safe_div(tp, cm[k, :].sum())
        per_class[name] = {
            "precision": precision,
            "recall": recall,
            "f1": _f1(tp, int(cm[:, k].sum()) - tp, int(cm[k, :].sum()) - tp),
            "support": int(cm[k, :].sum()),
        }
        if cm[k, :].sum() == 0:
            notes.append(f"no '{name}' samples: its recall is undefined")
        elif cm[:, k].sum() == 0:
            notes.append(f"'{name}' never predicted: its precision is undefined")
    out: dict[str, Any] = {"n": n, "accuracy": safe_div(np.trace(cm), n), "classes": list(classes)}
    for key in ("precision", "recall", "f1"):
        vals = [float(v[key]) for v in per_class.values() if not math.isnan(float(v[key]))]
        out[f"{key}_macro"] = float(np.mean(vals)) if vals else math.nan
    out["per_class"] = per_class
    out["confusion"] = cm.tolist()
    out["notes"] = notes
    return out


def _f1(tp: int, fp: int, fn: int) -> float:
    """``2 TP / (2 TP + FP + FN)``: defined whenever the class has samples (NaN when it has none).

    Equal to the harmonic mean of precision and recall where both are defined, and 0 for a class
    that has samples but is never predicted (recall 0, precision undefined): leaving such a class
    out of a macro average would hide exactly the class the model misses.
    """
    if tp + fn == 0:
        return math.nan
    return safe_div(2 * tp, 2 * tp + fp + fn)


def binary_metrics(y_true: ArrayLike, y_pred: ArrayLike) -> dict[str, Any]:
    """Accuracy, precision, recall (sensitivity), specificity, F1 and ``[[TN, FP], [FN, TP]]``."""
    t = _binary_labels(y_true)
    p = _binary_labels(y_pred)
    if t.shape != p.shape:
        raise ValueError(f"{t.size} labels vs {p.size} predictions")
    tp, fp = int(np.sum(t & p)), int(np.sum(~t & p))
    fn, tn = int(np.sum(t & ~p)), int(np.sum(~t & ~p))
    precision, recall = safe_div(tp, tp + fp), safe_div(tp, tp + fn)
    return {
        "n": int(t.size),
        "accuracy": safe_div(tp + tn, t.size),
        "precision": precision,
        "recall": recall,
        "specificity": safe_div(tn, tn + fp),
        "f1": _f1(tp, fp, fn),
        "confusion": [[tn, fp], [fn, tp]],
    }


#: The tissue classes of the network's softmax, in output order (docs/cad-design.md).
CLASSES = ("normal", "mass", "calcification")


def patch_metrics(
    probs: ArrayLike,
    labels: Sequence[str],
    malignant: Sequence[bool | None],
    sources: Sequence[str] | None = None,
    threshold: float = 0.5,
    patients: Sequence[str] | None = None,
) -> dict[str, Any]:
    """All patch-level metrics of one model on one set of labelled patches.

    Parameters
    ----------
    probs : array-like, shape (N, 4)
        ``p_normal, p_mass, p_calcification`` (one softmax) and ``p_malignant`` given a
        lesion (sigmoid), as in the network contract.
    labels : sequence of str
        The patch class; a lesion label outside :data:`CLASSES` (e.g. MIAS distortion)
        counts as a lesion in the binary view and is left out of the 3-way metrics.
    malignant : sequence of bool or None
        Pathology of lesion patches (None = unknown or normal).
    sources : sequence of str, optional
        ``cbis`` / ``mias`` / ``magic5`` per patch: adds ``by_source`` breakdowns.
    threshold : float
        A patch is called a lesion when ``1 - p_normal >= threshold``.
    patients : sequence of str, optional
        The patient of each patch: the AUCs' ``ci95`` is then a patient-level bootstrap
        (:func:`patient_bootstrap_ci`) instead of Hanley-McNeil, which ignores that a patient's
        patches are correlated.

    Returns
    -------
    dict
        ``three_way`` (:func:`multiclass_metrics`), ``lesion_vs_normal``
        (:func:`binary_metrics`), ``auc`` (``lesion_vs_normal``, ``mass_vs_calcification``
        on mass/calcification patches, ``benign_vs_malignant`` on lesion patches of known
        pathology, each an :meth:`AucResult.to_dict`) and optionally ``by_source``.
    """
    p = np.asarray(probs, dtype=np.float64)
    lab = np.asarray(labels, dtype=object)
    if p.ndim != 2 or p.shape[1] < 4 or p.shape[0] != lab.shape[0] or len(malignant) != lab.shape[0]:
        raise ValueError(f"probs {p.shape} must be (N, 4) for N = {lab.shape[0]} labels and pathologies")
    pat = None if patients is None else np.asarray(patients, dtype=object)
    if pat is not None and pat.shape[0] != lab.shape[0]:
        raise ValueError(f"{pat.shape[0]} patients for {lab.shape[0]} labels")
    out = _patch_block(p, lab, np.asarray(malignant, dtype=object), threshold, pat)
    if sources is not None:
        src = np.asarray(sources, dtype=object)
        out["by_source"] = {
            str(s): _patch_block(
                p[src == s],
                lab[src == s],
                np.asarray(malignant, dtype=object)[src == s],
                threshold,
                None if pat is None else pat[src == s],
            )
            for s in sorted(set(src.tolist()))
        }
    return out


def _auc(y: ArrayLike, s: ArrayLike, groups: npt.NDArray[Any] | None) -> dict[str, Any]:
    """:func:`roc_auc` as a dict; with ``groups`` its interval is the patient-level bootstrap."""
    a = roc_auc(y, s)
    return (a if groups is None else a.with_patient_bootstrap(y, s, groups)).to_dict()


def _patch_block(
    p: FloatArray, lab: npt.NDArray[Any], mal: npt.NDArray[Any], threshold: float, pat: npt.NDArray[Any] | None = None
) -> dict[str, Any]:
    lesion = lab != "normal"
    p_abnormal = 1.0 - p[:, 0]
    known3 = np.isin(lab, CLASSES)
    y3 = np.array([CLASSES.index(v) for v in lab[known3]], dtype=np.int64)
    three = multiclass_metrics(y3, np.argmax(p[known3, :3], axis=1), CLASSES)
    if (~known3).any():
        three["notes"].append(f"{int((~known3).sum())} patch(es) with other lesion labels left out")
    mc = np.isin(lab, ("mass", "calcification"))
    # p(mass | mass or calcification): the softmax restricted to the two lesion classes
    p_mass = p[mc, 1] / np.maximum(p[mc, 1] + p[mc, 2], 1e-12)
    path = lesion & np.array([m is not None for m in mal], dtype=bool)
    binary = binary_metrics(lesion, p_abnormal >= threshold)
    binary["threshold"] = threshold
    return {
        "n": int(lab.shape[0]),
        "counts": {str(k): int(np.sum(lab == k)) for k in sorted(set(lab.tolist()))},
        "three_way": three,
        "lesion_vs_normal": binary,
        "auc": {
            "lesion_vs_normal": _auc(lesion, p_abnormal, pat),
            "mass_vs_calcification": _auc(lab[mc] == "mass", p_mass, None if pat is None else pat[mc]),
            "benign_vs_malignant": _auc(mal[path].astype(bool), p[path, 3], None if pat is None else pat[path]),
        },
    }
