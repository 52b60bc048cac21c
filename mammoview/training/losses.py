"""The CAD loss (docs/cad-design.md): 3-way tissue cross-entropy + masked malignancy BCE."""

from __future__ import annotations

import math

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


def dense_loss(
    logits: torch.Tensor,
    y: torch.Tensor,
    malignant: torch.Tensor,
    *,
    hard_fraction: float = 0.1,
    malignant_weight: float = 0.5,
    pos_weight: float | None = None,
    label_smoothing: float = 0.0,
    weight: torch.Tensor | None = None,
) -> tuple[torch.Tensor, dict[str, float]]:
    """Loss of a batch of dense-training window grids (:mod:`.dense`); ``parts`` for logging.

    Mean of a normal term (half the mean cross-entropy of the normal windows, half the mean of their
    hardest ``hard_fraction``) and a lesion term, plus ``malignant_weight`` x the malignancy BCE over
    lesion windows of known pathology (``pos_weight`` for the malignant ones).

    Parameters
    ----------
    logits : Tensor (N, 4, K, K)
    y : Tensor (N, K, K) int64, IGNORE / 0 / 1 / 2
    malignant : Tensor (N, K, K) float, 1 / 0 / NaN
    weight : Tensor (N, K, K) float, optional
        Per-window weights of the lesion term and the malignancy BCE (e.g. 1 / windows of the
        lesion, :func:`crop_targets`: every lesion of the batch then counts the same); default equal.
    """
    flat = logits.permute(0, 2, 3, 1).reshape(-1, logits.shape[1]).float()
    yy = y.reshape(-1)
    mm = malignant.reshape(-1)
    keep = yy >= 0
    zero = flat.sum() * 0.0
    if not bool(keep.any()):
        return zero, {"normal": 0.0, "lesion": 0.0, "bce": 0.0, "n_normal": 0, "n_lesion": 0}
    ce = F.cross_entropy(flat[keep, :3], yy[keep], label_smoothing=label_smoothing, reduction="none")
    yk = yy[keep]
    terms = []
    normal = ce[yk == 0]
    lesion = ce[yk > 0]
    lw = None if weight is None else weight.reshape(-1)[keep][yk > 0].to(ce.dtype)
    if normal.numel():
        hard = normal
        if hard_fraction > 0:
            hard = torch.topk(normal, max(1, math.ceil(hard_fraction * normal.numel()))).values
        terms.append(0.5 * (normal.mean() + hard.mean()))
    if lesion.numel():
        terms.append(lesion.mean() if lw is None else (lw * lesion).sum() / lw.sum())
    loss = torch.stack(terms).mean()
    known = torch.isfinite(mm) & (yy > 0)
    bce = zero
    if bool(known.any()):
        pw = None if pos_weight is None else torch.tensor(pos_weight, dtype=flat.dtype)
        wk = None if weight is None else weight.reshape(-1)[known].to(flat.dtype)
        bce = F.binary_cross_entropy_with_logits(
            flat[known, 3], mm[known].to(flat.dtype), pos_weight=pw, weight=wk, reduction="sum"
        ) / (wk.sum() if wk is not None else known.sum())
    loss = loss + malignant_weight * bce
    parts = {
        "normal": float(normal.mean().detach()) if normal.numel() else 0.0,
        "lesion": float(lesion.mean().detach()) if lesion.numel() else 0.0,
        "bce": float(bce.detach()),
        "n_normal": int(normal.numel()),
        "n_lesion": int(lesion.numel()),
    }
    return loss, parts


def window_accuracy(logits: torch.Tensor, y: torch.Tensor) -> tuple[int, int]:
    """(correct, counted) tissue argmax over the labelled windows."""
    flat = logits.detach().permute(0, 2, 3, 1).reshape(-1, logits.shape[1])
    yy = y.reshape(-1)
    keep = yy >= 0
    return int((flat[keep, :3].argmax(1) == yy[keep]).sum()), int(keep.sum())
