"""What an image's header says besides its pixel chain, as typed values: pixel spacing, Patient Orientation and the
identifying and descriptive fields.

Frozen dataclasses, no Qt, no torch: :mod:`mammoview.io.header` parses them from a DICOM header.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PixelSpacing:
    """Physical size of one stored pixel in millimetres (row = vertical, col = horizontal)."""

    row_mm: float
    col_mm: float
    source: str  # e.g. "PixelSpacing (0028,0030)", "ImagerPixelSpacing (0018,1164)", "--pixel-spacing option"
    #: a guess (the file had none and no --pixel-spacing was given), not a measurement
    estimated: bool = False
    #: at the detector (or the scanned film), not corrected for the geometric magnification: a length through the
    #: breast reads larger by it (~1.1 on a contact view, 1.5-2 on a magnification view)
    at_detector: bool = False

    def __post_init__(self) -> None:
        if not (self.row_mm > 0 and self.col_mm > 0):
            raise ValueError(f"pixel spacing must be > 0 mm, got {self.row_mm} x {self.col_mm} ({self.source})")

    @property
    def isotropic(self) -> bool:
        return abs(self.row_mm - self.col_mm) <= 1e-3 * max(self.row_mm, self.col_mm)


@dataclass(frozen=True)
class Orientation:
    """Patient Orientation (0020,0020): direction of the rows and of the columns.

    ``row`` is where moving right along a row goes in the patient (e.g. "A", "P"),
    ``column`` where moving down a column goes (e.g. "F", "R", "FL").  Empty strings
    when the tag is absent or non-standard (CBIS-DDSM writes "CC"/"MLO" there).
    """

    row: str = ""
    column: str = ""
    source: str = "absent"


@dataclass(frozen=True)
class ImageMeta:
    """Identifying and descriptive header fields (DICOM or best effort for rasters)."""

    patient_name: str = ""
    patient_id: str = ""
    patient_birth_date: str = ""
    patient_sex: str = ""
    study_uid: str = ""
    series_uid: str = ""
    sop_uid: str = ""
    study_date: str = ""
    study_description: str = ""
    accession: str = ""
    modality: str = ""
    manufacturer: str = ""
    institution: str = ""
    body_part: str = ""
    instance_number: int | None = None  # (0020,0013); orders a view's exposures where no time does
    #: when the image was taken, ``YYYYMMDDHHMMSS.ffffff`` (tags.dicom_datetime): Acquisition DateTime (0008,002A),
    #: else Acquisition Date (0008,0022) + Time (0008,0032), else Content Date (0008,0023) + Time (0008,0033); ""
    #: when none has a time.  The latest of a view's exposures (a retake) hangs.
    acquired: str = ""
    #: "FOR PRESENTATION" or "FOR PROCESSING" (raw detector data): (0008,0068), else the SOP Class; "" unknown
    presentation_intent: str = ""
    #: CID 4015 view modifiers (0054,0222), e.g. ("spot compression", "magnification"); views.view_modifiers
    view_modifiers: tuple[str, ...] = ()
    #: Estimated Radiographic Magnification Factor (0018,1114): ~1.0-1.2 on contact views, 1.5-2 on magnified ones
    magnification_factor: float | None = None
    implant_present: bool = False  # Breast Implant Present (0028,1300) is YES
    partial_view: bool = False  # Partial View (0028,1350) is YES: one of several exposures covering the breast
    tomosynthesis: bool = False  # a Breast Tomosynthesis / Projection X-Ray SOP Class (a DBT volume or its projections)
    #: Image Type (0008,0008) holds GENERATED_2D: a synthesized 2-D mammogram computed from tomosynthesis data (Hologic
    #: C-View, GE V-Preview, Siemens Insight 2D; PS3.3 C.8.11.7.1.4, Table C.8-74d), not an exposure
    synthesized: bool = False

    @property
    def for_processing(self) -> bool:
        return self.presentation_intent == "FOR PROCESSING"

    @property
    def close_up(self) -> str:
        """What makes this a diagnostic close-up (spot compression / magnification view), or ``""``.

        A magnification view is named by its view modifier, else by a magnification factor of at
        least :data:`CLOSE_UP_MAGNIFICATION` (contact views are taken at ~1.0-1.2).
        """
        named = [m for m in self.view_modifiers if m in ("spot compression", "magnification")]
        if named:
            return " and ".join(named) + " view (ViewModifierCodeSequence (0054,0222))"
        factor = self.magnification_factor
        if factor is not None and factor >= CLOSE_UP_MAGNIFICATION:
            return f"magnification view (EstimatedRadiographicMagnificationFactor (0018,1114) {factor:g})"
        return ""


#: Magnification factor from which an image without a view modifier counts as a magnification view.
CLOSE_UP_MAGNIFICATION = 1.4
