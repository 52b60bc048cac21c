"""The CAD loss (docs/cad-design.md): 3-way tissue cross-entropy + masked malignancy BCE."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import torch
import torch.nn.functional as F


def cad_loss(
    logits: torch.Tensor,
    y: torch.Tensor,
    malignant: torch.Tensor,
    *,
    malignant_weight: float = 0.5,
    pos_weight: float | None = None,
    label_smoothing: float = 0.0,
    reduction: str = "mean",
) -> tuple[torch.Tensor, dict[str, float]]:
    """Loss of one batch.

    Parameters
    ----------
    logits : Tensor (N, 4)
        ``normal, mass, calcification`` (softmax) and ``malignant`` (sigmoid) logits.
    y : Tensor (N,), int64
        Tissue class 0..2.
    malignant : Tensor (N,), float
        1 / 0 for lesion patches of known pathology, NaN otherwise: only those enter
        the BCE ("malignant given a lesion").
    malignant_weight : float
        Weight of the BCE term.
    pos_weight : float, optional
        BCE weight of malignant examples (benign count / malignant count balances them).
    reduction : {"mean", "sum"}
        ``"sum"`` lets the caller average over several batches (e.g. two patch sizes).

    Returns
    -------
    loss : Tensor
        ``CE + malignant_weight * BCE``.
    parts : dict
        ``ce``, ``bce`` (means, for logging) and ``n_malignant_known``.
    """
    ce = F.cross_entropy(logits[:, :3], y, label_smoothing=label_smoothing, reduction=reduction)
    known = torch.isfinite(malignant) & (y > 0)
    n_known = int(known.sum())
    if n_known:
        pw = None if pos_weight is None else torch.tensor(pos_weight, dtype=logits.dtype)
        bce = F.binary_cross_entropy_with_logits(
            logits[known, 3], malignant[known].to(logits.dtype), pos_weight=pw, reduction="sum"
        )
        if reduction == "mean":
            bce = bce / max(1, y.shape[0])
    else:
        bce = logits[:, 3].sum() * 0.0  # keeps the graph (and DDP-style unused-parameter checks) happy
    loss = ce + malignant_weight * bce
    n = max(1, y.shape[0])
    scale = 1.0 if reduction == "mean" else 1.0 / n
    parts = {"ce": float(ce.detach()) * scale, "bce": float(bce.detach()) * scale, "n_malignant_known": n_known}
    return loss, parts


def aux_loss(logits: torch.Tensor, targets: torch.Tensor) -> tuple[torch.Tensor, int]:
    """Summed BCE of auxiliary binary targets over their known entries (NaN = unknown, no gradient).

    Parameters
    ----------
    logits, targets : Tensor (N, K)
        Auxiliary logits and 1 / 0 / NaN targets (:mod:`mammoview.training.descriptors`).

    Returns
    -------
    loss : Tensor
        Sum over the known entries (0 with the graph kept when none is known).
    n_known : int
    """
    known = torch.isfinite(targets)
    n_known = int(known.sum())
    if not n_known:
        return logits.sum() * 0.0, 0
    loss = F.binary_cross_entropy_with_logits(logits[known], targets[known].to(logits.dtype), reduction="sum")
    return loss, n_known


def class_sampling_weights(y: npt.ArrayLike, alpha: float = 0.5) -> npt.NDArray[np.float64]:
    """Per-sample probabilities so class ``c`` is drawn in proportion to ``n_c ** (1 - alpha)``.

    ``alpha = 0``: natural frequencies; ``1``: every class equally often; ``0.5``
    (default, "square-root balancing"): rare classes are drawn more often without
    repeating their few examples dozens of times per epoch.
    """
    lab = np.asarray(y)
    classes, counts = np.unique(lab, return_counts=True)
    per_class = {int(c): float(n) ** (-alpha) for c, n in zip(classes, counts, strict=True)}
    w = np.array([per_class[int(v)] for v in lab], dtype=np.float64)
    out: npt.NDArray[np.float64] = w / w.sum()
    return out
