"""Grad-CAM (Selvaraju et al. 2017) over the whole image, tile by tile (the one place hooks are used).

For our networks plain CAM is exact (GAP + linear head); Grad-CAM is offered for its
different target layer: by default the stage before the last (``CadNet.gradcam_layer``),
where the gradient weighting reflects what the last stage does with those features.
Each tile's score is its core's pooled logit (as if that core were a patch), so tiles
stay independent and memory stays bounded; maps are relative saliency (>= 0), not
probabilities, and are scaled for display by the caller.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from mammoview.cad.device import Precision, autocast
from mammoview.cad.inference import (
    CancelFlag,
    check_cancel,
    default_tile,
    plan_tiles,
    tile_margin,
)
from mammoview.cad.networks.layers import CadNet
from mammoview.cad.probability_maps import BoolArray, FloatArray
from mammoview.cad.types import Progress, ProgressGenerator


def _scores(logits: Tensor) -> list[Tensor]:
    """Target scores in heatmap order: abnormal (log-odds of not normal), mass, calcification, malignant."""
    abnormal = torch.logsumexp(logits[1:3], dim=0) - logits[0]
    return [abnormal, logits[1], logits[2], logits[3]]


def grad_cam_tiled(
    model: CadNet,
    data: FloatArray,
    *,
    device: torch.device | None = None,
    tile: int | None = None,
    needed: BoolArray | None = None,
    layer: str | None = None,
    cancel: CancelFlag = None,
    precision: Precision = "auto",
) -> ProgressGenerator[tuple[FloatArray, int]]:
    """Grad-CAM maps (4, h, w) at the target layer's stride, and that stride.

    ``data`` is (C, H, W) padded to a multiple of the feature stride; ``needed`` is the
    feature-cell mask of :func:`mammoview.cad.inference.cells_needed`.
    """
    target: nn.Module = model.get_submodule(layer or model.gradcam_layer)
    s = model.feature_stride
    _, h, w = data.shape
    dev = device or next(model.parameters()).device
    tiles = plan_tiles((h, w), s, tile or default_tile(model), tile_margin(model), needed)
    captured: list[Tensor] = []

    def hook(_m: nn.Module, _inp: Any, out: Tensor) -> Tensor:
        # A fresh leaf: gradients flow to it even though the weights are frozen.
        leaf = out.detach().requires_grad_(True)
        captured.append(leaf)
        return leaf

    out_maps: FloatArray | None = None
    stride_a = s
    handle = target.register_forward_hook(hook)
    try:
        yield Progress(0, len(tiles), "grad-cam")
        for i, t in enumerate(tiles):
            check_cancel(cancel)
            captured.clear()
            window = np.ascontiguousarray(data[:, t.wy0 : t.wy1, t.wx0 : t.wx1])
            with torch.enable_grad(), autocast(dev, precision):
                x = torch.from_numpy(window)[None].to(dev)
                f = model.forward_features(x)
                act = captured[0]
                stride_a = (t.wy1 - t.wy0) // act.shape[2]
                oy, ox = (t.y0 - t.wy0) // s, (t.x0 - t.wx0) // s
                cam = model.cam(f)[0, :, oy : oy + (t.y1 - t.y0) // s, ox : ox + (t.x1 - t.x0) // s]
                logits = cam.float().mean(dim=(1, 2))
                ay, ax = (t.y0 - t.wy0) // stride_a, (t.x0 - t.wx0) // stride_a
                ah, aw = (t.y1 - t.y0) // stride_a, (t.x1 - t.x0) // stride_a
                a_core = act[0, :, ay : ay + ah, ax : ax + aw].float()
                maps = []
                for score in _scores(logits):
                    (grad,) = torch.autograd.grad(score, act, retain_graph=True)
                    alpha = grad[0, :, ay : ay + ah, ax : ax + aw].float().mean(dim=(1, 2))
                    maps.append(torch.relu(torch.einsum("c,chw->hw", alpha, a_core)).detach())
            if out_maps is None:
                out_maps = np.zeros((4, h // stride_a, w // stride_a), dtype=np.float32)
            out_maps[:, t.y0 // stride_a : t.y1 // stride_a, t.x0 // stride_a : t.x1 // stride_a] = (
                torch.stack(maps).cpu().numpy()
            )
            yield Progress(i + 1, len(tiles), f"grad-cam tile {i + 1}/{len(tiles)}")
    finally:
        handle.remove()
    if out_maps is None:
        out_maps = np.zeros((4, h // stride_a, w // stride_a), dtype=np.float32)
    return out_maps, stride_a
