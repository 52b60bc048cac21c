"""Whole-image inference: the classifier run fully convolutionally in tiles, CAM and patch-equivalent maps.

Steps (docs/cad-design.md, "Whole-image inference"):

1. pad the prepared image to a multiple of the feature stride (with 0) on the side away from the
   chest wall, so the cell grid is anchored at the chest wall whichever side it is stored on and a
   mammogram stored mirrored reads as its mirror image (:func:`grid_origin_x`);
2. cut it into core tiles of ``tile`` px; each tile is run with a margin of at least half
   the receptive field, aligned to the feature stride, and only its core cells are kept,
   so the stitched feature map equals one pass over the whole image (tested).  Tiles
   whose core is far from the breast are skipped;
3. CAM logit maps = the linear head applied to every feature cell;
4. patch-equivalent maps = CAM averaged over ``patch_size / stride`` cells (stride 1): by
   linearity, the logits of a patch-sized window centred on each cell; with several
   windows (the model entry's ``map_windows_px``, e.g. 96 and 64 px) the mean of their
   logits, so lesions smaller than the training patch are not diluted by the tissue around;
5. probabilities: softmax over the tissue classes, sigmoid of the malignancy logit,
   zero outside the breast mask.

With ``flip=True`` (test-time augmentation, the model entry's ``test_time_flip``) step 2-3
also runs on the left-right mirrored image and the two CAM logit maps are averaged (the
padded width is a multiple of the stride, so mirrored cells line up); twice the time.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import numpy as np
import torch
from scipy import ndimage as ndi

from mammoview.cad.device import Precision, autocast
from mammoview.cad.landmarks import chest_wall_side
from mammoview.cad.networks.layers import CadNet
from mammoview.cad.preprocess import PreparedImage
from mammoview.cad.probability_maps import (
    BoolArray,
    FloatArray,
    ProbabilityMaps,
    map_windows,
    mask_on_cells,
    patch_equivalent,
    patch_window,
    probability_maps,
)
from mammoview.cad.resample import resample
from mammoview.cad.types import Progress, ProgressGenerator

#: A cancel flag checked between tiles: a ``threading.Event`` or a callable returning True to stop.
CancelFlag = threading.Event | Callable[[], bool] | None

DEFAULT_TILE = 512


class Cancelled(Exception):
    """Raised between tiles/views when the cancel flag is set."""


def check_cancel(cancel: CancelFlag) -> None:
    """Raise :class:`Cancelled` if ``cancel`` is set."""
    if cancel is None:
        return
    flag = cancel.is_set() if isinstance(cancel, threading.Event) else cancel()
    if flag:
        raise Cancelled("CAD cancelled")


def tile_margin(model: CadNet) -> int:
    """Context (px) each tile needs on every side: half the receptive field, rounded up to the stride.

    A core cell ``i`` sees ``(i + 0.5) * s +- rf / 2``; with this margin that span lies
    inside the tile's input, so no zero padding of the tile edge reaches a kept cell.
    """
    s = model.feature_stride
    return math.ceil(max(0.0, model.receptive_field / 2 - s / 2) / s) * s


def pad_to_stride(data: FloatArray, stride: int, origin_x: int = 0) -> FloatArray:
    """Pad (C, H, W) to a multiple of ``stride`` with 0: at the bottom, and ``-origin_x`` columns at the left.

    The rest of the width's padding goes to the right.  0 is what lies beyond the top/left border (the
    convolutions' own padding) and beyond every border of the training patches' context, so a chest wall at
    the right or bottom border reads as one at the left or top (the image's minimum, background, made a strip
    between them: right breasts' chest wall read lower).
    """
    _, h, w = data.shape
    left = -origin_x
    ph, pw = (-h) % stride, (-(w + left)) % stride
    if ph == 0 and pw == 0 and left == 0:
        return data
    return np.pad(data, ((0, 0), (0, ph), (left, pw)), constant_values=0.0)


def grid_origin_x(mask: BoolArray, stride: int) -> int:
    """Model-pixel column of the cell grid's left edge: 0, or minus the padding put left of the image.

    The grid is anchored at the chest wall: with the chest wall on the right
    (:func:`~mammoview.cad.landmarks.chest_wall_side`) the width is padded to the stride at the
    left, so the right border lies on a cell boundary as a left chest wall does.  A mammogram and
    its mirror image are then cut into mirrored cells (the network reads a chest wall on a cell
    boundary and one in mid-cell differently: a mirrored copy read differently before).
    """
    if chest_wall_side(mask) == "left":
        return 0
    return -(-int(mask.shape[1]) % stride)


@dataclass(frozen=True)
class Tile:
    """One tile: core rows/cols ``[y0, y1) x [x0, x1)`` and the input window it is run on."""

    y0: int
    y1: int
    x0: int
    x1: int
    wy0: int
    wy1: int
    wx0: int
    wx1: int


def plan_tiles(
    shape: tuple[int, int], stride: int, tile: int, margin: int, needed: BoolArray | None = None
) -> list[Tile]:
    """Core tiles covering ``shape`` (a multiple of ``stride``) with their margin windows.

    With ``needed`` (a feature-cell mask), only its bounding box is tiled and tiles
    without a needed cell are dropped: the breast is often a third of the image.
    """
    h, w = shape
    t = max(stride, (tile // stride) * stride)
    r0, c0, r1, c1 = 0, 0, h, w
    if needed is not None:
        if not needed.any():
            return []
        rows, cols = np.flatnonzero(needed.any(axis=1)), np.flatnonzero(needed.any(axis=0))
        r0, r1 = int(rows[0]) * stride, (int(rows[-1]) + 1) * stride
        c0, c1 = int(cols[0]) * stride, (int(cols[-1]) + 1) * stride
    out = []
    for y0 in range(r0, r1, t):
        for x0 in range(c0, c1, t):
            y1, x1 = min(r1, y0 + t), min(c1, x0 + t)
            if needed is not None and not needed[y0 // stride : y1 // stride, x0 // stride : x1 // stride].any():
                continue
            out.append(
                Tile(y0, y1, x0, x1, max(0, y0 - margin), min(h, y1 + margin), max(0, x0 - margin), min(w, x1 + margin))
            )
    return out


def default_tile(model: CadNet) -> int:
    """Core tile size (px): 512, or 8 margins for networks with a large receptive field.

    Big enough that the margins cost little, small enough that one tile takes well under
    the GUI's 200 ms cancel budget on a laptop CPU.
    """
    s = model.feature_stride
    return max(DEFAULT_TILE, -(-8 * tile_margin(model) // s) * s)


def _channels_last(model: CadNet) -> bool:
    first = next((p for p in model.parameters() if p.dim() == 4), None)
    return bool(
        first is not None and first.is_contiguous(memory_format=torch.channels_last) and not first.is_contiguous()
    )


def cells_needed(mask: BoolArray, stride: int, grid: tuple[int, int], reach: int, origin_x: int = 0) -> BoolArray:
    """Feature cells within ``reach`` cells of any breast pixel (the only ones a result depends on).

    ``origin_x``: the grid's left edge in image pixels (:func:`grid_origin_x`).
    """
    h, w = grid
    m = np.zeros((h * stride, w * stride), dtype=bool)
    m[: mask.shape[0], -origin_x : -origin_x + mask.shape[1]] = mask
    cells = m.reshape(h, stride, w, stride).any(axis=(1, 3))
    if reach > 0:
        cells = ndi.binary_dilation(cells, structure=np.ones((2 * reach + 1, 2 * reach + 1), bool))
    return np.asarray(cells, dtype=bool)


def cam_tiled(
    model: CadNet,
    data: FloatArray,
    *,
    device: torch.device | None = None,
    tile: int | None = None,
    needed: BoolArray | None = None,
    cancel: CancelFlag = None,
    precision: Precision = "auto",
) -> ProgressGenerator[FloatArray]:
    """CAM logit maps (K, h, w) of ``data`` (C, H, W; H, W multiples of the stride), tile by tile.

    Yields a :class:`Progress` after each tile; cells of skipped tiles (no ``needed``
    cell in their core) are 0.  Raises :class:`Cancelled` between tiles.
    """
    s = model.feature_stride
    _, h, w = data.shape
    if h % s or w % s:
        raise ValueError(f"input {h}x{w} is not a multiple of the feature stride {s}; use pad_to_stride")
    dev = device or next(model.parameters()).device
    fmt = torch.channels_last if _channels_last(model) else torch.contiguous_format
    out = np.zeros((model.num_outputs, h // s, w // s), dtype=np.float32)
    tiles = plan_tiles((h, w), s, tile or default_tile(model), tile_margin(model), needed)
    yield Progress(0, len(tiles), "features")
    for i, t in enumerate(tiles):
        check_cancel(cancel)
        window = np.ascontiguousarray(data[:, t.wy0 : t.wy1, t.wx0 : t.wx1])
        with torch.inference_mode(), autocast(dev, precision):
            x = torch.from_numpy(window)[None].to(dev).contiguous(memory_format=fmt)
            cam = model.cam(model.forward_features(x))[0].float()
        oy, ox = (t.y0 - t.wy0) // s, (t.x0 - t.wx0) // s
        core = cam[:, oy : oy + (t.y1 - t.y0) // s, ox : ox + (t.x1 - t.x0) // s]
        out[:, t.y0 // s : t.y1 // s, t.x0 // s : t.x1 // s] = core.cpu().numpy()
        yield Progress(i + 1, len(tiles), f"tile {i + 1}/{len(tiles)}")
    return out


def _shifted(gen: ProgressGenerator[FloatArray], start: int, passes: int) -> ProgressGenerator[FloatArray]:
    """Pass ``start`` of ``passes``: a :func:`cam_tiled` generator's progress on one shared scale."""
    try:
        p = next(gen)
        while True:
            yield Progress(start * p.total + p.done, passes * p.total, p.message)
            p = gen.send(None)
    except StopIteration as stop:
        result: FloatArray = stop.value
        return result


def _zoomed(
    data: FloatArray, mask: BoolArray, zoom: float, stride: int, right: bool
) -> tuple[FloatArray, BoolArray, int]:
    """``data`` (C, H, W) and ``mask`` resampled by ``zoom`` (> 1 enlarges); the data padded to the stride.

    ``right``: the chest wall is on the right (the padding goes left).  Returns the grid's origin too.
    """
    chans = [resample(c, (1.0, 1.0), 1.0 / zoom) for c in data]
    z = np.stack(chans).astype(np.float32)
    m = resample(mask.astype(np.float32), (1.0, 1.0), 1.0 / zoom)[: z.shape[1], : z.shape[2]] >= 0.5
    origin = -((-z.shape[2]) % stride) if right else 0
    return pad_to_stride(z, stride, origin), m, origin


def _onto_grid(
    cam: FloatArray, zoom: float, grid: tuple[int, int], stride: int = 1, origin: int = 0, zoomed_origin: int = 0
) -> FloatArray:
    """A CAM computed on the image zoomed by ``zoom``, read (bilinear) at the centres of the base grid's cells.

    ``origin`` and ``zoomed_origin``: the two grids' left edges in their own pixels (:func:`grid_origin_x`).
    """
    rows = (np.arange(grid[0]) + 0.5) * zoom - 0.5
    cols = (((np.arange(grid[1]) + 0.5) * stride + origin) * zoom - zoomed_origin) / stride - 0.5
    rr, cc = np.meshgrid(rows, cols, indexing="ij")
    return np.stack([ndi.map_coordinates(c, [rr, cc], order=1, mode="nearest") for c in cam]).astype(np.float32)


def whole_image_maps(
    model: CadNet,
    prepared: PreparedImage,
    patch_size: int,
    *,
    device: torch.device | None = None,
    tile: int | None = None,
    cancel: CancelFlag = None,
    precision: Precision = "auto",
    flip: bool = False,
    windows_px: Sequence[int] | None = None,
    scales: Sequence[float] | None = None,
) -> ProgressGenerator[ProbabilityMaps]:
    """Probability maps of one prepared image (steps 1-5 of the module docstring).

    ``scales``: zoom factors of the image (1 = the model's pixel size, 1.25 = a quarter larger)
    whose CAM logits, read on the base grid, are averaged (default: 1 alone).
    """
    s = model.feature_stride
    origin = grid_origin_x(prepared.mask, s)
    # (not ``origin != 0``: a width that is a multiple of the stride has origin 0 on either side, its zoomed copy not)
    right = chest_wall_side(prepared.mask) == "right"
    data = pad_to_stride(prepared.data, s, origin)
    grid = (data.shape[1] // s, data.shape[2] // s)
    window = patch_window(patch_size, s)
    windows = map_windows(patch_size, s, windows_px)
    zooms = tuple(float(z) for z in (scales or (1.0,)))
    if any(not 0.25 <= z <= 4.0 for z in zooms):
        raise ValueError(f"map scales {zooms} out of range [0.25, 4]")
    passes = (2 if flip else 1) * len(zooms)
    cams = []
    for k, zoom in enumerate(zooms):
        if zoom == 1.0:
            x, m, zorigin = data, prepared.mask, origin
        else:
            x, m, zorigin = _zoomed(prepared.data, prepared.mask, zoom, s, right)
        g = (x.shape[1] // s, x.shape[2] // s)
        # A breast cell's patch window reaches window // 2 cells; nothing further is needed.
        reach = math.ceil(max(windows) // 2 * zoom) + (0 if zoom == 1.0 else 1)
        needed = cells_needed(m, s, g, reach, zorigin)
        first = (2 if flip else 1) * k
        cam = yield from _shifted(
            cam_tiled(model, x, device=device, tile=tile, needed=needed, cancel=cancel, precision=precision),
            first,
            passes,
        )
        if flip:
            mirrored = yield from _shifted(
                cam_tiled(
                    model,
                    np.ascontiguousarray(x[:, :, ::-1]),
                    device=device,
                    tile=tile,
                    needed=np.ascontiguousarray(needed[:, ::-1]),
                    cancel=cancel,
                    precision=precision,
                ),
                first + 1,
                passes,
            )
            cam = (0.5 * (cam + mirrored[:, :, ::-1])).astype(np.float32)
        cams.append(cam if zoom == 1.0 else _onto_grid(cam, zoom, grid, s, origin, zorigin))
    cam = cams[0] if len(cams) == 1 else np.mean(cams, axis=0).astype(np.float32)
    pooled = [patch_equivalent(cam, w) for w in windows]
    offset = pooled[0][1]
    maps = pooled[0][0] if len(pooled) == 1 else np.mean([m for m, _ in pooled], axis=0).astype(np.float32)
    out = probability_maps(maps, prepared.mask, s, offset, origin)
    on_cells = mask_on_cells(prepared.mask, cam.shape[1:], s, 0.0, origin)
    logit = np.logaddexp(cam[1], cam[2]) - cam[0]
    return replace(out, cell_logit=np.where(on_cells, logit, -np.inf).astype(np.float32), window=window)
