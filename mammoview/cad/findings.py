"""Findings from the probability maps: regions, split at separate peaks, merged when they overlap.

scikit-image does the geometry: ``label`` the cells with ``p_abnormal >= threshold``,
``peak_local_max`` per region, ``watershed`` from those peaks to split a region that holds
several lesions, then greedy merging of candidates whose boxes overlap (the same lesion
split at a saddle).  Everything is computed on the cell grid and mapped to the stored
pixel grid at the end.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from skimage import feature, measure, segmentation

from mammoview.cad.preprocess import PreparedImage
from mammoview.cad.probability_maps import BoolArray, ProbabilityMaps
from mammoview.cad.types import Finding, FindingKind

#: Candidates whose boxes overlap at least this much (intersection over union) are merged.
MERGE_IOU = 0.3
DEFAULT_MAX_FINDINGS = 10


@dataclass(frozen=True, eq=False)
class Region:
    """A candidate on the cell grid: its cells, peak cell and box (rows/cols, end exclusive)."""

    cells: BoolArray
    peak: tuple[int, int]
    score: float
    box: tuple[int, int, int, int]  # r0, c0, r1, c1


def _box(cells: BoolArray) -> tuple[int, int, int, int]:
    rows, cols = np.nonzero(cells)
    return int(rows.min()), int(cols.min()), int(rows.max()) + 1, int(cols.max()) + 1


def _iou(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> float:
    h = min(a[2], b[2]) - max(a[0], b[0])
    w = min(a[3], b[3]) - max(a[1], b[1])
    if h <= 0 or w <= 0:
        return 0.0
    inter = h * w
    area = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / area


def abnormal_logit(maps: ProbabilityMaps) -> npt.NDArray[np.float64]:
    """``log(p_abnormal / p_normal)`` per cell: the ranking score of the peaks.

    ``p_abnormal`` saturates at 1.0 in float32 over a whole dense region while the logit
    still rises towards the most suspicious cell, so peaks (finding centres) and their order
    come from the logit, and only the threshold and the reported scores from the probability.
    Computed from ``p_normal``, which stays representable (e.g. 1e-9) where ``1 - p_normal``
    has rounded to 1.  Kept in float64: in float32 some 16 neighbouring float32 ``p_normal``
    near 1e-9 share one logit, and a tie put a weaker finding first.
    """
    pn = np.clip(maps.normal.astype(np.float64), 1e-30, 1.0)
    logit = np.log1p(-np.minimum(pn, 1.0 - 1e-12)) - np.log(pn)
    return np.where(maps.mask, logit, -np.inf)


def find_regions(
    score: npt.NDArray[np.float32],
    threshold: float,
    min_distance: int = 1,
    rank: npt.NDArray[np.float64] | None = None,
) -> list[Region]:
    """Candidate regions of ``score >= threshold``, one per peak, overlapping ones merged.

    Parameters
    ----------
    score
        Cell map (``p_abnormal``, already 0 outside the breast).
    threshold
        Minimum score of a region cell (> 0, so the zeroed background never forms a region).
    min_distance
        Minimum peak separation in cells (half a patch: closer peaks are one lesion).
    rank
        A monotone, non-saturating version of ``score`` (:func:`abnormal_logit`) that places
        the peaks, splits regions and orders candidates; default ``score`` itself.
    """
    thr = max(float(threshold), 1e-6)
    labels = measure.label(score >= thr, connectivity=2)  # type: ignore[no-untyped-call]
    if labels.max() == 0:
        return []
    rk = score if rank is None else np.where(labels > 0, rank, -1e30)
    peaks = feature.peak_local_max(  # type: ignore[no-untyped-call]
        rk, min_distance=max(1, min_distance), labels=labels, exclude_border=False
    )
    markers = np.zeros(labels.shape, dtype=np.int32)
    for k, (r, c) in enumerate(peaks, start=1):
        markers[r, c] = k
    # A flat-topped region can yield no strict peak; seed it at its maximum.
    for lab in range(1, int(labels.max()) + 1):
        region = labels == lab
        if not (markers[region] > 0).any():
            flat = np.where(region, rk, -np.inf)
            r, c = np.unravel_index(int(np.argmax(flat)), score.shape)
            markers[r, c] = markers.max() + 1
    parts = segmentation.watershed(-rk, markers, mask=labels > 0)  # type: ignore[no-untyped-call]
    if ((labels > 0) & (parts == 0)).any():  # cells joined at a corner only (the labels are 8-connected)
        parts = segmentation.watershed(-rk, parts, connectivity=2, mask=labels > 0)  # type: ignore[no-untyped-call]
    cands: list[tuple[float, Region]] = []
    for k in range(1, int(markers.max()) + 1):
        cells = parts == k
        if not cells.any():
            continue
        flat = np.where(cells, rk, -np.inf)
        r, c = np.unravel_index(int(np.argmax(flat)), score.shape)
        cands.append((float(rk[r, c]), Region(cells, (int(r), int(c)), float(score[r, c]), _box(cells))))
    cands.sort(key=lambda t: -t[0])
    merged: list[Region] = []
    for _, cand in cands:
        for i, kept in enumerate(merged):
            if _iou(cand.box, kept.box) >= MERGE_IOU:
                cells = kept.cells | cand.cells
                merged[i] = Region(cells, kept.peak, kept.score, _box(cells))
                break
        else:
            merged.append(cand)
    return merged


def image_scores(maps: ProbabilityMaps) -> tuple[float, float]:
    """Image-level ``(abnormal, malignant)``: the maxima over the breast (0 with no breast).

    Computed in float64 from ``p_normal``: a float32 ``p_abnormal`` rounds to exactly 1.0 on
    most dense breasts, which would tie every such image in a ROC analysis.
    """
    if not maps.mask.any():
        return 0.0, 0.0
    abnormal = 1.0 - maps.normal[maps.mask].astype(np.float64)
    malignant = abnormal * maps.malignant_given_lesion[maps.mask].astype(np.float64)
    return float(abnormal.max()), float(malignant.max())


def score_near(maps: ProbabilityMaps, x: float, y: float, radius: int = 1) -> float:
    """The highest ``1 - p(normal)`` of the breast cells within ``radius`` cells of model pixel (x, y) (0: none).

    What the detector says about a point another network proposed (float64, as a finding's score).
    """
    s, off = maps.stride, maps.offset
    h, w = maps.normal.shape
    # cell (i, j) covers [(j + off) s + origin_x, (j + 1 + off) s + origin_x)
    j = int(np.clip(np.floor((x - maps.origin_x) / s - off), 0, w - 1))
    i = int(np.clip(np.floor(y / s - off), 0, h - 1))
    block = np.s_[max(0, i - radius) : i + radius + 1, max(0, j - radius) : j + radius + 1]
    inside = maps.mask[block]
    if not inside.any():
        return 0.0
    return float(1.0 - maps.normal[block][inside].astype(np.float64).min())


def window_block(maps: ProbabilityMaps, region: Region) -> tuple[int, int, npt.NDArray[np.float32]] | None:
    """The CAM cells (``maps.cell_logit``) in the patch window of the region's peak and inside its box.

    Returns the block's first row and column on the CAM grid and the block, or None without CAM
    cells there (no ``cell_logit``, a one-cell window, or nothing finite).
    """
    if maps.cell_logit is None or maps.window <= 1:
        return None
    peak = region.peak
    w, off = maps.window, maps.offset
    k = int(np.floor(off + 0.5 - w / 2))  # first CAM cell of the window
    # CAM cell j is centred at j + 0.5 (in cells), the box spans [c0 + off, c1 + off).  A CAM cell centred
    # on the box's edge (every edge, with an even window) counts on both sides alike, so that a mirrored
    # copy's finding at a right chest wall is centred as the original's at a left one.
    b0, b1, b2, b3 = region.box
    lo_r, lo_c = int(np.ceil(b0 + off - 0.5)), int(np.ceil(b1 + off - 0.5))
    hi_r, hi_c = int(np.floor(b2 + off - 0.5)) + 1, int(np.floor(b3 + off - 0.5)) + 1
    h, wd = maps.cell_logit.shape
    r0, c0 = max(0, peak[0] + k, lo_r), max(0, peak[1] + k, lo_c)
    r1, c1 = min(h, peak[0] + k + w, hi_r), min(wd, peak[1] + k + w, hi_c)
    if r1 <= r0 or c1 <= c0:
        return None
    block = maps.cell_logit[r0:r1, c0:c1]
    return (r0, c0, block) if np.isfinite(block).any() else None


def refined_center(maps: ProbabilityMaps, region: Region) -> tuple[float, float]:
    """(x, y) model pixels of the strongest CAM cell in the patch window of the region's peak.

    The patch-equivalent maps say that a patch-sized window holds a lesion; their peak drifts
    towards wherever the surrounding tissue is densest.  The CAM cells inside that window
    (and inside the region's box, so a finding's centre stays in its box) say where in it
    the evidence is (:func:`window_block`).  Falls back to the peak without CAM cells there.
    """
    found = window_block(maps, region)
    if found is None:
        return maps.cell_center(*region.peak)
    r0, c0, block = found
    i, j = np.unravel_index(int(np.argmax(block)), block.shape)
    s = maps.stride
    return ((c0 + j + 0.5) * s + maps.origin_x, (r0 + i + 0.5) * s)


def window_cells(region: Region, window: int) -> Region:
    """``region`` restricted to the cells of the ``window``-cell patch window centred on its peak."""
    half = max(1, window) // 2
    r, c = region.peak
    keep = np.zeros_like(region.cells)
    keep[max(0, r - half) : r + half + 1, max(0, c - half) : c + half + 1] = True
    cells = region.cells & keep
    return Region(cells, region.peak, region.score, _box(cells))  # the peak cell is always kept


def regions_to_findings(
    regions: list[Region],
    maps: ProbabilityMaps,
    *,
    scale_x: float,
    scale_y: float,
    stored_shape: tuple[int, int],
    pixel_size_mm: float,
    max_findings: int = DEFAULT_MAX_FINDINGS,
    clip_to_window: bool = False,
) -> list[Finding]:
    """:class:`Finding` objects in the stored pixel grid, best first, at most ``max_findings``.

    ``scale_x``/``scale_y`` are stored pixels per model pixel (``PreparedImage.scale_*``).
    ``clip_to_window``: each finding's outline, box, area and kind come from its region's cells
    within the patch window around its peak (:func:`window_cells`), for regions cut at a loose
    threshold (the candidates of :mod:`mammoview.cad.verification`), whose cells can spread over
    a whole dense breast; its centre is placed on the whole region, as without it.
    """
    rows, cols = stored_shape
    s, off, ox = maps.stride, maps.offset, maps.origin_x
    out: list[Finding] = []
    for reg in regions[: max(0, max_findings)]:  # find_regions' order: best peak first
        px, py = refined_center(maps, reg)
        if clip_to_window:
            reg = window_cells(reg, maps.window)
        mass = float(maps.mass[reg.cells].mean())
        calc = float(maps.calcification[reg.cells].mean())
        kind = FindingKind.MASS if mass >= calc else FindingKind.CALCIFICATION
        r0, c0, r1, c1 = reg.box
        bbox = (
            float(np.clip(((c0 + off) * s + ox) * scale_x, 0, cols)),
            float(np.clip((r0 + off) * s * scale_y, 0, rows)),
            float(np.clip(((c1 + off) * s + ox) * scale_x, 0, cols)),
            float(np.clip((r1 + off) * s * scale_y, 0, rows)),
        )
        contours = measure.find_contours(np.pad(reg.cells, 1).astype(np.float32), 0.5)  # type: ignore[no-untyped-call]
        contour = np.zeros((0, 2))
        if contours:
            rc = max(contours, key=len) - 1.0  # undo the pad
            # clipped as the box: a cell centred inside the image can reach past its border (the padded grid)
            contour = np.stack(
                [
                    np.clip(((rc[:, 1] + 0.5 + off) * s + ox) * scale_x, 0, cols),
                    np.clip((rc[:, 0] + 0.5 + off) * s * scale_y, 0, rows),
                ],
                axis=1,
            )
        out.append(
            Finding(
                kind=kind,
                # 1 - p(normal) in float64: the float32 p(abnormal) of a confident peak is exactly
                # 1.0, which would tie the strongest findings of every image in a FROC analysis
                score=1.0 - float(maps.normal[reg.peak]),
                malignancy=float(maps.malignant_given_lesion[reg.peak]),
                center=(px * scale_x, py * scale_y),
                bbox=bbox,
                contour=contour.astype(np.float64),
                area_mm2=float(reg.cells.sum()) * (s * pixel_size_mm) ** 2,
            )
        )
    return out


def findings_from_maps(
    maps: ProbabilityMaps,
    prepared: PreparedImage | MapGeometry,
    threshold: float,
    *,
    max_findings: int = DEFAULT_MAX_FINDINGS,
    clip_to_window: bool = False,
) -> list[Finding]:
    """Findings of one image's maps in its stored pixel grid, best first (what detect and the viewer show).

    Peaks are kept half a patch window apart (closer ones are one lesion).  ``clip_to_window``:
    outlines within each peak's patch window (:func:`window_cells`).
    """
    regions = find_regions(maps.abnormal, threshold, min_distance=max(1, maps.window // 2), rank=abnormal_logit(maps))
    return regions_to_findings(
        regions,
        maps,
        scale_x=prepared.scale_x,
        scale_y=prepared.scale_y,
        stored_shape=prepared.stored_shape,
        pixel_size_mm=prepared.pixel_size_mm,
        max_findings=max_findings,
        clip_to_window=clip_to_window,
    )


@dataclass(frozen=True)
class MapGeometry:
    """How an image's model grid maps onto its stored grid (:class:`PreparedImage` without the pixels)."""

    scale_x: float
    scale_y: float
    stored_shape: tuple[int, int]
    pixel_size_mm: float

    @classmethod
    def of(cls, prepared: PreparedImage) -> MapGeometry:
        return cls(prepared.scale_x, prepared.scale_y, prepared.stored_shape, prepared.pixel_size_mm)
