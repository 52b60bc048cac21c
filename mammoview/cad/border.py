"""A black border beyond the edge that cuts the breast is read without it, and the results put back on the stored grid.

The networks learned from films whose chest wall lies on the image's edge (CBIS-DDSM), so the zero padding beyond
the edge is what they expect there.  A mammogram exported with a black frame (a screenshot, a secondary capture, a
film centred on a square canvas as mini-MIAS stores every image) puts a dark strip between the chest wall and the
edge: the cells at the chest wall then read differently and findings there were lost (the model card's
"Invariances": a 10 mm border lost 11 findings on 7 views).  So the CAD trims such a border first:

- **padding**: lines along an edge that are black (at most :data:`PADDING_SHARE` of their pixels above
  :data:`PADDING_LEVEL` of the presentation range, which maps the darkest value present to 0), counted from the edge;
- trimmed only where the breast is **cut** just inside them: the breast mask (on a ~1 mm copy) covers at least
  :data:`MIN_CUT_MM` of the first line past the padding and at least :data:`MIN_CUT_SHARE` of what it covers
  :data:`CUT_DEPTH_MM` further in.  A chest wall, or the top of an MLO view cut by the detector's edge, is cut
  straight; the air above a CC view ends at the skin line's arc (a few mm of chord where it meets the line, far
  more further in) and stays, as does a dark border on the nipple side, where the network saw air in training;
- a breast cut on **both** sides of the chest wall's axis (left and right; top and bottom on a view stored a quarter
  turn), with or without black lines beyond the edge, is wider than the film and cut on the nipple side too; which
  side is the chest wall is not known there (the breast mask's contact reads the wrong side on mini-MIAS
  mdb151/152), so neither border goes (trimming the nipple side's made false marks along the film's edge on mdb152,
  two at 0.98-1.0).

Only black lines go, never tissue; a view without such a border (every full-field DICOM of the test data) is read as
before at the cost of looking at a few edge lines.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from mammoview.cad.breast_mask import breast_mask
from mammoview.cad.cad_input import ImageRefused, check_extent, estimate_spacing
from mammoview.cad.resample import FloatArray, resample
from mammoview.cad.types import Finding, FindingSource, ImageCadResult
from mammoview.io.header_model import PixelSpacing
from mammoview.io.model import MammoImage

#: A padding line: at most PADDING_SHARE of its pixels above PADDING_LEVEL (presentation values, 0 the darkest
#: present; 0.024 ~ 6 of 255: a compressed export's ringing and a film scanner's dark noise stay under it).
PADDING_LEVEL = 0.024
PADDING_SHARE = 0.01
#: The breast is cut along the first line past the padding: covered over at least MIN_CUT_MM, and at least
#: MIN_CUT_SHARE of its cover CUT_DEPTH_MM further in (a skin line's arc meets a line over a few mm, 5 mm further in
#: over several cm).
MIN_CUT_MM = 20.0
MIN_CUT_SHARE = 0.7
CUT_DEPTH_MM = 5.0
#: The ~1 mm copy the cut is judged on, made only for a view with black lines along an edge: ~55 ms on a framed
#: full-field view (the block mean of 13 Mpx ~35 ms, the breast mask ~3 ms), against ~1 ms for looking at the
#: edge lines of one without.
MASK_MM = 1.0
#: Lines scanned at a time from each edge (most views have content in the first one).
CHUNK = 32


@dataclass(frozen=True)
class Border:
    """Stored lines trimmed from each edge."""

    top: int = 0
    bottom: int = 0
    left: int = 0
    right: int = 0

    def __bool__(self) -> bool:
        return any((self.top, self.bottom, self.left, self.right))

    def inner(self, image: MammoImage, presentation: FloatArray) -> tuple[MammoImage, FloatArray]:
        """The image and its presentation values without the border."""
        rows, cols = image.shape
        box = np.s_[self.top : rows - self.bottom, self.left : cols - self.right]
        stored = np.ascontiguousarray(image.stored[box])
        info = replace(image.info, rows=stored.shape[0], columns=stored.shape[1])
        return replace(image, info=info, stored=stored), np.ascontiguousarray(presentation[box])

    def on_stored_grid(self, result: ImageCadResult, shape: tuple[int, int]) -> ImageCadResult:
        """The result read on the inner image put back on the whole image's stored grid (``shape``: rows, cols)."""
        rows, cols = shape
        share = None
        if result.breast_mask_fraction is not None:
            share = result.breast_mask_fraction * (result.width * result.height) / (rows * cols)
        return replace(
            result,
            width=cols,
            height=rows,
            findings=tuple(self.finding(f) for f in result.findings),
            heatmaps={name: replace(h, x0=h.x0 + self.left, y0=h.y0 + self.top) for name, h in result.heatmaps.items()},
            source=None if result.source is None else BorderedSource(result.source, self),
            nipple=None if result.nipple is None else (result.nipple[0] + self.left, result.nipple[1] + self.top),
            breast_mask_fraction=share,
        )

    def finding(self, f: Finding) -> Finding:
        x0, y0, x1, y1 = f.bbox
        dx, dy = self.left, self.top
        contour = f.contour + np.array([dx, dy], dtype=f.contour.dtype) if len(f.contour) else f.contour
        return replace(f, center=(f.center[0] + dx, f.center[1] + dy), bbox=(x0 + dx, y0 + dy, x1 + dx, y1 + dy),
                       contour=contour)  # fmt: skip


