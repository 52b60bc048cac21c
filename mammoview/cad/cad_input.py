"""What the CAD takes as input: the images it refuses and why, the spacing assumed when a file has none, and the
notes it says of a view it reads.
"""

from __future__ import annotations

from mammoview.io.header_model import PixelSpacing
from mammoview.io.model import MAX_EXTENT_MM, MIN_EXTENT_MM, ImageInfo, MammoImage

#: Assumed physical image height when a file carries no pixel spacing (film/detector ~24 cm).
ASSUMED_IMAGE_HEIGHT_MM = 230.0
#: Largest side the CAD accepts (io's limit, which the readers warn about): mammography films and detectors are at
#: most ~30 cm; a wider image means a wrong spacing (or no mammogram), and resampling it could exhaust memory.  Below
#: MIN_EXTENT_MM (mm, the smaller side) or MIN_SIDE_PX pixels a side, an image is no whole-breast mammogram either.
MIN_SIDE_PX = 32


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


#: What the CAD says of a view in which :func:`~mammoview.cad.breast_mask.breast_mask` finds no breast (its scores 0
#: mean nothing was read).
NO_BREAST_NOTE = (
    "no breast found in the image (an empty field, a blank exposure, a label or a marker only): the CAD read nothing, "
    "its scores of 0 are no normal reading"
)


#: What the CAD says of a view whose file reports a breast implant (analysed, but not validated on such images).
IMPLANT_NOTE = (
    "breast implant present (BreastImplantPresent (0028,1300) YES): the CAD was not validated on images with "
    "implants: read its marks and scores on this view with care"
)

#: What the CAD says of a synthesized 2-D view (Image Type GENERATED_2D: computed from tomosynthesis data, not an
#: exposure): analysed, but the networks were trained on digitised screen-film exposures only.
SYNTHESIZED_NOTE = (
    "synthesized 2-D view (Image Type (0008,0008) GENERATED_2D): the CAD was trained on screen-film exposures, not "
    "on images generated from tomosynthesis: read its marks and scores on this view with care"
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
