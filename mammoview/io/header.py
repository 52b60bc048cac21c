"""A DICOM header parsed into typed values: spacing, orientation, identifiers (the pixel chain:
:mod:`mammoview.io.chain`).

Pure functions of a pydicom ``Dataset`` (read with or without pixels).  Invalid
optional values are dropped with a warning naming the tag, never a failure: a
mammogram with a broken window still opens with the default window.
"""

from __future__ import annotations

import math
from typing import Any

from mammoview.io.header_model import ImageMeta, Orientation, PixelSpacing
from mammoview.io.tags import (
    date_and_time,
    dicom_datetime,
    float_or_none,
    functional_group_items,
    int_or_none,
    multi_values,
    unusable_number,
)
from mammoview.io.views import view_modifiers

_ORIENTATION_LETTERS = frozenset("APRLHF")


#: Estimated Radiographic Magnification Factors taken as such: contact views ~1.0-1.2, magnification views ~1.5-2
MAGNIFICATION_RANGE = (0.9, 4.0)


def pixel_spacing(ds: Any, warnings: list[str]) -> PixelSpacing | None:
    """Pixel spacing in mm and which attribute gave it.

    Pixel Spacing (0028,0030) (top level, else the Pixel Measures functional group),
    else Imager Pixel Spacing (0018,1164), which is measured at the detector plane
    (PS3.3 C.8.11.4): divided by Estimated Radiographic Magnification Factor
    (0018,1114) when present, else reported as uncorrected for magnification.  A Pixel
    Spacing with the values of Imager Pixel Spacing and no Pixel Spacing Calibration Type
    (0028,0A02) is no correction (PS3.3 10.7.1.1): it is read as Imager Pixel Spacing, so
    an exposure measures the same whether or not the modality copied one into the other.
    Else Nominal Scanned Pixel Spacing (0018,2010), a digitised film's (PS3.3 C.8.6.1).
    Values are (row spacing, column spacing), PS3.3 10.7.1.3.
    """
    candidates: list[tuple[Any, str]] = [(ds.get("PixelSpacing"), "PixelSpacing (0028,0030)")]
    for where, item in functional_group_items(ds, "PixelMeasuresSequence"):
        candidates.append((item.get("PixelSpacing"), f"PixelSpacing (0028,0030) in {where}"))
    imager = _spacing_pair(ds.get("ImagerPixelSpacing"), "ImagerPixelSpacing (0018,1164)", warnings)
    calibrated = bool(str(ds.get("PixelSpacingCalibrationType", "") or "").strip())
    for value, source in candidates:
        pair = _spacing_pair(value, source, warnings)
        if pair is not None:
            if (source == candidates[0][1] and imager is not None and not calibrated
                    and all(math.isclose(a, b, rel_tol=1e-6) for a, b in zip(pair, imager, strict=True))):  # fmt: skip
                break  # the detector's spacing, not corrected for magnification (PS3.3 10.7.1.1)
            return PixelSpacing(pair[0], pair[1], source)
    pair = imager
    if pair is None:
        scanned = _spacing_pair(ds.get("NominalScannedPixelSpacing"), "NominalScannedPixelSpacing (0018,2010)",
                                warnings)  # fmt: skip
        if scanned is None:
            return None
        return PixelSpacing(scanned[0], scanned[1],
                            "NominalScannedPixelSpacing (0018,2010) (on the scanned film, not corrected for "
                            "magnification)", at_detector=True)  # fmt: skip
    factor = float_or_none(ds.get("EstimatedRadiographicMagnificationFactor"))
    raw = ds.get("EstimatedRadiographicMagnificationFactor")
    if (factor is None and unusable_number(ds, "EstimatedRadiographicMagnificationFactor")) or (
        factor is not None and not MAGNIFICATION_RANGE[0] <= factor <= MAGNIFICATION_RANGE[1]
    ):
        lo, hi = MAGNIFICATION_RANGE
        warnings.append(f"(0018,1114) Estimated Radiographic Magnification Factor {raw!r} is not a magnification "
                        f"({lo:g} to {hi:g}); ignored")  # fmt: skip
        factor = None
    if factor is not None:
        return PixelSpacing(
            pair[0] / factor,
            pair[1] / factor,
            f"ImagerPixelSpacing (0018,1164) / EstimatedRadiographicMagnificationFactor (0018,1114) {factor:g}"
            " (corrected to the breast plane)",
        )
    return PixelSpacing(
        pair[0],
        pair[1],
        "ImagerPixelSpacing (0018,1164) (at the detector, not corrected for magnification)",
        at_detector=True,
    )


