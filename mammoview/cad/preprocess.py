"""From a presentation image to the network's input grid, identically for training and inference.

One function, :func:`prepare`, is the only road from pixels to the network, so the
patches the model learned from and the whole images it later reads are made the same
way.  Steps, in order:

1. resample the presentation image (float, tissue bright, [0, 1]) from its own pixel
   spacing to the model's isotropic ``pixel_size_mm`` (area-averaging when shrinking;
   this also undoes anisotropic pixels such as the stretched CBIS-DDSM JPEGs);
2. breast mask: Otsu threshold + largest connected component + holes filled, after
   cutting a thin border band so film edges, labels and scanner marks that touch the
   border do not join the breast (optionally minus the pectoral muscle on MLO views);
3. optional filters the paper names (each a switch): morphological opening/closing,
   Gaussian smoothing, CLAHE;
4. intensity normalisation inside the breast (robust z-score: median / MAD), clipped;
5. optional Sobel edge magnitude as a second input channel.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
from scipy import ndimage as ndi
from skimage import exposure, filters, measure, morphology
from skimage.transform import resize

from mammoview.cad.landmarks import chest_wall_side, pectoral_mask
from mammoview.io.model import MAX_EXTENT_MM, MIN_EXTENT_MM, ImageInfo, MammoImage, PixelSpacing

FloatArray = npt.NDArray[np.float32]
BoolArray = npt.NDArray[np.bool_]

#: Assumed physical image height when a file carries no pixel spacing (film/detector ~24 cm).
ASSUMED_IMAGE_HEIGHT_MM = 230.0
#: Largest side the CAD accepts (io's limit, which the readers warn about): mammography films and detectors are at
#: most ~30 cm; a wider image means a wrong spacing (or no mammogram), and resampling it could exhaust memory.  Below
#: MIN_EXTENT_MM (mm, the smaller side) or MIN_SIDE_PX pixels a side, an image is no whole-breast mammogram either.
MIN_SIDE_PX = 32
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


@dataclass(frozen=True)
class PreprocessConfig:
    """The preprocessing switches; saved with the weights in ``models/manifest.json``."""

    pixel_size_mm: float = 0.3
    normalization: Literal["zscore", "percentile"] = "zscore"
    clip: float = 4.0
    remove_pectoral: bool = False
    clahe: bool = False
    clahe_clip_limit: float = 0.01
    clahe_kernel_mm: float = 30.0
    gaussian_sigma_mm: float = 0.0
    morphology: Literal["none", "open", "close", "open-close"] = "none"
    morphology_radius_mm: float = 0.6
    sobel_channel: bool = False

    @property
    def in_channels(self) -> int:
        return 2 if self.sobel_channel else 1

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> PreprocessConfig:
        known = {f.name for f in fields(cls)}
        unknown = set(d) - known
        if unknown:
            raise ValueError(f"unknown preprocessing option(s): {', '.join(sorted(unknown))}")
        return cls(**d)


@dataclass(frozen=True, eq=False)
class PreparedImage:
    """Network input for one image on the model grid, and how it maps back.

    Model pixel (i, j) covers stored rows ``[i * scale_y, (i + 1) * scale_y)`` and
    stored columns ``[j * scale_x, (j + 1) * scale_x)``.
    """

    data: FloatArray  # (C, H, W) float32
    mask: BoolArray  # (H, W) breast mask
    scale_y: float  # stored rows per model pixel
    scale_x: float  # stored columns per model pixel
    stored_shape: tuple[int, int]
    spacing: PixelSpacing
    pixel_size_mm: float

    @property
    def shape(self) -> tuple[int, int]:
        return (int(self.mask.shape[0]), int(self.mask.shape[1]))


def estimate_spacing(rows: int, cols: int) -> PixelSpacing:
    """Spacing for a file without one, assuming the image is ~23 cm tall (a mammography film)."""
    s = ASSUMED_IMAGE_HEIGHT_MM / max(rows, 1)
    return PixelSpacing(
        s, s, f"estimated: no spacing in file, assumes a {ASSUMED_IMAGE_HEIGHT_MM:.0f} mm tall image", estimated=True
    )


class ImageRefused(ValueError):
    """The CAD does not run on this image (e.g. far larger than a mammogram at its spacing); the message says why."""


def check_cad_input(info: ImageInfo) -> None:
    """A clear error for an image the CAD was not made for: a diagnostic close-up (spot compression or
    magnification view, ``meta.close_up``) or a multi-frame image (a tomosynthesis volume).

    The networks learned lesions in whole-breast 2-D screening views at a fixed size in mm; a
    close-up shows a few centimetres of compressed, magnified tissue, where the maps and their
    operating points mean nothing (screening CAD is made for whole-breast views), and the
    first frame of a tomosynthesis volume is one slice at the edge of the breast.
    """
    if info.meta.close_up:
        raise ImageRefused(
            f"a diagnostic close-up, {info.meta.close_up}: the CAD was trained on whole-breast screening views and "
            "does not run on it; run it on the whole-breast view of this side"
        )
    if info.frames > 1:
        raise ImageRefused(
            f"a multi-frame image ({info.frames} frames, e.g. a tomosynthesis volume): the CAD was trained on 2-D "
            "mammograms and does not run on one frame of it; run it on the 2-D or synthesized 2-D view"
        )
    if info.meta.tomosynthesis:
        raise ImageRefused(
            "a tomosynthesis slice (a Breast Tomosynthesis / Projection X-Ray image of one frame): the CAD was trained "
            "on 2-D mammograms and does not run on it; run it on the 2-D or synthesized 2-D view"
        )


def readable_by_cad(image: MammoImage) -> bool:
    """Whether the CAD reads ``image`` unasked (e.g. a view's second image): not a raw FOR PROCESSING image, and
    nothing :func:`check_cad_input` refuses."""
    try:
        check_cad_input(image.info)
    except ImageRefused:
        return False
    return not image.info.meta.for_processing


#: What the CAD says of a view in which :func:`breast_mask` finds no breast (its scores 0 mean nothing was read).
NO_BREAST_NOTE = (
    "no breast found in the image (an empty field, a blank exposure, a label or a marker only): the CAD read nothing, "
    "its scores of 0 are no normal reading"
)


#: What the CAD says of a view whose file reports a breast implant (analysed, but not validated on such images).
IMPLANT_NOTE = (
    "breast implant present (BreastImplantPresent (0028,1300) YES): the CAD was not validated on images with "
    "implants: read its marks and scores on this view with care"
)


def check_extent(shape: tuple[int, int], spacing: PixelSpacing) -> None:
    """A clear error, before any work, for an image larger than :data:`MAX_EXTENT_MM` at ``spacing``, smaller than
    :data:`MIN_EXTENT_MM`, or of fewer than :data:`MIN_SIDE_PX` pixels on a side: none is a mammogram."""
    height, width = shape[0] * spacing.row_mm, shape[1] * spacing.col_mm
    if max(height, width) > MAX_EXTENT_MM:
        where = "--pixel-spacing, or Image ▸ Pixel spacing in the viewer"
        if spacing.estimated:
            hint = f"give its pixel spacing ({where})"
        elif spacing.source.startswith("--pixel-spacing"):
            hint = f"check the pixel spacing given ({where})"
        else:
            hint = "the file's pixel spacing looks wrong"
        raise ImageRefused(
            f"at {spacing.row_mm:.4g} x {spacing.col_mm:.4g} mm per pixel ({spacing.source}) the image would be "
            f"{height:.0f} x {width:.0f} mm; a mammogram is at most about 300 mm on a side, so the CAD does not run: "
            f"{hint}"
        )
    if min(shape) < MIN_SIDE_PX:
        raise ImageRefused(f"{shape[0]} x {shape[1]} pixels is no mammogram (at least {MIN_SIDE_PX} pixels a side), "
                           "so the CAD does not run")  # fmt: skip
    if min(height, width) < MIN_EXTENT_MM:
        raise ImageRefused(
            f"at {spacing.row_mm:.4g} x {spacing.col_mm:.4g} mm per pixel ({spacing.source}) the image is "
            f"{height:.3g} x {width:.3g} mm; a whole-breast mammogram is at least about {MIN_EXTENT_MM:.0f} mm on a "
            "side, so the CAD does not run: check the pixel spacing"
        )


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
    (i + 1) * rows / out_rows)`` and likewise columns (the mapping :class:`PreparedImage` states;
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


def normalize(image: FloatArray, mask: BoolArray, method: str, clip: float) -> FloatArray:
    """Robust intensity normalisation from the breast pixels only."""
    vals = image[mask] if mask.any() else image.ravel()
    if method == "zscore":
        med = float(np.median(vals))
        mad = float(np.median(np.abs(vals - med))) * 1.4826
        scale = mad if mad > 1e-6 else float(vals.std()) + 1e-6
        out = (image - med) / scale
    elif method == "percentile":
        lo, hi = np.percentile(vals, [1.0, 99.0])
        out = (image - lo) / max(float(hi - lo), 1e-6) * 2.0 - 1.0
    else:
        raise ValueError(f"unknown normalization {method!r}")
    result: FloatArray = np.clip(out, -clip, clip).astype(np.float32)
    return result


def _filters(image: FloatArray, cfg: PreprocessConfig) -> FloatArray:
    out = image
    px = cfg.pixel_size_mm
    if cfg.morphology != "none":
        fp = morphology.disk(max(1, round(cfg.morphology_radius_mm / px)))  # type: ignore[no-untyped-call]
        if "open" in cfg.morphology:
            out = ndi.grey_opening(out, footprint=fp)
        if "close" in cfg.morphology:
            out = ndi.grey_closing(out, footprint=fp)
    if cfg.gaussian_sigma_mm > 0:
        out = ndi.gaussian_filter(out, cfg.gaussian_sigma_mm / px)
    if cfg.clahe:
        kernel = max(8, round(cfg.clahe_kernel_mm / px))
        out = exposure.equalize_adapthist(np.clip(out, 0, 1), kernel_size=kernel, clip_limit=cfg.clahe_clip_limit)
    return np.asarray(out, dtype=np.float32)


def resampled_breast(
    presentation: FloatArray,
    spacing: PixelSpacing,
    pixel_size_mm: float,
    chest_wall: Literal["left", "right"] | None = None,
) -> tuple[FloatArray, BoolArray]:
    """``presentation`` resampled to ``pixel_size_mm`` (its block means anchored at the chest wall: ``chest_wall``,
    else the brighter half) and its :func:`breast_mask`: the first steps of :func:`prepare`.

    Raises
    ------
    ImageRefused
        When the image, at ``spacing``, is larger than :data:`MAX_EXTENT_MM` on a side.
    """
    check_extent(presentation.shape, spacing)
    right = chest_wall == "right" if chest_wall is not None else brighter_half(presentation) == "right"
    img = resample(presentation, (spacing.row_mm, spacing.col_mm), pixel_size_mm, chest_wall_right=right)
    return img, breast_mask(img, pixel_size_mm)


def prepare(
    presentation: FloatArray,
    spacing: PixelSpacing,
    cfg: PreprocessConfig,
    *,
    is_mlo: bool = False,
    chest_wall: Literal["left", "right"] | None = None,
) -> PreparedImage:
    """Resample, segment, filter and normalise one presentation image (see module docstring).

    Raises
    ------
    ImageRefused
        When the image, at ``spacing``, is larger than :data:`MAX_EXTENT_MM` on a side.
    """
    rows, cols = presentation.shape
    img, mask = resampled_breast(presentation, spacing, cfg.pixel_size_mm, chest_wall)
    if cfg.remove_pectoral and is_mlo and mask.any():
        side = chest_wall or chest_wall_side(mask)
        mask = mask & ~pectoral_mask(img, mask, side, cfg.pixel_size_mm)
    img = _filters(img, cfg)
    norm = normalize(img, mask, cfg.normalization, cfg.clip)
    channels = [norm]
    if cfg.sobel_channel:
        edges = filters.sobel(norm)  # type: ignore[no-untyped-call]
        channels.append(normalize(edges, mask, "zscore", cfg.clip))
    data = np.stack(channels).astype(np.float32)
    return PreparedImage(
        data=data,
        mask=mask,
        scale_y=rows / img.shape[0],
        scale_x=cols / img.shape[1],
        stored_shape=(rows, cols),
        spacing=spacing,
        pixel_size_mm=cfg.pixel_size_mm,
    )


def presentation_of(image: MammoImage) -> FloatArray:
    """The image's presentation values (float32, tissue bright), what every network's :func:`prepare` starts from.

    The full range of the values present is mapped to [0, 1] (modality LUT, MONOCHROME1 inversion and padding
    as the viewer applies them), whatever display window the header holds: every network learned from files
    without one (CBIS-DDSM, mini-MIAS, MAGIC-5), the robust z-score of :func:`normalize` makes an unclipped
    linear window no different, and a window that clips the breast (one that whited it out left the detector a
    flat image) must not reach them.
    """
    from mammoview.io.pixels import to_presentation  # io layer; imported late to keep start-up light

    return np.asarray(to_presentation(image.stored, image.info.chain, None), dtype=np.float32)


def prepare_image(
    image: MammoImage,
    cfg: PreprocessConfig,
    spacing: PixelSpacing | None = None,
    presentation: FloatArray | None = None,
) -> PreparedImage:
    """:func:`prepare` for a loaded image: presentation values (``presentation``: already computed by
    :func:`presentation_of`, when several networks prepare the same image), its spacing (or an estimate)."""
    pres = presentation_of(image) if presentation is None else presentation
    sp = spacing or image.info.spacing or estimate_spacing(*image.shape)
    proj = image.info.projection.value
    is_mlo = proj is not None and proj.slot is not None and proj.slot.value == "MLO"
    return prepare(pres, sp, cfg, is_mlo=is_mlo)
