"""Display orientation for the hanging protocol: which flips put each breast in place.

Convention (the standard mammography hanging): right-breast images on the left of the
screen, left-breast images on the right, chest walls meeting in the middle.  So a
RIGHT image shows its chest wall on the display's RIGHT side, a LEFT image on the
LEFT; CC views show the lateral side up, MLO views the head (pectoral muscle) up.

Sources, in order:

1. Patient Orientation (0020,0020) when it is a real row\\column pair (PS3.3
   C.7.6.1.1.1; IHE Mammography Image profile: LCC "A\\R", RCC "P\\L", LMLO
   "A\\FR", RMLO "P\\FL").  Row direction "A" means moving right along a row goes
   towards the nipple, i.e. the chest wall is on the stored left; "P" the opposite.
   The column direction decides the vertical flip.
2. The pixels: the chest wall is the end of the breast that is cut along most of the
   image height (by the detector edge or the film), while the nipple side tapers to
   background; see :func:`border_tissue`.  The vertical flip is never guessed from
   pixels.

The GUI applies :class:`DisplayTransform`; CAD uses :func:`chest_wall_side_stored`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

from mammoview.io.chain_model import PixelChain
from mammoview.io.model import DisplayTransform, ImageInfo, Laterality, MammoImage
from mammoview.io.pixels import to_presentation
from mammoview.io.windows import otsu_threshold

Side = Literal["left", "right"]

#: Longest side of the thumbnail used for the pixel rule.
_THUMB = 384
#: Frame cleared around the thumbnail (fraction of each side): digitised films often have
#: bright unexposed edges or scanner strips that would join everything into one blob.
_FRAME = 0.015
#: End band, as a fraction of the breast's width, where the tissue height is measured.
_BAND = 0.1
#: The chest-wall end must be taller than the other by this fraction of the image height
#: and by this ratio, else the pixels are called inconclusive.
_MARGIN = 0.1
_RATIO = 1.5
#: Border bands for the fallback cue (fractions of the width in from each edge; the
#: outermost columns often hold film edges) and the difference it needs.
_EDGE_BAND = (0.02, 0.12)
_EDGE_MARGIN = 0.5


def display_transform(image: MammoImage) -> DisplayTransform:
    """Flips that put ``image`` in the standard hanging-protocol orientation.

    Parameters
    ----------
    image : MammoImage
        A decoded image (pixels are used only when Patient Orientation is absent).

    Returns
    -------
    DisplayTransform
        ``chest_wall_side`` is where the chest wall ends up on the display;
        ``source`` says which rule decided, e.g. ``"PatientOrientation A\\R"`` or
        ``"pixel content: tissue touches the left edge"``.
    """
    info = image.info
    laterality = info.laterality.value
    if _quarter_turn(info):
        tags = f"{info.orientation.row}\\{info.orientation.column}"
        return DisplayTransform(
            source=f"PatientOrientation {tags}: stored a quarter turn, shown as stored",
            warning=f"Patient Orientation {tags} says the image is stored a quarter turn from the hanging position "
            "(chest wall along the top or bottom): shown as stored, not turned; the CAD gives no nipple distances",
            quarter_turn=True,
        )
    from_tags = _stored_side_from_orientation(info)
    warning = ""
    if from_tags is not None:
        stored_side, source = from_tags, f"PatientOrientation {info.orientation.row}\\{info.orientation.column}"
        flip_v = _vertical_flip(info)
        cue = pixel_chest_wall(image.stored, info.chain)
        if cue.side is not None and cue.side != stored_side:  # e.g. pixels mirrored by a PACS, the tag kept
            warning = (
                f"{source} puts the chest wall on the stored {stored_side}, the pixels on the {cue.side} "
                f"({cue.reason}): shown as the tag says; check the image's orientation"
            )
    else:
        cue = pixel_chest_wall(image.stored, info.chain)
        if cue.side is None:
            return DisplayTransform(source=f"{cue.reason}: shown as stored")
        stored_side, source, flip_v = cue.side, cue.reason, False
    if laterality is None:
        return DisplayTransform(
            flip_vertical=flip_v,
            chest_wall_side=stored_side,
            source=f"{source}; laterality unknown, not flipped",
            warning=warning,
        )
    wanted: Side = "right" if laterality is Laterality.RIGHT else "left"
    flip_h = stored_side != wanted
    return DisplayTransform(flip_horizontal=flip_h, flip_vertical=flip_v, chest_wall_side=wanted, source=source,
                            warning=warning)  # fmt: skip


def chest_wall_side_stored(image: MammoImage) -> Side:
    """Side of the STORED grid the chest wall is on (for pectoral-muscle removal).

    Patient Orientation's row direction when present, else the pixel cues; when they
    are inconclusive, the breast end with more tissue height.
    """
    from_tags = _stored_side_from_orientation(image.info)
    if from_tags is not None:
        return from_tags
    cue = pixel_chest_wall(image.stored, image.info.chain)
    if cue.side is not None:
        return cue.side
    left, right = cue.end_heights
    return "left" if left >= right else "right"


@dataclass(frozen=True)
class PixelCue:
    """What the pixels say about the stored chest-wall side, with the measurements."""

    side: Side | None
    reason: str
    end_heights: tuple[float, float]  # tissue height at the breast's left / right end
    edge_tissue: tuple[float, float]  # tissue fraction in the left / right border bands


def pixel_chest_wall(stored: npt.NDArray[np.generic], chain: PixelChain) -> PixelCue:
    """Stored chest-wall side from the pixels of a thumbnail.

    1. Breast ends: Otsu's tissue mask without a thin frame (film edges and scanner
       strips), its largest connected component (the breast; labels and markers are
       separate blobs), and the mean fraction of rows covered in the outer tenth of
       the breast's column extent on each side.  The chest wall cuts the breast along
       most of the image height; the nipple side tapers.  This works whether the breast
       touches the image border (digital, CBIS-DDSM) or not (padded mini-MIAS).
    2. If that is inconclusive: the border bands (2-12 % of the width in from each
       edge), median tissue fraction over rows; must differ by half the height.
    """
    from scipy import ndimage  # only needed when decoding; keeps `mammoview info` light

    step = max(1, int(np.ceil(max(stored.shape) / _THUMB)))
    thumb = to_presentation(np.ascontiguousarray(stored[::step, ::step]), chain, None)  # not the header window
    if thumb.size == 0 or float(thumb.max()) <= float(thumb.min()):
        return PixelCue(None, "pixel content inconclusive (flat image)", (0.0, 0.0), (0.0, 0.0))
    tissue = thumb > otsu_threshold(thumb)
    rows, cols = tissue.shape
    edges = _edge_tissue(tissue)
    fr, fc = max(1, round(_FRAME * rows)), max(1, round(_FRAME * cols))
    inner = tissue.copy()
    inner[:fr], inner[-fr:], inner[:, :fc], inner[:, -fc:] = False, False, False, False
    labels, n = ndimage.label(inner)
    ends = (0.0, 0.0)
    if n:
        breast = labels == (int(np.argmax(np.bincount(labels.ravel())[1:])) + 1)
        profile = breast.mean(axis=0)
        present = np.flatnonzero(profile > 0)
        x0, x1 = int(present[0]), int(present[-1]) + 1
        band = max(1, round(_BAND * (x1 - x0)))
        ends = (float(profile[x0 : x0 + band].mean()), float(profile[x1 - band : x1].mean()))
    lo, hi = sorted(ends)
    if hi - lo >= _MARGIN and hi >= _RATIO * lo:
        side: Side = "left" if ends[0] > ends[1] else "right"
        return PixelCue(side, f"pixel content: the breast is cut off at its {side} end (chest wall)", ends, edges)
    if abs(edges[0] - edges[1]) >= _EDGE_MARGIN:
        side = "left" if edges[0] > edges[1] else "right"
        return PixelCue(side, f"pixel content: tissue touches the {side} edge", ends, edges)
    return PixelCue(None, "pixel content inconclusive", ends, edges)


def _edge_tissue(tissue: npt.NDArray[np.bool_]) -> tuple[float, float]:
    """Median over rows (with tissue on either side) of the tissue fraction in each border band."""
    cols = tissue.shape[1]
    a = round(_EDGE_BAND[0] * cols)
    b = max(round(_EDGE_BAND[1] * cols), a + 1)
    left = tissue[:, a:b].mean(axis=1)
    right = tissue[:, cols - b : cols - a].mean(axis=1)
    rows = (left > 0) | (right > 0)
    if not rows.any():
        return 0.0, 0.0
    return float(np.median(left[rows])), float(np.median(right[rows]))


def _quarter_turn(info: ImageInfo) -> bool:
    """Patient Orientation's column, not its row, runs anterior/posterior: the chest wall is at the top or bottom."""
    row, column = info.orientation.row, info.orientation.column
    return bool(column) and ("A" in column or "P" in column) and "A" not in row and "P" not in row


def _stored_side_from_orientation(info: ImageInfo) -> Side | None:
    row = info.orientation.row
    if "A" in row and "P" not in row:
        return "left"  # moving right goes anterior: the chest wall (posterior) is on the left
    if "P" in row and "A" not in row:
        return "right"
    return None


def _vertical_flip(info: ImageInfo) -> bool:
    """From the column direction: CC shows lateral up, MLO the head up (PS3.3 C.8.11.7 figures)."""
    column = info.orientation.column
    slot = info.projection.value.slot if info.projection.value is not None else None
    if slot is not None and slot.value == "MLO":
        return "H" in column  # moving down goes to the head: head is at the bottom
    if slot is not None and slot.value == "CC":
        lat = info.laterality.value
        if lat is None:
            return False
        return lat.value in column  # moving down goes lateral ("R" for a right breast): lateral at the bottom
    return False
