"""Anatomical landmarks on the prepared (model-grid) image: chest wall side, pectoral muscle, nipple.

The CAD places the CC/MLO band by each finding's distance from the nipple
(:func:`nipple_point`), and preprocessing can cut the pectoral muscle out of an MLO
view's breast mask (:func:`pectoral_mask`, the ``remove_pectoral`` switch).  All work on
the breast mask of :func:`mammoview.cad.breast_mask.breast_mask` at the model's pixel size.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import numpy as np
import numpy.typing as npt
from scipy import ndimage as ndi

if TYPE_CHECKING:
    from mammoview.cad.preprocess import PreparedImage

FloatArray = npt.NDArray[np.float32]
BoolArray = npt.NDArray[np.bool_]


def chest_wall_side(mask: BoolArray) -> Literal["left", "right"]:
    """Side of the stored image the chest wall is on.

    The breast is widest at the chest wall and tapers to the nipple, so the mask's
    contact with the left and right edges of its own bounding box decides; this also
    works when the breast does not touch the image border (mini-MIAS films are centred
    on a black canvas).
    """
    cols = np.flatnonzero(mask.any(axis=0))
    if cols.size == 0:
        return "left"
    c0, c1 = int(cols[0]), int(cols[-1]) + 1
    w = max(1, (c1 - c0) // 20)
    return "left" if mask[:, c0 : c0 + w].sum() >= mask[:, c1 - w : c1].sum() else "right"


#: The pectoral muscle edge's median slope (columns per row, chest wall on the left) where
#: :func:`pectoral_line` finds it on CBIS-DDSM Mass-Training MLO views (507 images, quartiles
#: -0.44 / -0.24): the direction :func:`nipple_point` measures from when an MLO's edge is not found.
TYPICAL_PECTORAL_SLOPE = -0.33


def nipple_point(prepared: PreparedImage, mlo: bool = False, smooth_mm: float = 20.0) -> tuple[float, float] | None:
    """(x, y) stored pixels of the nipple: the breast point farthest from the chest wall.

    On an MLO view whose pectoral muscle edge is found (:func:`pectoral_line`), the
    breast pixel farthest from that line, perpendicular to it, as radiologists measure
    on MLO views (strips thinner than ~10 mm left out); on an MLO view whose edge is not
    found, the same with the edge's typical direction (:data:`TYPICAL_PECTORAL_SLOPE`).
    On CC views, where the breast reaches farthest from the chest-wall edge: each row's
    extent is its outermost mask pixel counted from that edge, the profile is
    median-filtered over ``smooth_mm`` of rows (so a thin band that is not breast, a
    bright film edge along the top or bottom merged into the mask, cannot win), and the
    nipple is the middle of the rows at the profile's maximum, at that extent.  None
    without a breast.

    The image must be upright (head up on an MLO view): :func:`mammoview.cad.pipeline.analyse_image` turns a view
    stored head down before it comes here (:mod:`mammoview.cad.upright`).
    """
    mask = prepared.mask
    if not mask.any():
        return None
    side = chest_wall_side(mask)
    left = side == "left"
    line = pectoral_line(prepared.data[0], mask, side, prepared.pixel_size_mm) if mlo else None
    if mlo and line is None:  # only the edge's direction matters for the farthest point: the typical one
        line = (TYPICAL_PECTORAL_SLOPE if left else -TYPICAL_PECTORAL_SLOPE, 0.0)
    if line is not None:
        a, b = line
        # An opening by a ~5 mm disc (two distance transforms): a thin strip merged into the mask
        # (a bright film edge along the bottom) lies far from the muscle edge but is no breast.
        r = max(1.0, 5.0 / prepared.pixel_size_mm)
        core = ndi.distance_transform_edt(mask) > r
        body = (ndi.distance_transform_edt(~core) <= r) & mask if core.any() else mask
        ys, xs = np.nonzero(body)
        beyond = (xs - (a * ys + b)) * (1.0 if left else -1.0)  # columns past the muscle edge, per row
        far = np.flatnonzero(beyond >= beyond.max() - 1.0)  # the tip can be a few pixels wide
        row, col = float(np.median(ys[far])), float(np.median(xs[far]))
        return ((col + 0.5) * prepared.scale_x, (row + 0.5) * prepared.scale_y)
    cols = mask.shape[1]
    oriented = mask if left else mask[:, ::-1]
    extent = np.where(oriented.any(axis=1), cols - np.argmax(oriented[:, ::-1], axis=1), 0)
    window = max(1, round(smooth_mm / prepared.pixel_size_mm)) | 1  # odd, in rows
    profile = ndi.median_filter(extent, size=window, mode="constant")  # zeros beyond the image
    if profile.max() <= 0:  # a breast thinner than the window
        profile = extent
    best = np.flatnonzero(profile == profile.max())
    reach = int(profile.max())  # columns from the chest-wall edge, exclusive
    x = reach - 0.5 if left else cols - reach + 0.5
    return (x * prepared.scale_x, (float(np.median(best)) + 0.5) * prepared.scale_y)


def _fit_line_ransac(
    ys: FloatArray, xs: FloatArray, tol: float, slope_range: tuple[float, float], trials: int = 200
) -> tuple[float, float, BoolArray] | None:
    """Robust fit of ``x = a * y + b`` with ``a`` in ``slope_range`` (deterministic RANSAC)."""
    n = ys.size
    if n < 2:
        return None
    rng = np.random.default_rng(0)
    best: tuple[float, float, BoolArray] | None = None
    best_count = 0
    for _ in range(trials):
        i, j = rng.choice(n, 2, replace=False)
        if abs(ys[i] - ys[j]) < 1e-6:
            continue
        a = (xs[j] - xs[i]) / (ys[j] - ys[i])
        if not slope_range[0] <= a <= slope_range[1]:
            continue
        b = xs[i] - a * ys[i]
        inl = np.abs(xs - (a * ys + b)) <= tol
        count = int(inl.sum())
        if count > best_count:
            best_count, best = count, (float(a), float(b), inl)
    if best is None or best_count < 2:
        return None
    inl = best[2]
    a, b = np.polyfit(ys[inl], xs[inl], 1)
    if not slope_range[0] <= a <= slope_range[1]:
        return best
    return float(a), float(b), np.abs(xs - (a * ys + b)) <= tol


def pectoral_line(
    image: FloatArray, mask: BoolArray, chest_wall: Literal["left", "right"], pixel_size_mm: float = 0.3
) -> tuple[float, float] | None:
    """The pectoral muscle edge on an MLO view as ``x = a * y + b`` (stored columns of ``image``); None if none.

    With the chest wall on the left, the muscle edge runs from the top of the breast
    down towards the chest wall (``a < 0``) and is the strongest bright-to-dark step along
    each row of the upper breast.  Steps: smooth; in each row of the upper 60 % of the
    breast take the largest intensity drop between the chest wall and 6 mm short of the
    skin line; robustly fit a line to those points (RANSAC); accept it only when enough
    rows agree, the wedge is a plausible size and it is clearly brighter than the tissue
    just beyond its edge.  The line is returned in the image's own columns (mirrored back
    when the chest wall is on the right).
    """
    img = image if chest_wall == "left" else image[:, ::-1]
    m = mask if chest_wall == "left" else mask[:, ::-1]
    rows_any = np.flatnonzero(m.any(axis=1))
    if rows_any.size < 20 or m.sum() < 400:
        return None
    r0, r1 = int(rows_any[0]), int(rows_any[-1])
    s = ndi.gaussian_filter(img, 1.5 / pixel_size_mm)
    gx = ndi.sobel(s, axis=1)
    ys_l, xs_l, g_l = [], [], []
    for y in range(r0, r0 + int(0.6 * (r1 - r0)) + 1):
        xs_row = np.flatnonzero(m[y])
        if xs_row.size < 10:
            continue
        c0, c1 = int(xs_row[0]), int(xs_row[-1])
        lo = c0 + max(2, round(2.0 / pixel_size_mm))
        hi = c1 - round(6.0 / pixel_size_mm)  # stay clear of the skin-line step
        if hi - lo < 5:
            continue
        k = int(np.argmin(gx[y, lo:hi]))
        ys_l.append(y)
        xs_l.append(lo + k)
        g_l.append(float(gx[y, lo + k]))
    if len(ys_l) < 15:
        return None
    ys, xs, g = np.asarray(ys_l, np.float32), np.asarray(xs_l, np.float32), np.asarray(g_l, np.float32)
    strong = g < np.median(g)  # keep the clearer half of the steps
    ys, xs = ys[strong], xs[strong]
    fit = _fit_line_ransac(ys, xs, tol=3.0 / pixel_size_mm, slope_range=(-4.0, -0.1))
    if fit is None:
        return None
    a, b, inl = fit
    if inl.sum() < max(10, 0.3 * ys.size):
        return None
    rows, cols = img.shape
    yy, xx = np.mgrid[0:rows, 0:cols]
    line_x = a * yy + b
    wedge = (xx <= line_x) & m
    area = wedge.sum() / max(1, m.sum())
    if not 0.01 <= area <= 0.45:
        return None
    band = (xx > line_x) & (xx <= line_x + 10.0 / pixel_size_mm) & m
    if band.sum() < 50:
        return None
    vals = img[m]
    spread = float(np.median(np.abs(vals - np.median(vals)))) * 1.4826 + 1e-6
    if (float(np.median(img[wedge])) - float(np.median(img[band]))) / spread < 0.5:
        return None
    if chest_wall == "left":
        return float(a), float(b)
    return -float(a), float(cols - 1 - b)  # x' = cols - 1 - x on the mirrored image


def pectoral_mask(
    image: FloatArray, mask: BoolArray, chest_wall: Literal["left", "right"], pixel_size_mm: float = 0.3
) -> BoolArray:
    """Pectoral muscle on an MLO view: the breast on the chest-wall side of :func:`pectoral_line`.

    Returns an empty mask when no muscle is found (CC views, or a muscle not in the image).
    """
    line = pectoral_line(image, mask, chest_wall, pixel_size_mm)
    if line is None:
        return np.zeros_like(mask)
    a, b = line
    yy, xx = np.mgrid[0 : mask.shape[0], 0 : mask.shape[1]]
    wall_side = xx <= a * yy + b if chest_wall == "left" else xx >= a * yy + b
    result: BoolArray = wall_side & mask
    return result
