"""Learning curves of a training run: loss and accuracy per epoch, train vs validation, as a PNG and a console line."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from mammoview.training.figures import save_png


def plot_learning_curves(history: Sequence[dict[str, Any]], path: Path, title: str = "") -> Path:
    """Write a PNG with three panels: loss, 3-way accuracy, validation AUC / balanced accuracy.

    ``history`` rows carry ``epoch``, ``train_loss``, ``val_loss``, ``train_acc``,
    ``val_acc``, ``val_auc_lesion``, ``val_bal_acc``, ``val_auc_malignant`` (missing or
    NaN values are skipped) and ``best`` (the checkpoint kept).
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(13, 3.8), dpi=90)
    FigureCanvasAgg(fig)
    panels = (
        ("loss", (("train_loss", "train"), ("val_loss", "val"))),
        ("3-way accuracy", (("train_acc", "train"), ("val_acc", "val"), ("val_bal_acc", "val balanced"))),
        (
            "validation AUC",
            (
                ("val_auc_lesion", "lesion vs normal"),
                ("val_auc_mass_calc", "mass vs calc"),
                ("val_auc_malignant", "benign vs malignant"),
            ),
        ),
    )
    epochs = [h["epoch"] for h in history]
    best = [h["epoch"] for h in history if h.get("best")]
    for k, (name, series) in enumerate(panels):
        ax = fig.add_subplot(1, 3, k + 1)
        for key, label in series:
            raw = [(e, h.get(key)) for e, h in zip(epochs, history, strict=True)]
            pts = [(e, float(v)) for e, v in raw if v is not None and not math.isnan(float(v))]
            if pts:
                ax.plot([p[0] for p in pts], [p[1] for p in pts], marker=".", label=label)
        if best:
            ax.axvline(best[-1], color="grey", ls=":", lw=1)
        ax.set_xlabel("epoch")
        ax.set_title(name)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    if title:
        fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    return save_png(fig, path)


def epoch_line(r: dict[str, Any]) -> str:
    """The line the trainer prints after each epoch: a :func:`plot_learning_curves` history row, in short."""
    keys = (
        "train_loss",
        "val_loss",
        "train_acc",
        "val_acc",
        "val_bal_acc",
        "val_auc_lesion",
        "val_auc_mass_calc",
        "val_auc_malignant",
    )
    vals = " ".join(f"{k.replace('train_', 't_').replace('val_', 'v_')}={r.get(k, float('nan')):.3f}" for k in keys)
    return f"epoch {r['epoch']:3d} {vals} {'*' if r['best'] else ' '} {r['elapsed_s'] / 60:.1f} min"
