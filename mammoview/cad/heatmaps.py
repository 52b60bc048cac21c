"""An image result's heatmaps: its probability maps placed on the stored grid, or Grad-CAM scaled to them.

Display only (the viewer, ``detect --heatmaps``): findings and scores never read them, so they are made apart from
the pipeline's steps, in one place for both methods.
"""

from __future__ import annotations

from collections.abc import Generator

import numpy as np
import torch

from mammoview.cad.device import Precision
from mammoview.cad.gradcam import grad_cam_tiled
from mammoview.cad.inference import CancelFlag, cells_needed, grid_origin_x, pad_to_stride
from mammoview.cad.networks.layers import CadNet
from mammoview.cad.preprocess import PreparedImage
from mammoview.cad.probability_maps import FloatArray, ProbabilityMaps, mask_on_cells
from mammoview.cad.types import Heatmap, Progress, heat_levels


def to_heatmap(
    name: str, cells: FloatArray, stride: float, offset: float, prepared: PreparedImage, origin_x: float
) -> Heatmap:
    return Heatmap(
        name=name,
        data=heat_levels(cells),
        x0=(offset * stride + origin_x) * prepared.scale_x,
        y0=offset * stride * prepared.scale_y,
        scale_x=stride * prepared.scale_x,
        scale_y=stride * prepared.scale_y,
    )


def gradcam_heatmaps(
    net: CadNet,
    prepared: PreparedImage,
    maps: ProbabilityMaps,
    device: torch.device,
    tile: int | None,
    window: int,
    cancel: CancelFlag,
    precision: Precision,
) -> Generator[Progress, None, dict[str, Heatmap]]:
    s = net.feature_stride
    origin = grid_origin_x(prepared.mask, s)
    data = pad_to_stride(prepared.data, s, origin)
    needed = cells_needed(prepared.mask, s, (data.shape[1] // s, data.shape[2] // s), window // 2, origin)
    gmaps, gs = yield from grad_cam_tiled(
        net, data, device=device, tile=tile, needed=needed, cancel=cancel, precision=precision
    )
    inside = mask_on_cells(prepared.mask, gmaps.shape[1:], gs, 0.0, origin)
    out = {}
    for (name, prob), g in zip(maps.named().items(), gmaps, strict=True):
        g = np.where(inside, g, 0.0)
        peak = float(g.max())
        # Saliency is relative; scale its peak to the class's image-level probability so a
        # normal image does not light up.
        top = float(prob.max())
        scaled = (g / peak * top if peak > 0 else g).astype(np.float32)
        out[name] = to_heatmap(name, scaled, gs, 0.0, prepared, origin)
    return out
