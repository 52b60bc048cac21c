"""Resampling a presentation image from its own pixel spacing to a model's isotropic pixel size.

Integer block means first (area-averaging, anchored at the chest wall so a mirrored copy gives the mirrored
picture), then linear interpolation at the exact positions of the output pixels on the stored grid; the first step
of :func:`mammoview.cad.preprocess.prepare`.
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
import numpy.typing as npt
from scipy import ndimage as ndi
from skimage.transform import resize

FloatArray = npt.NDArray[np.float32]


def block_mean(image: FloatArray, ky: int, kx: int, from_right: bool = False) -> FloatArray:
    """Mean of each ``ky`` x ``kx`` block (float32; the last rows/columns that fill no block are dropped).

    ``from_right``: the blocks start at the right edge, so the columns dropped are the first ones (the side away
    from a chest wall on the right).

    Strided slices added in place: several times faster on a full-field view than a mean over a reshaped
    array's two block axes, which strides through memory (`benchmarks/bench_cad.py` times the preprocessing).
    """
    r, c = (image.shape[0] // ky) * ky, (image.shape[1] // kx) * kx
    c0 = image.shape[1] - c if from_right else 0
    rows = image[:r, c0 : c0 + c : kx].astype(np.float32, copy=True)
    for j in range(1, kx):
        rows += image[:r, c0 + j : c0 + c : kx]
    out = rows[0::ky].copy()
    for i in range(1, ky):
        out += rows[i::ky]
    out *= np.float32(1.0 / (ky * kx))
    return out


def resample(
    image: FloatArray, spacing: tuple[float, float], pixel_size_mm: float, chest_wall_right: bool = False
) -> FloatArray:
    """Resample ``image`` from ``spacing`` (row_mm, col_mm) to isotropic ``pixel_size_mm``.

    Shrinking uses an integer block mean first (fast, anti-aliased) and then a bilinear
    resize for the remaining non-integer factor (< 2, with a matching Gaussian prefilter).
    The block mean drops the few columns that fill no block on the side away from the
    chest wall (``chest_wall_right``), so a mirrored copy gives the mirrored picture, and the
    last rows; the resize then samples the block means at the centres of the output pixels on
    the whole stored grid, so that output pixel (i, j) covers stored rows ``[i * rows / out_rows,
    (i + 1) * rows / out_rows)`` and likewise columns (the mapping
    :class:`~mammoview.cad.preprocess.PreparedImage` states;
    resized from the blocks alone, a spot far from where the blocks start came out up to k - 1
    stored pixels off it).
    """
    rows, cols = image.shape
    out_rows = max(1, round(rows * spacing[0] / pixel_size_mm))
    out_cols = max(1, round(cols * spacing[1] / pixel_size_mm))
    img = np.asarray(image, dtype=np.float32)
    ky = max(1, math.floor(rows / out_rows))
    kx = max(1, math.floor(cols / out_cols))
    leftover = (rows % ky, cols % kx)
    if ky > 1 or kx > 1:
        img = block_mean(img, ky, kx, from_right=chest_wall_right)
    if img.shape != (out_rows, out_cols) or any(leftover):
        fy, fx = img.shape[0] / out_rows, img.shape[1] / out_cols
        sigma = (max(0.0, (fy - 1) / 2), max(0.0, (fx - 1) / 2))
        if sigma[0] > 0 or sigma[1] > 0:
            img = ndi.gaussian_filter(img, sigma)
        if any(leftover):
            first_col = leftover[1] if chest_wall_right else 0  # the stored column where the blocks start
            img = _linear_at(img, _block_positions(rows, out_rows, ky, 0), axis=0)
            img = _linear_at(img, _block_positions(cols, out_cols, kx, first_col), axis=1)
        else:
            img = resize(img, (out_rows, out_cols), order=1, anti_aliasing=False, preserve_range=True)  # type: ignore[no-untyped-call]
    return img.astype(np.float32, copy=False)


def _block_positions(n: int, out: int, k: int, first: int) -> npt.NDArray[np.float64]:
    """Where the centres of ``out`` output pixels over ``n`` stored ones fall among the means of blocks of ``k``
    starting at stored pixel ``first`` (block b's centre is 0-based position b), clipped to the blocks there are."""
    centres = (np.arange(out, dtype=np.float64) + 0.5) * (n / out)
    return np.clip((centres - first) / k - 0.5, 0.0, (n - first) // k - 1)


def _linear_at(img: FloatArray, pos: npt.NDArray[np.float64], axis: int) -> FloatArray:
    """``img`` linearly interpolated at the fractional indices ``pos`` along ``axis``."""
    i0 = np.floor(pos).astype(np.intp)
    i1 = np.minimum(i0 + 1, img.shape[axis] - 1)
    w = (pos - i0).astype(np.float32)
    w = w[:, None] if axis == 0 else w[None, :]
    a, b = np.take(img, i0, axis=axis), np.take(img, i1, axis=axis)
    out: FloatArray = a + (b - a) * w
    return out


def brighter_half(image: FloatArray) -> Literal["left", "right"]:
    """The half of the columns with more signal: the chest wall's side before a breast mask exists (a mirrored
    copy gets the other answer, ties go left)."""
    half = image.shape[1] // 2
    sums = image.sum(axis=0, dtype=np.float64)
    return "right" if float(sums[image.shape[1] - half :].sum()) > float(sums[:half].sum()) else "left"
