"""Patch groups in memory and their evaluation on the validation split.

A :class:`Group` is every patch of one content size (96 px whole-image patches, 17 px
MAGIC-5 patches) as a uint8 tensor; batches are dequantised on the fly.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import torch
import torch.nn.functional as F

from mammoview.training.datasets import PatchSet
from mammoview.training.dense import WindowGrid
from mammoview.training.losses import cad_loss
from mammoview.training.metrics import patch_metrics


@dataclass(eq=False)
class Group:
    """Same-size patches: uint8 images, class index, malignancy (1/0/NaN), patch-set indices."""

    size: int
    idx: npt.NDArray[np.int64]
    x: torch.Tensor
    y: torch.Tensor
    mal: torch.Tensor
    clip: float
    context: int = 0  # px of surroundings around each patch in x (see patch_logits)

    def __len__(self) -> int:
        return int(self.idx.shape[0])

    def batch(self, sel: npt.ArrayLike) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Dequantised float32 ``(x, y, malignant)`` of the rows ``sel`` of this group."""
        s = torch.as_tensor(np.asarray(sel, dtype=np.int64))
        x = self.x[s].to(torch.float32) * (2.0 * self.clip / 255.0) - self.clip
        return x, self.y[s], self.mal[s]


def make_groups(ps: PatchSet, indices: npt.ArrayLike) -> list[Group]:
    """:class:`Group` per content size of ``indices``, largest (whole-image patches) first."""
    out = []
    for size, idx in ps.groups(indices).items():
        out.append(
            Group(
                size=size,
                idx=idx,
                x=torch.from_numpy(ps.crop(idx)),
                y=torch.from_numpy(ps.y[idx]),
                mal=torch.from_numpy(ps.malignant[idx]),
                clip=ps.clip,
                context=ps.context_of(size),
            )
        )
    return out


def patch_logits(model: torch.nn.Module, x: torch.Tensor, context: int = 0) -> torch.Tensor:
    """Logits of the central patches of ``x``: ``forward_context`` when ``x`` carries ``context`` px around them."""
    out: torch.Tensor = model.forward_context(x, context) if context else model(x)  # type: ignore[operator]
    return out


def patch_pooled(model: torch.nn.Module, x: torch.Tensor, context: int = 0) -> torch.Tensor:
    """The head's input (pooled features) for the central patches of ``x``, as :func:`patch_logits`."""
    if context:
        out: torch.Tensor = model.forward_context(x, context, pre_logits=True)  # type: ignore[operator]
    else:
        out = model.forward_head(model.forward_features(x), pre_logits=True)  # type: ignore[operator]
    return out


def dense_logits(model: torch.nn.Module, x: torch.Tensor, grid: WindowGrid) -> torch.Tensor:
    """Window logits ``(N, outputs, K, K)``: the interior CAM averaged over each window, then over windows."""
    features = model.forward_features(x)  # type: ignore[operator]
    m = grid.margin
    if m:
        features = features[:, :, m:-m, m:-m]
    cam: torch.Tensor = model.cam(features)  # type: ignore[operator]
    k = grid.size
    pooled = [
        F.avg_pool2d(cam, w, stride=1)[:, :, st : st + k, st : st + k]
        for w, st in zip(grid.windows, grid.starts, strict=True)
    ]
    return pooled[0] if len(pooled) == 1 else torch.stack(pooled).mean(0)


@torch.no_grad()
def predict(model: torch.nn.Module, group: Group, batch_size: int = 256) -> tuple[torch.Tensor, torch.Tensor]:
    """Logits ``(n, 4)`` and probabilities ``(n, 4)`` (softmax of 3 + sigmoid) of a group, eval mode."""
    model.eval()
    logits = []
    for s in range(0, len(group), batch_size):
        x, _, _ = group.batch(np.arange(s, min(len(group), s + batch_size)))
        logits.append(patch_logits(model, x.contiguous(memory_format=torch.channels_last), group.context).float())
    lg = torch.cat(logits) if logits else torch.zeros((0, 4))
    probs = torch.cat([torch.softmax(lg[:, :3], 1), torch.sigmoid(lg[:, 3:4])], 1)
    return lg, probs


def evaluate_groups(
    model: torch.nn.Module,
    groups: list[Group],
    ps: PatchSet,
    batch_size: int = 256,
    malignant_weight: float = 0.5,
    pos_weight: float | None = None,
) -> dict[str, Any]:
    """Validation loss and :func:`~mammoview.training.metrics.patch_metrics` over all groups.

    Returns
    -------
    dict
        ``metrics`` (the full patch_metrics dict, with ``by_source``), ``summary`` (flat
        numbers for the history / curves) and ``probs`` (ndarray in ``indices`` order).
    """
    probs, idx, loss_sum, n = [], [], 0.0, 0
    for g in groups:
        lg, p = predict(model, g, batch_size)
        loss, _ = cad_loss(lg, g.y, g.mal, malignant_weight=malignant_weight, pos_weight=pos_weight, reduction="sum")
        loss_sum += float(loss)
        n += len(g)
        probs.append(p.numpy())
        idx.append(g.idx)
    p_all = np.concatenate(probs) if probs else np.zeros((0, 4))
    i_all = np.concatenate(idx) if idx else np.zeros(0, dtype=np.int64)
    mal = [None if math.isnan(v) else bool(v) for v in ps.malignant[i_all]]
    m = patch_metrics(p_all, list(ps.labels[i_all]), mal, sources=list(ps.sources[i_all]))
    lvn = m["lesion_vs_normal"]
    summary = {
        "val_loss": loss_sum / max(1, n),
        "val_acc": m["three_way"]["accuracy"],
        "val_bal_acc": m["three_way"]["recall_macro"],
        "val_lesion_acc": lvn["accuracy"],
        "val_precision": lvn["precision"],
        "val_recall": lvn["recall"],
        "val_auc_lesion": m["auc"]["lesion_vs_normal"]["auc"],
        "val_auc_mass_calc": m["auc"]["mass_vs_calcification"]["auc"],
        "val_auc_malignant": m["auc"]["benign_vs_malignant"]["auc"],
    }
    return {"metrics": m, "summary": summary, "probs": p_all, "indices": i_all}


def monitor_value(val: dict[str, Any], monitor: str) -> float:
    """The early-stopping score (higher is better); NaN parts count as 0."""
    s = val["summary"]

    def num(k: str) -> float:
        v = float(s[k])
        return 0.0 if math.isnan(v) else v

    if monitor == "auc":
        return num("val_auc_lesion")
    if monitor == "balanced_accuracy":
        return num("val_bal_acc")
    if monitor == "loss":
        return -num("val_loss")
    if monitor == "malignant_auc":
        return num("val_auc_malignant")
    if monitor == "froc":  # whole-image detection (mammoview.training.monitor)
        return num("val_froc")
    if monitor == "combined":
        # both threshold-free: an argmax accuracy on ~60 validation calcification patches
        # jumps by several points between epochs and would stop training at random
        return 0.5 * (num("val_auc_lesion") + num("val_auc_mass_calc"))
    raise ValueError(f"unknown monitor {monitor!r}")
