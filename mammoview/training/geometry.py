"""Where patches go: lesion centres with jitter, normal-tissue centres away from lesions.

Pure functions on the model grid (``PreparedImage`` pixels, continuous coordinates:
model pixel ``(row i, col j)`` covers ``[i, i + 1) x [j, j + 1)``), so the extraction
geometry can be tested without any image file.  Boxes are ``(x0, y0, x1, y1)``.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy import ndimage as ndi

Box = tuple[float, float, float, float]
FloatArray = npt.NDArray[np.float64]


def stored_box_to_model(box: Box, scale_x: float, scale_y: float) -> Box:
    """A box in stored pixels as a box on the model grid (``scale_*`` = stored px per model px)."""
    x0, y0, x1, y1 = box
    return (x0 / scale_x, y0 / scale_y, x1 / scale_x, y1 / scale_y)


def jitter_limits(box: Box, patch: int, jitter_frac: float) -> tuple[float, float]:
    """Largest allowed centre offset (x, y) for a lesion patch.

    At most ``jitter_frac * patch``; a lesion smaller than the patch must stay inside it,
    so the offset is also at most ``(patch - size) / 2`` along that axis.  A lesion larger
    than the patch may be offset by the full ``jitter_frac * patch`` (the patch stays
    mostly on the lesion).
    """
    cap = jitter_frac * patch
    out = []
    for size in (box[2] - box[0], box[3] - box[1]):
        out.append(cap if size >= patch else min(cap, max(0.0, (patch - size) / 2.0)))
    return out[0], out[1]


def lesion_centres(box: Box, patch: int, n: int, jitter_frac: float, rng: np.random.Generator) -> FloatArray:
    """``n`` patch centres ``(x, y)`` for one lesion: its centre first, then uniform jitter.

    Returns
    -------
    ndarray, shape (n, 2)
        Centres on the model grid.
    """
    cx, cy = (box[0] + box[2]) / 2.0, (box[1] + box[3]) / 2.0
    jx, jy = jitter_limits(box, patch, jitter_frac)
    out = np.empty((max(n, 0), 2), dtype=np.float64)
    for k in range(out.shape[0]):
        dx, dy = (0.0, 0.0) if k == 0 else (rng.uniform(-jx, jx), rng.uniform(-jy, jy))
        out[k] = (cx + dx, cy + dy)
    return out


def patch_origin(x: float, y: float, patch: int) -> tuple[int, int]:
    """Integer top-left ``(col, row)`` of the ``patch`` x ``patch`` window centred nearest ``(x, y)``."""
    return round(x - patch / 2.0), round(y - patch / 2.0)


def clamp_centre(x: float, y: float, patch: int, shape: tuple[int, int]) -> tuple[float, float]:
    """Move a patch centre so the whole window lies inside an image of ``shape`` (rows, cols).

    Lesion patches are shifted inwards rather than filled beyond the image: normal
    patches never cross the border, so a filled strip would otherwise mark a patch as a
    lesion (a shortcut that shows up as findings along the film edge).
    """
    rows, cols = shape
    half = patch / 2.0
    x = min(max(x, half), cols - half) if cols >= patch else cols / 2.0
    y = min(max(y, half), rows - half) if rows >= patch else rows / 2.0
    return x, y


def clear_of_boxes(x: float, y: float, boxes: list[Box], patch: int, margin: float) -> bool:
    """True when the patch centred at ``(x, y)``, grown by ``margin``, touches none of ``boxes``."""
    h = patch / 2.0 + margin
    return all(not (x + h > x0 and x - h < x1 and y + h > y0 and y - h < y1) for x0, y0, x1, y1 in boxes)


def mask_coverage(mask: npt.NDArray[np.bool_], patch: int) -> FloatArray:
    """Fraction of breast pixels in the ``patch`` window centred on every pixel (zero outside)."""
    return np.asarray(ndi.uniform_filter(mask.astype(np.float64), size=patch, mode="constant"), dtype=np.float64)


def normal_centres(
    mask: npt.NDArray[np.bool_],
    boxes: list[Box],
    patch: int,
    n: int,
    rng: np.random.Generator,
    *,
    margin: float,
    min_coverage: float = 0.7,
    min_separation: float | None = None,
    stride: int = 4,
) -> FloatArray:
    """Up to ``n`` normal-tissue centres ``(x, y)``: mostly breast, clear of every lesion.

    Candidates are pixel centres on a ``stride`` grid whose window holds at least
    ``min_coverage`` breast and lies ``margin`` clear of every lesion box
    (:func:`clear_of_boxes`); they are drawn at random, keeping ``min_separation``
    (default half a patch) between chosen centres so one image does not give many
    near-copies.  Fewer than ``n`` come back when the breast is too small.
    """
    if n <= 0 or not mask.any():
        return np.empty((0, 2), dtype=np.float64)
    cov = mask_coverage(mask, patch)
    rows, cols = mask.shape
    half = patch // 2
    ys, xs = np.mgrid[half : max(half + 1, rows - half + 1) : stride, half : max(half + 1, cols - half + 1) : stride]
    ys, xs = ys.ravel(), xs.ravel()
    keep = (ys < rows) & (xs < cols)
    ys, xs = ys[keep], xs[keep]
    keep = (cov[ys, xs] >= min_coverage) & mask[ys, xs]
    ys, xs = ys[keep], xs[keep]
    # the window centred on pixel (y, x) spans [y - half, y - half + patch): its centre is y - half + patch / 2
    cx = xs - half + patch / 2.0
    cy = ys - half + patch / 2.0
    ok = np.array([clear_of_boxes(float(a), float(b), boxes, patch, margin) for a, b in zip(cx, cy, strict=True)])
    if ok.size == 0:
        return np.empty((0, 2), dtype=np.float64)
    cx, cy = cx[ok], cy[ok]
    sep2 = (patch / 2.0 if min_separation is None else min_separation) ** 2
    chosen: list[tuple[float, float]] = []
    for k in rng.permutation(cx.size):
        p = (float(cx[k]), float(cy[k]))
        if all((p[0] - q[0]) ** 2 + (p[1] - q[1]) ** 2 >= sep2 for q in chosen):
            chosen.append(p)
            if len(chosen) == n:
                break
    return np.asarray(chosen, dtype=np.float64).reshape(-1, 2)


def crop(
    data: npt.NDArray[np.float32], x: float, y: float, patch: int, fill: float | npt.ArrayLike = 0.0
) -> npt.NDArray[np.float32]:
    """The ``(C, patch, patch)`` window of ``data`` centred at ``(x, y)``; ``fill`` (per channel) beyond the image."""
    c, rows, cols = data.shape
    x0, y0 = patch_origin(x, y, patch)
    out = np.empty((c, patch, patch), dtype=np.float32)
    out[:] = np.broadcast_to(np.asarray(fill, dtype=np.float32).reshape(-1, 1, 1), (c, 1, 1))
    sx0, sy0 = max(0, x0), max(0, y0)
    sx1, sy1 = min(cols, x0 + patch), min(rows, y0 + patch)
    if sx1 > sx0 and sy1 > sy0:
        out[:, sy0 - y0 : sy1 - y0, sx0 - x0 : sx1 - x0] = data[:, sy0:sy1, sx0:sx1]
    return out
