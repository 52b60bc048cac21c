"""Per-cell probabilities from CAM logit maps: steps 4-5 of whole-image inference (:mod:`mammoview.cad.inference`).

Patch-equivalent windows over the CAM, softmax and sigmoid, and the breast mask sampled on the cell grid.  Apart from
the tiled network pass because far more modules read :class:`ProbabilityMaps` (findings, verification, the second
stage, training) than run the network over an image.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import torch
import torch.nn.functional as F

FloatArray = npt.NDArray[np.float32]
BoolArray = npt.NDArray[np.bool_]


def patch_window(patch_size: int, stride: int) -> int:
    """Cells per side of a patch-sized window (at least 1)."""
    return max(1, round(patch_size / stride))


def patch_equivalent(cam: FloatArray, window: int) -> tuple[FloatArray, float]:
    """Average CAM over ``window`` x ``window`` cells at stride 1 (``count_include_pad=False``).

    Returns the maps and the offset, in cells, of output cell 0 relative to CAM cell 0:
    0 for an odd window (output cell i is centred on CAM cell i), -0.5 for an even one
    (centred on the corner between cells; the output then has one more row and column).
    """
    if window <= 1:
        return cam.copy(), 0.0
    t = torch.from_numpy(np.ascontiguousarray(cam))[None]
    pooled = F.avg_pool2d(t, window, stride=1, padding=window // 2, count_include_pad=False)[0]
    return pooled.numpy().astype(np.float32, copy=False), (-0.5 if window % 2 == 0 else 0.0)


@dataclass(frozen=True, eq=False)
class ProbabilityMaps:
    """Per-cell probabilities of the patch-equivalent classifier, 0 outside the breast.

    Cell ``(i, j)`` is centred at model pixel
    ``((j + 0.5 + offset) * stride + origin_x, (i + 0.5 + offset) * stride)``.
    """

    normal: FloatArray
    mass: FloatArray
    calcification: FloatArray
    malignant_given_lesion: FloatArray
    abnormal: FloatArray
    malignant: FloatArray
    mask: BoolArray
    stride: int
    offset: float
    #: Per-cell abnormal log-odds of the CAM itself (no patch window; cell ``(i, j)`` centred at
    #: ``((j + 0.5) * stride + origin_x, (i + 0.5) * stride)``), -inf outside the breast; ``window`` is
    #: the patch window in cells.  Where inside a patch-sized window the evidence sits.
    cell_logit: FloatArray | None = None
    window: int = 1
    #: model-pixel column of the cell grid's left edge (:func:`~mammoview.cad.inference.grid_origin_x`: 0, or <= 0
    #: with the chest wall on the right)
    origin_x: float = 0.0

    def cell_center(self, row: float, col: float) -> tuple[float, float]:
        """(x, y) model pixel coordinates of the centre of cell (row, col)."""
        return ((col + 0.5 + self.offset) * self.stride + self.origin_x, (row + 0.5 + self.offset) * self.stride)

    def named(self) -> dict[str, FloatArray]:
        """The maps shown as heatmaps, by their contract names."""
        return {
            "abnormal": self.abnormal,
            "mass": self.mass,
            "calcification": self.calcification,
            "malignant": self.malignant,
        }


def mask_on_cells(
    mask: BoolArray, grid: tuple[int, int], stride: int, offset: float, origin_x: float = 0.0
) -> BoolArray:
    """Breast mask sampled at each cell's centre pixel; False for a centre not strictly inside the image.

    With an even patch window (``offset = -0.5``) the first row and column are centred exactly
    on the top and left image border: half of their window lies outside the image and
    ``count_include_pad=False`` averages only the chest-wall half.  They are not breast cells
    (at the right and bottom border the matching cells already fall outside).  ``origin_x``: the
    grid's left edge (:func:`~mammoview.cad.inference.grid_origin_x`).
    """
    h, w = grid
    cy = (np.arange(h) + 0.5 + offset) * stride
    cx = (np.arange(w) + 0.5 + offset) * stride + origin_x
    vy = (cy > 0) & (cy < mask.shape[0])
    vx = (cx > 0) & (cx < mask.shape[1])
    # A centre on a pixel boundary (every centre, with an even stride) is inside when the pixels on both sides
    # are, as a centre on the image's border is outside: the pixel on one side only would make a skin-line
    # cell a breast cell in one stored orientation and not in its mirror image.
    y0, y1 = np.ceil(cy[vy]).astype(int) - 1, np.floor(cy[vy]).astype(int)
    x0, x1 = np.ceil(cx[vx]).astype(int) - 1, np.floor(cx[vx]).astype(int)
    out = np.zeros((h, w), dtype=bool)
    out[np.ix_(vy, vx)] = mask[np.ix_(y0, x0)] & mask[np.ix_(y0, x1)] & mask[np.ix_(y1, x0)] & mask[np.ix_(y1, x1)]
    return out


def probability_maps(
    maps: FloatArray, mask: BoolArray, stride: int, offset: float, origin_x: float = 0.0
) -> ProbabilityMaps:
    """Turn patch-equivalent logit maps (4, h, w) into probabilities (docs/cad-design.md)."""
    tissue = maps[:3] - maps[:3].max(axis=0, keepdims=True)  # stable softmax
    e = np.exp(tissue)
    p = e / e.sum(axis=0, keepdims=True)
    mal = (1.0 / (1.0 + np.exp(-maps[3]))).astype(np.float32)
    inside = mask_on_cells(mask, maps.shape[1:], stride, offset, origin_x)
    z = np.float32(0.0)

    def keep(a: npt.NDArray[np.floating]) -> FloatArray:
        return np.where(inside, a, z).astype(np.float32)

    abnormal = 1.0 - p[0]
    return ProbabilityMaps(
        normal=keep(p[0]),
        mass=keep(p[1]),
        calcification=keep(p[2]),
        malignant_given_lesion=keep(mal),
        abnormal=keep(abnormal),
        malignant=keep(abnormal * mal),
        mask=inside,
        stride=stride,
        offset=offset,
        origin_x=origin_x,
    )


def map_windows(patch_size: int, stride: int, windows_px: Sequence[int] | None = None) -> tuple[int, ...]:
    """Windows in cells for :func:`whole_image_maps` (default: the patch size alone).

    Raises
    ------
    ValueError
        If the windows mix even and odd cell counts: their maps would sit on grids half a
        cell apart and could not be averaged cell by cell.
    """
    cells = tuple(patch_window(int(w), stride) for w in (windows_px or (patch_size,)))
    if len({c % 2 for c in cells}) > 1:
        raise ValueError(f"map windows {tuple(windows_px or ())} px are {cells} cells: all even or all odd")
    return cells
