"""CAD findings as a DICOM Structured Report, for a PACS or a DICOM viewer (OHIF reads it).

One Comprehensive SR per DICOM study (a viewer study spanning several Study Instance UIDs, as CBIS-DDSM's one per
view, gets one per UID: :func:`by_dicom_study`), with a TID 1500 *Measurement Report* (built with
highdicom): each finding is a planar ROI group -- the mass outline as a closed
POLYLINE, or the centre as a POINT for a calcification cluster or a mass without
an outline -- in the stored pixel grid of the image it was found on (DICOM SCOORD
coordinates: column, row), referencing that image by its SOP Instance UID.  Its finding
type is SCT *Mass* or *Calcification Cluster*, its finding site the left or right
breast, and it carries two measurements: DCM *Certainty of Finding* (the finding's
score) and DCM *Probability of cancer* (its malignancy), both 0-1, with the model as
the algorithm.  Per-image scores follow as measurement groups of their own, and, when the
density network ran, each breast's BI-RADS composition (DCM *Breast composition*).  An image in which no breast
was found gets no scores (the detector's 0 there is no normal reading), only the reason, as an algorithm parameter;
the marks and scores of a view with a breast implant, or of a synthesized 2-D view (Image Type GENERATED_2D), carry
the viewer's warning there.

This is TID 1500, not the Mammography CAD SR of TID 4000 (which highdicom does not
build); the SR is marked PARTIAL and UNVERIFIED, its series description says
"research use only", and the device observer is the model.  Only DICOM images can be
referenced: a study with a PNG or JPEG image raises :class:`SrError` naming it.
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path

import highdicom as hd
import numpy as np
import pydicom
from pydicom.sr.codedict import codes
from pydicom.uid import generate_uid

from mammoview.cad import sr_tables
from mammoview.cad.cad_input import IMPLANT_NOTE, SYNTHESIZED_NOTE
from mammoview.cad.types import BreastScore, Finding, FindingKind, ImageCadResult, ModelInfo
from mammoview.io.dicom import has_dicom_preamble
from mammoview.io.files import atomic_write_bytes
from mammoview.io.model import Laterality

SERIES_DESCRIPTION = "mammoview CAD findings (research use only)"
SERIES_NUMBER = 9901
MANUFACTURER = "mammoview"
#: the algorithm parameter of an image in which no breast was found, which has no scores in the SR
NOT_READ = "no breast found: the CAD read nothing in this image (no scores)"
_UNITLESS = codes.UCUM.NoUnits
_FINDING_TYPE = {FindingKind.MASS: codes.SCT.Mass, FindingKind.CALCIFICATION: codes.SCT.CalcificationCluster}
_BREAST = {"L": codes.SCT.LeftBreast, "R": codes.SCT.RightBreast}
_COMPOSITION = {
    "a": codes.SCT.AlmostEntirelyFat,  # CID 6000's meaning; ...BreastComposition is "... (finding)"
    "b": codes.SCT.ScatteredFibroglandularDensities,
    "c": codes.SCT.HeterogeneouslyDense,
    "d": codes.SCT.ExtremelyDense,
}
#: Type 2 attributes the SR copies from its evidence: present (maybe empty) in every valid image,
#: missing in some real files; filled in empty so that the SR can still be written.
_TYPE2 = ("PatientName", "PatientID", "PatientBirthDate", "PatientSex", "StudyDate", "StudyTime",
          "ReferringPhysicianName", "StudyID", "AccessionNumber")  # fmt: skip
#: The SR's own character set: UTF-8 holds every name of every source character set (a Japanese or Korean
#: source's "\ISO 2022 IR 87" is refused by highdicom) and any file name in a tracking identifier.
_CHARSET = "ISO_IR 192"


class SrError(ValueError):
    """A study cannot be written as a DICOM SR (a one-line reason)."""


def _header(path: str) -> pydicom.Dataset:
    try:
        with open(path, "rb") as fp:  # as the reader does: a file without the DICM preamble is read forced
            preamble = has_dicom_preamble(fp.read(132))
            fp.seek(0)
            ds = pydicom.dcmread(fp, stop_before_pixels=True, force=not preamble)
        if not preamble and ("Rows" not in ds or "Columns" not in ds):
            raise pydicom.errors.InvalidDicomError("no DICM prefix and no Rows/Columns")
    except OSError as exc:
        raise SrError(f"{path}: cannot be read ({exc})") from None
    except Exception as exc:  # InvalidDicomError, or what a forced read of a non-DICOM file raises
        raise SrError(f"{path}: not a DICOM file ({exc}); a DICOM SR can only reference DICOM images") from None
    for kw in ("SOPClassUID", "SOPInstanceUID", "SeriesInstanceUID", "StudyInstanceUID"):  # (the evidence: Type 1)
        if not str(ds.get(kw, "") or "").strip():  # missing or empty (blanked by an anonymiser)
            raise SrError(f"{path}: no {kw}; a DICOM SR cannot reference this image")
    for kw in _TYPE2:
        if kw not in ds:
            setattr(ds, kw, "")
    with warnings.catch_warnings():  # pydicom warns of the invalid values found here, which are emptied
        warnings.simplefilter("ignore", UserWarning)
        for kw, vr in (("PatientBirthDate", "DA"), ("StudyDate", "DA"), ("StudyTime", "TM")):
            if not _valid(ds[kw].value, vr):  # "2016-10-04", "13:25:32": highdicom refuses the whole SR
                setattr(ds, kw, "")
        if str(ds.PatientSex or "") not in ("", "M", "F", "O"):  # "Female", "W"
            ds.PatientSex = ""
    return ds


def _valid(value: object, vr: str) -> bool:
    if value is None or str(value) == "":
        return True
    try:
        (pydicom.valuerep.DA if vr == "DA" else pydicom.valuerep.TM)(str(value), validation_mode=2)
        return True
    except ValueError:
        return False


def _region(f: Finding, source: hd.sr.SourceImageForRegion) -> hd.sr.ImageRegion:
    if f.kind is FindingKind.MASS and len(f.contour) >= 3:
        pts = np.asarray(f.contour, dtype=np.float64)
        # closed: the last point repeats the first (find_contours' outlines already do: not repeated twice)
        data = pts if np.array_equal(pts[0], pts[-1]) else np.vstack([pts, pts[:1]])
        return hd.sr.ImageRegion(hd.sr.GraphicTypeValues.POLYLINE, data, source)
    return hd.sr.ImageRegion(hd.sr.GraphicTypeValues.POINT, np.array([f.center], dtype=np.float64), source)


def _scores(certainty: float, cancer: float, algorithm: hd.sr.AlgorithmIdentification,
            cancer_algorithm: hd.sr.AlgorithmIdentification | None = None) -> list[hd.sr.Measurement]:  # fmt: skip
    """Certainty of finding (the detector) and probability of cancer (``cancer_algorithm``: a second stage, if any)."""
    return [
        hd.sr.Measurement(codes.DCM.CertaintyOfFinding, float(certainty), _UNITLESS, algorithm_id=algorithm),
        hd.sr.Measurement(
            codes.DCM.ProbabilityOfCancer, float(cancer), _UNITLESS, algorithm_id=cancer_algorithm or algorithm
        ),
    ]


def _sites(r: ImageCadResult) -> list[hd.sr.FindingSite]:
    lat = r.view.laterality.value if r.view is not None else None
    return [hd.sr.FindingSite(_BREAST[lat])] if lat in _BREAST else []


def study_sr(
    results: Sequence[ImageCadResult],
    model: ModelInfo,
    breasts: Mapping[Laterality, BreastScore] | None = None,
    density_model: ModelInfo | None = None,
    malignancy_model: ModelInfo | None = None,
    raw_malignancy: bool = False,
) -> hd.sr.ComprehensiveSR:
    """The SR of one study's CAD results (``results``: the images of that study, DICOM files).

    ``malignancy_model``: the second-stage network that gave the malignancy (the algorithm of
    each *Probability of cancer*; None: the detector's own head).  The algorithms' parameters say
    the findings' threshold and whether the malignancy is calibrated (``raw_malignancy``: the
    network's own output, as ``detect --raw-malignancy`` gives it).

    With ``breasts`` carrying a density (and ``density_model``), each breast's BI-RADS
    composition is added as a qualitative evaluation: DCM *Breast composition* = SCT *Almost
    entirely fat breast composition* ... *Extremely dense breast composition*, finding site the
    breast, algorithm the density model.

    Raises
    ------
    SrError
        No result, an image that is not a DICOM file with SOP, series and study UIDs, or headers
        highdicom refuses (its reason, in one line).
    """
    if not results:
        raise SrError("no CAD result to report")
    results, headers = _one_per_instance(results, [_header(r.path) for r in results])
    sr_tables.preload()  # (the first SR of a process: highdicom's attribute table, read without holding the GIL long)
    try:
        with warnings.catch_warnings():  # single-component patient names (CBIS-DDSM) are the source's business
            warnings.filterwarnings("ignore", message=".*intended person name.*", category=UserWarning)
            sr_groups = _density_groups(breasts or {}, density_model)
            return _build(results, headers, model, sr_groups, malignancy_model, raw_malignancy)
    except KeyError as exc:  # highdicom knows no IOD of the image's SOP class (a vendor's private one, a retired one)
        raise SrError(f"cannot build the SR: {exc.args[0] if exc.args else exc}") from None
    except (ValueError, TypeError, AttributeError) as exc:
        raise SrError(f"cannot build the SR: {type(exc).__name__}: {exc}") from None


def _one_per_instance(
    results: Sequence[ImageCadResult], headers: list[pydicom.Dataset]
) -> tuple[list[ImageCadResult], list[pydicom.Dataset]]:
    """Each SOP Instance UID once: a copy of an image (the same result) is left out, so that its findings are not
    reported twice; two different images under one UID (a broken export) raise :class:`SrError`, since the SR
    references images by that UID alone and would put one image's findings on the other."""
    kept: dict[str, ImageCadResult] = {}
    out_r, out_h = [], []
    for r, ds in zip(results, headers, strict=True):
        uid = str(ds.SOPInstanceUID)
        first = kept.get(uid)
        if first is None:
            kept[uid] = r
            out_r.append(r)
            out_h.append(ds)
        elif _signature(first) != _signature(r):
            raise SrError(f"{first.path} and {r.path} share SOP Instance UID {uid}: a DICOM SR cannot tell on which "
                          "of these images its findings are")  # fmt: skip
    return out_r, out_h


def _signature(r: ImageCadResult) -> tuple[object, ...]:
    """What two analyses of one image share (rounded: a GPU need not repeat the last bits)."""
    return (r.width, r.height, round(r.abnormal, 4), round(r.malignant, 4),
            tuple((f.kind, round(f.score, 4), round(f.center[0]), round(f.center[1])) for f in r.findings))  # fmt: skip


def by_dicom_study(results: Sequence[ImageCadResult]) -> list[tuple[str, list[ImageCadResult]]]:
    """``results`` split by their files' Study Instance UID, in order: an SR belongs to one DICOM study and patient,
    and mammoview's study can span several (CBIS-DDSM gives each view its own UID and Patient ID; the viewer
    groups them by patient).  A file that cannot be read stays with the first part, to be reported there."""
    parts: dict[str, list[ImageCadResult]] = {}
    for r in results:
        try:
            uid = str(_header(r.path).StudyInstanceUID)
        except SrError:
            uid = next(iter(parts), "")
        parts.setdefault(uid, []).append(r)
    return list(parts.items())


def breasts_of(
    results: Sequence[ImageCadResult], breasts: Mapping[Laterality, BreastScore] | None
) -> dict[Laterality, BreastScore]:
    """The breasts of ``breasts`` that ``results`` have images of (a part's SR reports only on its breasts)."""
    sides = {r.view.laterality for r in results if r.view is not None}
    return {side: score for side, score in (breasts or {}).items() if side in sides}


def _density_groups(
    breasts: Mapping[Laterality, BreastScore], model: ModelInfo | None
) -> list[hd.sr.MeasurementsAndQualitativeEvaluations]:
    if model is None:
        return []
    algorithm = hd.sr.AlgorithmIdentification(name=model.name, version=model.version, manufacturer=MANUFACTURER)
    out = []
    for lat, b in sorted(breasts.items(), key=lambda kv: kv[0].value):
        if b.density is None or lat.value not in _BREAST:
            continue
        out.append(hd.sr.MeasurementsAndQualitativeEvaluations(
            tracking_identifier=hd.sr.TrackingIdentifier(uid=generate_uid(), identifier=f"{lat.value} breast density"),
            algorithm_id=algorithm, finding_sites=[hd.sr.FindingSite(_BREAST[lat.value])],
            qualitative_evaluations=[hd.sr.QualitativeEvaluation(codes.DCM.BreastComposition,
                                                                 _COMPOSITION[b.density.category])],
        ))  # fmt: skip
    return out


def _build(
    results: Sequence[ImageCadResult],
    headers: list[pydicom.Dataset],
    model: ModelInfo,
    extra: Sequence[hd.sr.MeasurementsAndQualitativeEvaluations] = (),
    malignancy_model: ModelInfo | None = None,
    raw_malignancy: bool = False,
) -> hd.sr.ComprehensiveSR:
    name, version = model.name, model.version
    if model.verifier is not None:  # the findings' certainty is the two networks' together
        name, version = f"{name} + {model.verifier.name}", f"{version} + {model.verifier.version}"
    # how to read the numbers: the cut of the findings, and what the probability of cancer is
    cuts = sorted({r.threshold for r in results if r.threshold is not None})
    params = [f"finding threshold {' / '.join(f'{t:.4g}' for t in cuts)}"] if cuts else []
    # a model without a calibration gives its network's output; with a second stage the image's malignancy is
    # calibrated even for --raw-malignancy (the pipeline: as the viewer shows it), the findings' are not
    giver = malignancy_model or model
    findings_cal = not raw_malignancy and giver.malignancy_calibration is not None
    image_cal = giver.malignancy_calibration is not None if malignancy_model is not None else findings_cal
    said = {True: "malignancy: calibrated", False: "malignancy: network output, not calibrated"}

    def identification(cal: bool, notes: Sequence[str] = ()) -> hd.sr.AlgorithmIdentification:
        return hd.sr.AlgorithmIdentification(name=name, version=version, parameters=[*params, said[cal], *notes],
                                             manufacturer=MANUFACTURER)  # fmt: skip

    algorithm, image_algorithm = identification(findings_cal), identification(image_cal)
    # an image without a breast was not read: its scores of 0 are no normal reading (NO_BREAST_NOTE), so it gets
    # none, and the reason instead
    unread = hd.sr.AlgorithmIdentification(name=name, version=version, parameters=[NOT_READ],
                                           manufacturer=MANUFACTURER)  # fmt: skip
    second = image_second = None
    if malignancy_model is not None:  # the second stage gave the probability of cancer
        second, image_second = (hd.sr.AlgorithmIdentification(
            name=malignancy_model.name, version=malignancy_model.version, parameters=[said[cal]],
            manufacturer=MANUFACTURER,
        ) for cal in (findings_cal, image_cal))  # fmt: skip
    device = hd.sr.DeviceObserverIdentifyingAttributes(
        uid=generate_uid(entropy_srcs=[model.sha256]), name="mammoview CAD", manufacturer_name=MANUFACTURER,
        model_name=f"{model.name} {model.version}",
    )  # fmt: skip
    context = hd.sr.ObservationContext(observer_device_context=hd.sr.ObserverContext(codes.DCM.Device, device))
    groups: list[hd.sr.PlanarROIMeasurementsAndQualitativeEvaluations | hd.sr.MeasurementsAndQualitativeEvaluations]
    groups = []
    labels = [r.view.label if r.view is not None else Path(r.path).name for r in results]
    for i, (r, ds) in enumerate(zip(results, headers, strict=True)):
        source = hd.sr.SourceImageForRegion.from_source_image(ds)
        label = labels[i]
        if (n := labels.count(label)) > 1:  # a view of several images (a retake): named apart, as the viewer does
            label = f"{label} ({labels[: i + 1].count(label)} of {n})"
        # a view with an implant, or a synthesized 2-D one: its marks and scores are the CAD's, with the viewer's
        # warnings (IMPLANT_NOTE, SYNTHESIZED_NOTE) beside them
        notes = [*([IMPLANT_NOTE] if r.implant else []), *([SYNTHESIZED_NOTE] if r.synthesized else [])]
        found_by, scored_by = ((identification(findings_cal, notes), identification(image_cal, notes)) if notes
                               else (algorithm, image_algorithm))  # fmt: skip
        for k, f in enumerate(r.findings, 1):
            groups.append(hd.sr.PlanarROIMeasurementsAndQualitativeEvaluations(
                tracking_identifier=hd.sr.TrackingIdentifier(uid=generate_uid(), identifier=f"{label} CAD finding {k}"),
                referenced_region=_region(f, source), finding_type=_FINDING_TYPE[f.kind],
                algorithm_id=found_by, finding_sites=_sites(r),
                measurements=_scores(f.score, f.malignancy, algorithm, second),
            ))  # fmt: skip
        read = r.breast_found is not False
        groups.append(hd.sr.MeasurementsAndQualitativeEvaluations(
            tracking_identifier=hd.sr.TrackingIdentifier(uid=generate_uid(), identifier=f"{label} image scores"),
            algorithm_id=scored_by if read else unread, finding_sites=_sites(r),
            measurements=_scores(r.abnormal, r.malignant, image_algorithm, image_second) if read else None,
            source_images=[hd.sr.SourceImageForMeasurementGroup.from_source_image(ds)],
        ))  # fmt: skip
    groups.extend(extra)
    report = hd.sr.MeasurementReport(observation_context=context, procedure_reported=codes.SCT.Mammography,
                                     imaging_measurements=groups)  # fmt: skip
    return hd.sr.ComprehensiveSR(
        evidence=headers, content=report, series_instance_uid=generate_uid(), series_number=SERIES_NUMBER,
        sop_instance_uid=generate_uid(), instance_number=1, manufacturer=MANUFACTURER, is_complete=False,
        is_final=False, is_verified=False, series_description=SERIES_DESCRIPTION, specific_character_set=_CHARSET,
    )  # fmt: skip


def write_sr(sr: hd.sr.ComprehensiveSR, path: Path, exclusive: bool = False) -> Path:
    """Write ``sr`` atomically as a DICOM file (never a half-written one); ``exclusive``: FileExistsError rather than
    replace an existing file."""
    buf = io.BytesIO()
    sr.save_as(buf, enforce_file_format=True)
    atomic_write_bytes(path, buf.getvalue(), exclusive=exclusive, private=False)
    return path
