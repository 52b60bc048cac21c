"""The breast mask: Otsu threshold + largest connected component + holes filled, and the rules for no breast.

A film's flat bright frame along an edge is no foreground (:func:`flat_border`); a view holds no breast when its
largest component is a speck, a label or a marker (:data:`MIN_BREAST_MM2`), detector noise split by Otsu (a sponge of
small holes, :func:`is_noise`), or an image without tissue structure (a blank exposure, :func:`structure_ratio`).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import ndimage as ndi
from skimage import filters, measure

from mammoview.cad.resample import FloatArray, block_mean

BoolArray = npt.NDArray[np.bool_]

#: The smallest bright component taken for a breast (mm²): a breast in a whole-breast view is thousands (the
#: smallest of the CBIS-DDSM and mini-MIAS images ~3500); dust, a skin marker, a lead letter or a film label
#: (~35 x 12 mm, 420 mm²) on an otherwise empty image is less.
MIN_BREAST_MM2 = 600.0
#: Detector noise on an empty field (a blank exposure), split in two by Otsu, is a sponge: its "breast" component
#: encloses many small holes (14-20 per 1000 pixels of the filled region at any model pixel size), together more than
#: MAX_HOLE_SHARE of it, and no hole holds half of them.  A breast encloses few: at most 1.5 % of the filled region on
#: the 1423 CBIS-DDSM and mini-MIAS images; where tissue fills the field (crops of a breast's interior, as a
#: magnification or spot view shows it) Otsu splits fat from dense tissue and the fatty holes can reach a third of
#: the region, but they are fewer (at most 4-7 per 1000 pixels), so all three conditions are needed
#: (``models/analysis/mask_holes.py``).  A bright frame all round encloses one hole, the background.
MAX_HOLE_SHARE = 0.10
MIN_HOLES_PER_KPX = 10.0
#: A blank exposure is seldom flat (the anode heel effect, vignetting: a slope of a few noise SDs across the field
#: and Otsu cuts a bright part without holes), but it has no structure at the scales of breast tissue: without its
#: smooth shading (polynomials of degree SHADING_DEGREE along each axis) and smoothed over STRUCTURE_MM on a ~1 mm
#: grid, its spread is what white noise of its pixel-to-pixel noise keeps (:func:`structure_ratio` 1.0-1.2 with up to
#: 30 noise SDs of heel slope or vignetting, 1.0 holding a lead letter or a label), while tissue keeps far more: at
#: least 17.5 on crops of a breast's interior (as a spot or magnification view fills the field; 58 magnified x1.8),
#: 18.8 on its middle rows, 14.5 on whole CBIS-DDSM and mini-MIAS images (``models/analysis/mask_holes.py``).  An
#: image below MIN_STRUCTURE holds no breast.  The spread is robust (the MAD's, the shading fitted again without the
#: pixels it leaves more than STRUCTURE_CLIP spreads off, STRUCTURE_ROUNDS times): with the SD a lead letter or a
#: label on a blank exposure read 19-97, as much as a breast.  Noise correlated over ~0.6 mm or more reads as
#: structure (7-27 at 0.3 mm): still a gap.
#: A film's unexposed border digitised as a bright frame: lines along an edge that are all foreground, flat (SD
#: within FRAME_FLATNESS pixel noises) and among the brightest (mean at least the image's FRAME_PERCENTILE
#: percentile) are no breast, up to MAX_FRAME_SHARE of the image (:func:`flat_border`).
FRAME_FLATNESS = 2.0
FRAME_PERCENTILE = 98.0
MAX_FRAME_SHARE = 0.15
#: Lines cut beside a frame: its last line, partly frame where it was resampled from the stored grid, and the two the
#: breast threshold's smoothing (sigma 1 line) makes bright beside that.
FRAME_MARGIN = 3
#: The rule is applied at the detector's grid (0.3 mm), which decides that a view holds no breast; on coarser ones the
#: pixel-to-pixel differences hold the tissue's own gradients and a breast that fills the field reads low (at 1.5 mm,
#: the density model's, 224 of 2846 middle-row crops fell below 5; at 0.6 mm the lowest read 7.6).
STRUCTURE_MAX_MM = 0.35
SHADING_DEGREE = 6
STRUCTURE_MM = 2.0
MIN_STRUCTURE = 5.0
STRUCTURE_ROUNDS = 2
STRUCTURE_CLIP = 3.0


def hole_stats(component: BoolArray) -> tuple[float, float, float]:
    """(share of the filled component that is enclosed holes, share of the holes' area in the largest hole, holes per
    1000 pixels of the filled component)."""
    filled = ndi.binary_fill_holes(component)
    hole_labels, n = ndi.label(filled & ~component)
    if n == 0:
        return 0.0, 1.0, 0.0
    areas = np.bincount(hole_labels.ravel())[1:]
    area = float(filled.sum())
    return float(areas.sum() / area), float(areas.max() / areas.sum()), 1000.0 * n / area


def pixel_noise(image: FloatArray) -> float:
    """SD of the pixel-to-pixel noise: the robust SD of horizontal neighbour differences over sqrt 2, from every
    other row (half the time, the same estimate); 0 for an image without any.

    Not from pairs inside a run of the image's lowest or highest value (a black background or padding, saturation):
    they hold no noise, and where they are half the pairs (a scanned film's black background) the median read 0 and
    the SD of every difference, skin line and tissue gradients included, was taken for the noise (a real CBIS-DDSM
    mammogram read 4.4 at the density model's 1.5 mm in :func:`structure_ratio`: no breast; a helper review).
    """
    rows = image[::2]
    diffs = np.abs(np.diff(rows, axis=1))
    if diffs.size == 0:
        return 0.0
    lo, hi = float(image.min()), float(image.max())
    left, right = rows[:, :-1], rows[:, 1:]
    varying = diffs[~(((left == lo) & (right == lo)) | ((left == hi) & (right == hi)))]
    if varying.size:
        diffs = varying
    return 1.4826 * float(np.median(diffs)) / math.sqrt(2.0) or float(diffs.std()) / math.sqrt(2.0)


def flat_border(image: FloatArray, fg: BoolArray) -> dict[str, int]:
    """Lines (rows or columns) along each image edge that are a bright frame: all foreground, flat (their SD within
    :data:`FRAME_FLATNESS` pixel noises; a saturated film edge is exactly flat) and among the image's brightest
    (their mean at least its :data:`FRAME_PERCENTILE` percentile), counted in from the edge, at most
    :data:`MAX_FRAME_SHARE` of the image.  Tissue along an edge is never all three along the whole line, also where
    it fills the field and its texture makes the pixel noise read high."""
    limit = FRAME_FLATNESS * pixel_noise(image) + 1e-6 * float(np.ptp(image))
    brightest = float(np.percentile(image, FRAME_PERCENTILE))
    rows, cols = image.shape
    sides = {"top": (image, fg), "bottom": (image[::-1], fg[::-1]), "left": (image.T, fg.T),
             "right": (image.T[::-1], fg.T[::-1])}  # fmt: skip
    out = {}
    for side, (lines, on) in sides.items():
        most = int(MAX_FRAME_SHARE * (rows if side in ("top", "bottom") else cols))
        n = 0
        while n < most and on[n].all() and float(lines[n].std()) <= limit and float(lines[n].mean()) >= brightest:
            n += 1
        out[side] = n
    return out


def structure_ratio(image: FloatArray, pixel_size_mm: float) -> float:
    """Spread of ``image`` without its smooth shading (polynomials of degree :data:`SHADING_DEGREE` along each axis),
    smoothed over :data:`STRUCTURE_MM`, over the SD that white noise of its pixel-to-pixel noise keeps after that
    smoothing: ~1 for noise over smooth shading (a blank exposure), far more for tissue.

    Robust to a small object on the field (a lead marker, a label: their SD read 19-97 on a blank exposure, as much as
    a breast's): the spread is the MAD's SD, and the shading is fitted again without the pixels it leaves more than
    :data:`STRUCTURE_CLIP` spreads off (:data:`STRUCTURE_ROUNDS` times)."""
    noise = pixel_noise(image)  # on the image's own grid: on a coarser one the tissue's gradients would count too
    if noise <= 0:  # no pixel-to-pixel noise at all (a drawn image): nothing to tell noise by
        return math.inf
    k = max(1, round(1.0 / pixel_size_mm))  # on a ~1 mm grid (a few ms): a k x k block mean keeps white noise white,
    if min(image.shape) < 2 * k:  # its SD divided by k
        k = 1
    img = (block_mean(image, k, k) if k > 1 else image).astype(np.float64)
    noise /= k
    if min(img.shape) < 4 * (SHADING_DEGREE + 1):  # too few pixels to tell shading from structure
        return math.inf
    vy, vx = (np.polynomial.legendre.legvander(np.linspace(-1, 1, n), SHADING_DEGREE) for n in img.shape)
    sigma = STRUCTURE_MM / (pixel_size_mm * k)
    weight = np.ones_like(img)
    for _ in range(STRUCTURE_ROUNDS + 1):
        smooth = ndi.gaussian_filter(img - _shading(img, weight, vy, vx), sigma)
        centre = np.median(smooth)
        spread = 1.4826 * float(np.median(np.abs(smooth - centre)))
        weight = (np.abs(smooth - centre) <= STRUCTURE_CLIP * spread).astype(np.float64)
    return spread / (noise / (2 * math.sqrt(math.pi) * sigma))


def _shading(img: npt.NDArray[Any], weight: npt.NDArray[Any], vy: npt.NDArray[Any],
             vx: npt.NDArray[Any]) -> npt.NDArray[Any]:  # fmt: skip
    """Weighted least squares of ``img`` in the tensor product of the columns of ``vy`` (rows) and ``vx`` (columns),
    by its normal equations, which are separable: a few ms on a ~1 mm grid."""
    n, m = vy.shape[1], vx.shape[1]
    yy = (vy[:, :, None] * vy[:, None, :]).reshape(len(vy), n * n)  # each row's products of two row polynomials
    xx = (vx[:, :, None] * vx[:, None, :]).reshape(len(vx), m * m)
    # sum over pixels of weight * vy_a vy_b vx_c vx_d, as two matrix products, ordered (a, c) x (b, d)
    normal = _product(yy.T, _product(weight, xx)).reshape(n, n, m, m).transpose(0, 2, 1, 3).reshape(n * m, n * m)
    rhs = _product(vy.T, _product(weight * img, vx)).reshape(n * m)
    coef = np.linalg.lstsq(normal, rhs, rcond=None)[0].reshape(n, m)
    return _product(_product(vy, coef), vx.T)


def _product(a: npt.NDArray[Any], b: npt.NDArray[Any]) -> npt.NDArray[Any]:
    """``a @ b`` in einsum's own loops, not BLAS's (well under a ms here): OpenBLAS's threads, woken for products this
    small, then spin beside torch's, and the CAD's networks ran ~0.3 s slower on four views on 2 cores
    (``benchmarks/bench_cad.py``: OPENBLAS_NUM_THREADS=1 took it back)."""
    return np.asarray(np.einsum("ij,jk->ik", a, b))


def is_noise(stats: tuple[float, float, float]) -> bool:
    """:func:`hole_stats` of a component that is detector noise split by Otsu, not a breast (:data:`MAX_HOLE_SHARE`)."""
    share, largest, per_kpx = stats
    return share > MAX_HOLE_SHARE and largest < 0.5 and per_kpx > MIN_HOLES_PER_KPX


def largest_component(image: FloatArray, pixel_size_mm: float, band: int) -> tuple[BoolArray, BoolArray] | None:
    """(the largest bright component with ``band`` px along the border cut, the foreground), or None for none.

    Otsu on the smoothed image, half-way towards the background level; what :func:`breast_mask` labels before its
    breast checks (``models/analysis/mask_holes.py`` measures them on it).  A flat bright frame along an edge (a
    film's unexposed border, :func:`flat_border`) is no foreground, and the threshold is found without it: cut only
    by the band, a frame wider than it joined the breast at the chest wall, and a frame all round made a ring whose
    inside (the whole background) was filled.
    """
    smooth = ndi.gaussian_filter(image, 1.0)
    fg = _foreground(smooth, smooth)
    frame = flat_border(image, fg)
    if any(frame.values()):
        rows, cols = image.shape
        keep = np.ones((rows, cols), dtype=bool)
        # the frame, and the lines beside it that the smoothing made bright (a ring of them joined the breast): a
        # frame resampled from the stored grid ends in a line partly frame, and sigma 1 carries it 2 lines further
        top, bottom, left, right = (frame[k] + FRAME_MARGIN if frame[k] else 0
                                    for k in ("top", "bottom", "left", "right"))  # fmt: skip
        keep[:top, :] = keep[rows - bottom :, :] = False
        keep[:, :left] = keep[:, cols - right :] = False
        fg = _foreground(smooth, smooth[keep]) & keep
    inner = fg.copy()
    inner[:band, :] = inner[-band:, :] = False
    inner[:, :band] = inner[:, -band:] = False
    labels = measure.label(inner, connectivity=1)  # type: ignore[no-untyped-call]
    if labels.max() == 0:
        return None
    sizes = np.bincount(labels.ravel())
    sizes[0] = 0
    return np.asarray(labels == int(np.argmax(sizes))), fg


def _foreground(smooth: FloatArray, values: FloatArray) -> BoolArray:
    """Pixels of ``smooth`` above the breast threshold found on ``values`` (all of it, or all but a frame)."""
    # Film edges, labels and markers can be a few per cent of saturated pixels; clipping
    # them keeps Otsu between background and tissue instead of between tissue and them.
    thresh = filters.threshold_otsu(np.minimum(values, np.percentile(values, 95)))  # type: ignore[no-untyped-call]
    # Otsu between background and tissue sits a little high on fatty breasts; half-way
    # towards the background level keeps the skin line.
    background = float(np.percentile(values, 5))
    return np.asarray(smooth > (background + 0.5 * (thresh - background)))


def breast_mask(image: FloatArray, pixel_size_mm: float, border_mm: float = 3.0) -> BoolArray:
    """Breast region: Otsu + largest component + filled holes, ignoring film edges and labels.

    A band of ``border_mm`` along the image border is cut before labelling, so bright
    film edges and labels touching the border stay separate from the breast; the band is
    given back next to the breast afterwards (the breast touches the chest-wall edge).
    No breast: no component of :data:`MIN_BREAST_MM2`, a component that is detector noise
    (:func:`is_noise`, :data:`MAX_HOLE_SHARE`), or an image without tissue structure (:data:`MIN_STRUCTURE`).
    A flat bright frame along an edge is no breast (:func:`flat_border`, in :func:`largest_component`).
    """
    none = np.zeros(image.shape, dtype=bool)
    if image.size == 0 or float(image.max()) <= float(image.min()):
        return none
    band = max(1, round(border_mm / pixel_size_mm))
    found = largest_component(image, pixel_size_mm, band)
    if found is None:
        return none
    mask, fg = found
    if mask.sum() * pixel_size_mm**2 < MIN_BREAST_MM2:  # a speck, a marker or a label on an empty field
        return none
    if is_noise(hole_stats(mask)):  # a sponge of small holes: Otsu split detector noise in two
        return none
    if pixel_size_mm <= STRUCTURE_MAX_MM and structure_ratio(image, pixel_size_mm) < MIN_STRUCTURE:
        return none  # noise over smooth shading: a blank exposure
    # give back the border band only where it continues the breast
    grown = ndi.binary_dilation(mask, iterations=band + 1) & fg
    edge = np.zeros_like(mask)
    edge[:band, :] = edge[-band:, :] = True
    edge[:, :band] = edge[:, -band:] = True
    mask = mask | (grown & edge)
    mask = ndi.binary_fill_holes(mask)
    return np.asarray(mask, dtype=bool)