def _magnification(ds: Any) -> float | None:
    """Estimated Radiographic Magnification Factor (0018,1114) when it is one (:data:`MAGNIFICATION_RANGE`): a value
    :func:`pixel_spacing` ignores as no magnification (a distance in its place) makes no magnification view either."""
    factor = float_or_none(ds.get("EstimatedRadiographicMagnificationFactor"))
    lo, hi = MAGNIFICATION_RANGE
    return factor if factor is not None and lo <= factor <= hi else None


def orientation(ds: Any) -> Orientation:
    """Patient Orientation (0020,0020) as (row, column) directions (PS3.3 C.7.6.1.1.1).

    Only a real pair of direction letters (A, P, R, L, H, F) counts; CBIS-DDSM's single
    "CC"/"MLO" is a view, not an orientation, and is reported as such.
    """
    values, where = multi_values(ds.get("PatientOrientation")), ""
    if not values:  # a tomosynthesis volume (Enhanced MG too): the Patient Orientation in Frame functional group
        for group, item in functional_group_items(ds, "PatientOrientationInFrameSequence"):
            if values := multi_values(item.get("PatientOrientation")):
                where = f" in {group}"
                break
    if not values:
        return Orientation()
    if len(values) == 2 and all(v and set(v) <= _ORIENTATION_LETTERS for v in values):
        return Orientation(values[0], values[1], f"PatientOrientation (0020,0020){where}")
    shown = "\\".join(values)
    return Orientation("", "", f"PatientOrientation (0020,0020){where} {shown!r} is not a row\\column pair")


def image_meta(ds: Any) -> ImageMeta:
    """Identifying fields, as text ('' when absent)."""

    def text(keyword: str) -> str:
        value = ds.get(keyword)
        return "" if value is None else str(value).strip()

    return ImageMeta(
        patient_name=text("PatientName"),
        patient_id=text("PatientID"),
        patient_birth_date=text("PatientBirthDate"),
        patient_sex=text("PatientSex"),
        study_uid=text("StudyInstanceUID"),
        series_uid=text("SeriesInstanceUID"),
        sop_uid=text("SOPInstanceUID"),
        study_date=text("StudyDate"),
        study_description=text("StudyDescription"),
        accession=text("AccessionNumber"),
        modality=text("Modality"),
        manufacturer=text("Manufacturer"),
        institution=text("InstitutionName"),
        body_part=text("BodyPartExamined"),
        instance_number=int_or_none(_value_or_none(ds, "InstanceNumber")),
        acquired=_acquired(ds),
        presentation_intent=presentation_intent(ds),
        view_modifiers=view_modifiers(ds),
        magnification_factor=_magnification(ds),
        implant_present=text("BreastImplantPresent").upper() == "YES",
        partial_view=text("PartialView").upper() == "YES",
        tomosynthesis=text("SOPClassUID") in TOMOSYNTHESIS_CLASSES,
        # Value 4 by PS3.3 C.8.11.7.1.4 (Value 3 TOMOSYNTHESIS); looked for anywhere, as an empty Value 3 may be
        # left out by a writer. Images made before the term was defined (or contrast-enhanced ones, whose Value 4
        # names the contrast) may not say it: they stay ordered as exposures
        synthesized="GENERATED_2D" in multi_values(_value_or_none(ds, "ImageType")),
    )


#: The "For Processing" SOP Classes of digital X-ray, mammography and intra-oral images (PS3.4 B.5), and their
#: "For Presentation" twins: their Presentation Intent Type (0008,0068) when a file lacks one.
FOR_PROCESSING_CLASSES = frozenset({"1.2.840.10008.5.1.4.1.1.1.1.1", "1.2.840.10008.5.1.4.1.1.1.2.1",
                                    "1.2.840.10008.5.1.4.1.1.1.3.1"})  # fmt: skip