@dataclass(frozen=True)
class BorderedSource:
    """Findings cut again at another threshold (:class:`~mammoview.cad.types.FindingSource`), put back."""

    inner: FindingSource
    border: Border

    def findings(self, threshold: float) -> tuple[Finding, ...]:
        return tuple(self.border.finding(f) for f in self.inner.findings(threshold))


def without_border(
    image: MammoImage, presentation: FloatArray, spacing: PixelSpacing | None = None
) -> tuple[Border, MammoImage, FloatArray, PixelSpacing]:
    """``image`` and its presentation values without their black border (:func:`black_border`, an empty Border for
    none), and the spacing to read them at: ``spacing``, else the file's, else estimated on what is read (the
    estimate assumes the film's height, which black rows above or below would stretch).

    What is left inside a border must be a view the CAD reads (:func:`~mammoview.cad.cad_input.check_extent`): a
    label alone on a black field passes the ~1 mm copy's breast mask and is cut straight at its top and bottom, and
    the CAD refused what was left as an image 15 mm tall ("check the pixel spacing").  Such an image is read as
    stored, where the CAD's own rules decide (the shipped detector finds no breast in it).  So is a view the CAD
    refuses as it is (a strip 1 px tall estimated at 230 mm per pixel): the ~1 mm copy of a 1.15 km wide "image"
    would take minutes before :func:`~mammoview.cad.preprocess.prepare` refused it.
    """
    sp = spacing or image.info.spacing or estimate_spacing(*image.shape)
    try:
        check_extent(image.shape, sp)
    except ImageRefused:
        return Border(), image, presentation, sp
    border = black_border(presentation, sp, quarter_turn=image.display.quarter_turn)
    if not border:
        return border, image, presentation, sp
    inner, inner_presentation = border.inner(image, presentation)
    inner_sp = spacing or image.info.spacing or estimate_spacing(*inner.shape)
    try:
        check_extent(inner.shape, inner_sp)
    except ImageRefused:
        return Border(), image, presentation, sp
    return border, inner, inner_presentation, inner_sp


def padding_lines(lines: FloatArray) -> int:
    """How many of ``lines`` (the first axis, counted from index 0) are black (:data:`PADDING_LEVEL`)."""
    n = 0
    while n < len(lines):
        chunk = lines[n : n + CHUNK]
        black = (chunk > PADDING_LEVEL).mean(axis=1) <= PADDING_SHARE
        if not black.all():
            return n + int(np.argmin(black))
        n += len(chunk)
    return n


def black_border(presentation: FloatArray, spacing: PixelSpacing, quarter_turn: bool = False) -> Border:
    """The border to trim from a view's presentation values (module docstring); an empty Border for none.

    ``quarter_turn``: the view is stored a quarter turn (:attr:`~mammoview.io.model.DisplayTransform.quarter_turn`),
    its chest wall and nipple along the top and bottom instead of the left and right.
    """
    rows, cols = presentation.shape
    pads = {
        "top": padding_lines(presentation),
        "bottom": padding_lines(presentation[::-1]),
        "left": padding_lines(presentation.T),
        "right": padding_lines(presentation[:, ::-1].T),
    }
    if not any(pads.values()) or pads["top"] + pads["bottom"] >= rows or pads["left"] + pads["right"] >= cols:
        return Border()  # nothing black along an edge, or nothing but black
    small = resample(presentation, (spacing.row_mm, spacing.col_mm), MASK_MM)
    mask = breast_mask(small, MASK_MM)
    if not mask.any():
        return Border()
    fy, fx = spacing.row_mm / MASK_MM, spacing.col_mm / MASK_MM  # small-grid lines per stored line
    cut = {
        "top": _cut(mask, pads["top"] * fy),
        "bottom": _cut(mask[::-1], pads["bottom"] * fy),
        "left": _cut(mask.T, pads["left"] * fx),
        "right": _cut(mask.T[::-1], pads["right"] * fx),
    }
    across = ("top", "bottom") if quarter_turn else ("left", "right")  # the chest wall's side and the nipple's
    if all(cut[side] for side in across):
        cut.update(dict.fromkeys(across, False))
    return Border(**{side: n if n and cut[side] else 0 for side, n in pads.items()})


def _cut(mask: np.ndarray, depth: float) -> bool:
    """The breast is cut straight along small-grid line ``depth`` (the first past the padding, 0 without one) of
    ``mask``'s rows."""
    first = math.ceil(depth)  # the first small-grid line wholly past the padding
    deeper = first + round(CUT_DEPTH_MM / MASK_MM)
    if deeper >= len(mask):
        return False
    edge, inside = float(mask[first].sum()) * MASK_MM, float(mask[deeper].sum()) * MASK_MM
    return edge >= MIN_CUT_MM and edge >= MIN_CUT_SHARE * inside
