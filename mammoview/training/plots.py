"""Evaluation plots as PNG files: ROC curves, FROC curves, confusion matrices.

Figures are built with :class:`matplotlib.figure.Figure` on an Agg canvas, never
through ``pyplot``: no global backend switch, no figure registry to leak from, safe to
call from any thread and on machines without a display.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from mammoview.training.figures import save_png
from mammoview.training.froc import DetectionScores, FrocResult
from mammoview.training.metrics import CLASSES, roc_auc, roc_curve

#: Dots per inch of the saved PNGs (readable in a markdown viewer, small on disk).
DPI = 110


def _save(fig: Figure, path: Path) -> Path:
    FigureCanvasAgg(fig)
    return save_png(fig, path, dpi=DPI)


def plot_roc(curves: Mapping[str, tuple[npt.ArrayLike, npt.ArrayLike]], path: Path, title: str) -> Path:
    """ROC curves, one per ``label -> (y_true, scores)``, AUC in the legend.

    Curves whose AUC is undefined (one class only) are listed in the legend as ``n/a``
    but not drawn.
    """
    fig = Figure(figsize=(5, 5))
    ax = fig.add_subplot()
    ax.plot([0, 1], [0, 1], ls=":", color="grey", lw=1)
    for label, (y, s) in curves.items():
        auc = roc_auc(y, s)
        if np.isnan(auc.auc):
            ax.plot([], [], label=f"{label}: n/a ({auc.note})")
            continue
        fpr, tpr, _ = roc_curve(y, s)
        ax.plot(fpr, tpr, lw=1.5, label=f"{label}: AUC {auc.auc:.3f} (n={auc.n_pos}+{auc.n_neg})")
    ax.set(xlim=(0, 1), ylim=(0, 1.01), xlabel="false positive rate", ylabel="true positive rate", title=title)
    ax.set_aspect("equal")
    ax.legend(loc="lower right", fontsize=7)
    fig.tight_layout()
    return _save(fig, path)


def plot_froc(results: Mapping[str, FrocResult], path: Path, title: str = "FROC") -> Path:
    """FROC curves (sensitivity vs false positives per image) with the reporting rates marked."""
    fig = Figure(figsize=(6, 4.5))
    ax = fig.add_subplot()
    xmax = 2.0
    for label, r in results.items():
        if not r.n_lesions:
            ax.plot([], [], label=f"{label}: n/a (no lesions)")
            continue
        # a step curve: sensitivity holds until the next threshold adds a false positive
        (line,) = ax.step(r.fpi, r.sensitivity, where="post", lw=1.5)
        line.set_label(f"{label} ({r.n_lesions} lesions, {r.n_images} images)")
        # dots = the operating points; the curve ends at max_fpi (detect keeps the top findings)
        ax.plot(r.fpi, r.sensitivity, "o", ms=3, color=line.get_color())
        xmax = max(xmax, r.max_fpi)
    rates = next(iter(results.values())).fp_rates if results else ()
    for rate in rates:
        ax.axvline(rate, ls=":", color="grey", lw=0.8)
    ax.set(xlim=(0, xmax * 1.05), ylim=(0, 1.01), xlabel="false positives per image", ylabel="lesion sensitivity")
    ax.set_title(title)
    ax.legend(loc="lower right", fontsize=7)
    fig.tight_layout()
    return _save(fig, path)


def plot_confusion(cm: npt.ArrayLike, labels: Sequence[str], path: Path, title: str) -> Path:
    """Confusion matrix ``[true, predicted]`` with counts and row-normalised shading."""
    m = np.asarray(cm, dtype=np.float64)
    rows = m.sum(axis=1, keepdims=True)
    # shade by recall per true class so a small class is as visible as a big one
    frac = np.divide(m, rows, out=np.zeros_like(m), where=rows > 0)
    fig = Figure(figsize=(1.4 * len(labels) + 1.6, 1.2 * len(labels) + 1.2))
    ax = fig.add_subplot()
    ax.imshow(frac, cmap="Blues", vmin=0, vmax=1)
    for i in range(m.shape[0]):
        for j in range(m.shape[1]):
            ax.text(
                j,
                i,
                f"{int(m[i, j])}\n{frac[i, j]:.0%}",
                ha="center",
                va="center",
                color="white" if frac[i, j] > 0.6 else "black",
                fontsize=8,
            )
    ax.set_xticks(range(len(labels)), labels, rotation=20)
    ax.set_yticks(range(len(labels)), labels)
    ax.set(xlabel="predicted", ylabel="true", title=title)
    fig.tight_layout()
    return _save(fig, path)


def write_evaluation_plots(out: Path, patch: Mapping[str, Any] | None, det: DetectionScores | None) -> None:
    """The PNGs of ``mammoview evaluate``: patch ROC + confusion matrices, image ROC, FROC.

    ``patch`` is :func:`mammoview.training.eval_patches.evaluate_patches`' result (with its
    ``_probs``/``_labels``/``_malignant`` arrays); either argument may be None.
    """
    if patch is not None:
        p, lab, mal = patch["_probs"], patch["_labels"], patch["_malignant"]
        mc = np.isin(lab, ("mass", "calcification"))
        known = ~np.isnan(mal) & (lab != "normal")
        curves = {
            "lesion vs normal": (lab != "normal", 1.0 - p[:, 0]),
            "mass vs calcification": (lab[mc] == "mass", p[mc, 1] / np.maximum(p[mc, 1] + p[mc, 2], 1e-12)),
            "malignant vs benign": (mal[known] == 1, p[known, 3]),
        }
        plot_roc(curves, out / "roc_patches.png", "Patch ROC (validation)")
        plot_confusion(patch["three_way"]["confusion"], CLASSES, out / "confusion_3way.png", "Patches, 3-way")
        plot_confusion(
            patch["lesion_vs_normal"]["confusion"],
            ("normal", "lesion"),
            out / "confusion_lesion.png",
            "Patches, lesion vs normal",
        )
    if det is not None:
        plot_roc(det.roc_inputs, out / "roc_images.png", "Image ROC (validation, detect scores)")
        plot_froc(det.froc, out / "froc.png", "FROC (validation images)")