FOR_PRESENTATION_CLASSES = frozenset({"1.2.840.10008.5.1.4.1.1.1.1", "1.2.840.10008.5.1.4.1.1.1.2",
                                      "1.2.840.10008.5.1.4.1.1.1.3"})  # fmt: skip


#: Breast Tomosynthesis Image Storage and Breast Projection X-Ray Image Storage (presentation, processing): the
#: multi-frame SOP Classes of a tomosynthesis exam (PS3.4 B.5), besides its 2-D and synthesized 2-D images.
TOMOSYNTHESIS_CLASSES = frozenset({"1.2.840.10008.5.1.4.1.1.13.1.3", "1.2.840.10008.5.1.4.1.1.13.1.4",
                                   "1.2.840.10008.5.1.4.1.1.13.1.5"})  # fmt: skip


#: SOP Class UID prefixes of DICOM objects without pixels that PACS exports put beside the images (PS3.4 B.5).
NON_IMAGE_CLASSES = (
    ("1.2.840.10008.5.1.4.1.1.88.", "structured report or key object selection (e.g. a CAD SR)"),
    ("1.2.840.10008.5.1.4.1.1.11.", "presentation state"),
    ("1.2.840.10008.5.1.4.1.1.104.", "encapsulated document"),
    ("1.2.840.10008.5.1.4.1.1.66", "raw data or registration object"),
    ("1.2.840.10008.5.1.4.1.1.9.", "waveform"),
    # radiotherapy objects without pixels (structure set, plans, treatment records; RT Image and Dose have pixels)
    *((f"1.2.840.10008.5.1.4.1.1.481.{n}", "radiotherapy object") for n in (3, 4, 5, 6, 7, 8, 9)),
)


def _acquired(ds: Any) -> str:
    """When the image was taken (:attr:`ImageMeta.acquired`): the General Image Module's Acquisition DateTime, else
    Acquisition Date + Time, else Content Date + Time (PS3.3 C.7.6.1), the first that has a time."""
    return (dicom_datetime(_value_or_none(ds, "AcquisitionDateTime"))
            or date_and_time(_value_or_none(ds, "AcquisitionDate"), _value_or_none(ds, "AcquisitionTime"))
            or date_and_time(_value_or_none(ds, "ContentDate"), _value_or_none(ds, "ContentTime")))  # fmt: skip


def non_image_object(ds: Any) -> str:
    """What kind of non-image DICOM object ``ds`` is, by its SOP Class UID, or ``""``."""
    sop_class = str(ds.get("SOPClassUID", "") or "").strip()
    return next((kind for prefix, kind in NON_IMAGE_CLASSES if sop_class.startswith(prefix)), "")


def presentation_intent(ds: Any) -> str:
    """``"FOR PROCESSING"`` (raw detector data), ``"FOR PRESENTATION"``, or ``""`` when neither is stated."""
    value = str(ds.get("PresentationIntentType", "") or "").strip().upper()
    if value in ("FOR PROCESSING", "FOR PRESENTATION"):
        return value
    sop_class = str(ds.get("SOPClassUID", "") or "").strip()
    if sop_class in FOR_PROCESSING_CLASSES:
        return "FOR PROCESSING"
    return "FOR PRESENTATION" if sop_class in FOR_PRESENTATION_CLASSES else ""


def _spacing_pair(value: Any, source: str, warnings: list[str]) -> tuple[float, float] | None:
    if value is None:
        return None
    try:
        nums = [float(v) for v in (value if hasattr(value, "__iter__") and not isinstance(value, str) else [value])]
    except (TypeError, ValueError):
        warnings.append(f"{source} {value!r} is not numeric; ignored")
        return None
    if len(nums) == 1:
        nums = nums * 2
    if len(nums) != 2 or not all(n > 0 and math.isfinite(n) for n in nums):
        warnings.append(f"{source} {value!r} must be two finite values > 0; ignored")
        return None
    return nums[0], nums[1]


def _value_or_none(ds: Any, keyword: str) -> Any:
    """``ds.get(keyword)``, or None where pydicom cannot convert the value (an IS of 'inf' raises OverflowError): an
    optional attribute's bad value is no reason to refuse the image."""
    try:
        return ds.get(keyword)
    except (ValueError, OverflowError, TypeError):
        return None
