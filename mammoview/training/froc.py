"""FROC analysis of CAD findings against ground-truth lesions.

The rules (docs/cad-design.md, "Detect JSON"):

- a finding *hits* a lesion when its centre is inside the lesion's CBIS box or within
  the MIAS radius (:meth:`mammoview.training.sources.Lesion.contains`);
- each lesion counts once: it is detected at threshold ``t`` when any finding with
  ``score >= t`` hits it; further hits on it are neither true nor false positives;
- a finding that hits no lesion of its image is a false positive;
- sweeping ``t`` over every distinct finding score gives the operating points
  (false positives per image, lesion sensitivity).  The sensitivity quoted at a
  rate ``r`` is the best operating point with at most ``r`` false positives per image.

Detect keeps only findings above the model's threshold (top N per image), so the curve
stops at some rate; :attr:`FrocResult.max_fpi` says where, and sensitivities quoted
beyond it are lower bounds.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from mammoview.training.metrics import AucResult, roc_auc
from mammoview.training.sources import Lesion, SourceImage

FloatArray = npt.NDArray[np.float64]

#: False-positive rates (per image) at which sensitivity is reported.
FP_RATES: tuple[float, ...] = (0.25, 0.5, 1.0, 2.0)


@dataclass(frozen=True)
class Mark:
    """One CAD finding reduced to what FROC needs: its centre (stored grid) and score."""

    x: float
    y: float
    score: float


@dataclass(frozen=True)
class FrocCase:
    """One image: its lesions (all with coordinates) and the CAD's marks on it."""

    image_id: str
    lesions: tuple[Lesion, ...]
    marks: tuple[Mark, ...]


@dataclass(frozen=True, eq=False)
class FrocResult:
    """Operating points of a FROC curve, from the strictest threshold (``+inf``) down."""

    thresholds: FloatArray
    fpi: FloatArray
    sensitivity: FloatArray
    n_images: int
    n_lesions: int
    fp_rates: tuple[float, ...] = FP_RATES
    notes: tuple[str, ...] = field(default=())

    @property
    def max_fpi(self) -> float:
        return float(self.fpi[-1]) if self.fpi.size else 0.0

    def sensitivity_at(self, rate: float) -> float:
        """Best sensitivity with at most ``rate`` false positives per image (NaN: no lesions)."""
        return sensitivity_at(self.fpi, self.sensitivity, rate) if self.n_lesions else math.nan

    @property
    def sens_at(self) -> dict[float, float]:
        return {r: self.sensitivity_at(r) for r in self.fp_rates}

    def threshold_at(self, rate: float) -> float:
        """The lowest score threshold that keeps at most ``rate`` false positives per image.

        The operating point for a model's ``finding_threshold`` (NaN when no threshold does).
        """
        ok = [float(t) for t, f in zip(self.thresholds, self.fpi, strict=True) if f <= rate and math.isfinite(t)]
        return min(ok) if ok else math.nan

    @property
    def mean_sensitivity(self) -> float:
        """Mean of :attr:`sens_at` (the CPM-style single number)."""
        vals = list(self.sens_at.values())
        return float(np.mean(vals)) if self.n_lesions else math.nan

    def to_dict(self) -> dict[str, Any]:
        return {
            "n_images": self.n_images,
            "n_lesions": self.n_lesions,
            "sens_at": {f"{r:g}": v for r, v in self.sens_at.items()},
            "mean_sensitivity": self.mean_sensitivity,
            "threshold_at": {f"{r:g}": self.threshold_at(r) for r in self.fp_rates},
            "max_fpi": self.max_fpi,
            "curve": {
                "threshold": [None if math.isinf(t) else float(t) for t in self.thresholds],
                "fpi": self.fpi.tolist(),
                "sensitivity": self.sensitivity.tolist(),
            },
            "notes": list(self.notes),
        }


def sensitivity_at(fpi: FloatArray, sensitivity: FloatArray, rate: float) -> float:
    """Highest sensitivity among operating points with ``fpi <= rate`` (0 when none qualifies)."""
    ok = fpi <= rate + 1e-12  # rates like 0.25 are exact fractions of small image counts
    return float(np.max(sensitivity[ok])) if ok.any() else 0.0


def froc(cases: Iterable[FrocCase], fp_rates: Sequence[float] = FP_RATES) -> FrocResult:
    """FROC operating points of marks against lesions, following the module's rules.

    Parameters
    ----------
    cases : iterable of FrocCase
        Every image counts towards the false-positive rate, including images without
        lesions (their marks are all false positives).
    fp_rates : sequence of float
        Rates at which :attr:`FrocResult.sens_at` reports sensitivity.

    Returns
    -------
    FrocResult
        Empty curve (only the ``+inf`` point) and NaN sensitivities when there are no lesions.
    """
    cases = list(cases)
    best_hit: list[float] = []  # per lesion: the highest score of a mark that hits it
    fp_scores: list[float] = []
    notes: list[str] = []
    for case in cases:
        located = [les for les in case.lesions if les.center is not None or les.bbox is not None]
        if len(located) < len(case.lesions):
            raise ValueError(f"{case.image_id}: lesions without coordinates cannot be hit; leave the image out")
        hits = np.array([[les.contains(m.x, m.y) for les in located] for m in case.marks], dtype=bool)
        hits = hits.reshape(len(case.marks), len(located))
        scores = np.array([m.score for m in case.marks], dtype=np.float64)
        for j in range(len(located)):
            best_hit.append(float(scores[hits[:, j]].max()) if hits[:, j].any() else -math.inf)
        fp_scores.extend(scores[~hits.any(axis=1)].tolist())
    all_scores = [m.score for c in cases for m in c.marks]
    thresholds = np.r_[np.inf, np.unique(np.asarray(all_scores, dtype=np.float64))[::-1]]
    best = np.asarray(best_hit, dtype=np.float64)
    fps = np.sort(np.asarray(fp_scores, dtype=np.float64))
    n_images, n_lesions = len(cases), best.size
    # lesions detected / false positives at each threshold, both "score >= t"
    detected = (best[None, :] >= thresholds[:, None]).sum(axis=1) if n_lesions else np.zeros(thresholds.size)
    n_fp = fps.size - np.searchsorted(fps, thresholds, side="left")
    fpi = n_fp / n_images if n_images else np.zeros(thresholds.size)
    sens = detected / n_lesions if n_lesions else np.full(thresholds.size, math.nan)
    if not n_lesions:
        notes.append("undefined: no lesions with coordinates")
    missed = int(np.sum(~np.isfinite(best)))
    if missed:
        notes.append(f"{missed} of {n_lesions} lesion(s) never hit at any threshold")
    return FrocResult(
        thresholds=thresholds,
        fpi=np.asarray(fpi, dtype=np.float64),
        sensitivity=np.asarray(sens, dtype=np.float64),
        n_images=n_images,
        n_lesions=n_lesions,
        fp_rates=tuple(float(r) for r in fp_rates),
        notes=tuple(notes),
    )


def marks_from_json(findings: Sequence[dict[str, Any]]) -> tuple[Mark, ...]:
    """The detect JSON's ``findings`` list as :class:`Mark` values (kind-agnostic on purpose:
    the score is the peak abnormality, and a mass called 'calcification' still localises it)."""
    return tuple(Mark(float(f["center"][0]), float(f["center"][1]), float(f["score"])) for f in findings)


# ---------------------------------------------------------------------------------------
# Scoring a detect JSON against the ground truth of training/sources.py


@dataclass(frozen=True, eq=False)
class DetectionScores:
    """Image-level AUCs and FROC curves of one detect JSON on the validation images.

    ``roc_inputs`` keeps the (labels, scores) behind each AUC for the ROC plots.
    """

    image_auc: dict[str, AucResult]
    roc_inputs: dict[str, tuple[npt.NDArray[np.bool_], FloatArray]]
    froc: dict[str, FrocResult]
    counts: dict[str, int]
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "counts": dict(self.counts),
            "image_auc": {k: v.to_dict() for k, v in self.image_auc.items()},
            "froc": {k: v.to_dict() for k, v in self.froc.items()},
            "notes": list(self.notes),
        }


def read_detections(path: Path, *, scored: bool = True) -> dict[str, Any]:
    """A ``mammoview detect`` JSON file, checked for what is read of it: each image's path and each finding's centre
    and score, and to score it (``scored``: evaluate's AUCs and calibration) each image's scores and each finding's
    malignancy, finite numbers (an image detect could not read has its ``error`` instead). ValueError naming the file
    and the image otherwise: a hand-edited file ended as "error: 'scores'" or "list index out of range", naming
    nothing, and a NaN score was scored."""
    from mammoview.training.jsonfile import read_json

    doc = read_json(path)
    if not isinstance(doc.get("images"), list):
        raise ValueError(f"{path}: not a detect JSON (no 'images' list)")
    for n, image in enumerate(doc["images"], 1):
        why = _detect_entry_problem(image, scored)
        if why is not None:
            name = image.get("path") if isinstance(image, dict) and isinstance(image.get("path"), str) else None
            raise ValueError(f"{path}: image {n}{f' ({name})' if name else ''}: {why}, not as `mammoview detect` "
                             "writes it")  # fmt: skip
    return doc


def _detect_entry_problem(image: Any, scored: bool) -> str | None:
    """What in one image entry of a detect JSON cannot be read (None: nothing)."""

    def finite(value: Any) -> bool:
        return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)

    if not isinstance(image, dict) or not isinstance(image.get("path"), str):
        return "no 'path'"
    if "error" in image:  # detect could not read it: counted, not scored
        return None
    scores = image.get("scores")
    bad = [k for k in ("abnormal", "malignant") * scored if not (isinstance(scores, dict) and finite(scores.get(k)))]
    if bad:
        return f"no finite scores.{' or scores.'.join(bad)}"
    findings = image.get("findings", [])
    if not isinstance(findings, list):
        return "'findings' is not a list"
    for k, f in enumerate(findings, 1):
        centre = f.get("center") if isinstance(f, dict) else None
        if not (isinstance(centre, list) and len(centre) == 2 and all(map(finite, centre))):
            return f"finding {k} has no 'center' [x, y]"
        bad = [key for key in ("score", "malignancy")[: 1 + scored] if not finite(f.get(key))]
        if bad:
            return f"finding {k} has no finite '{bad[0]}'"
    return None


def _entries(detections: Mapping[str, Any] | Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    docs = [detections] if isinstance(detections, Mapping) else list(detections)
    return [img for doc in docs for img in doc.get("images", [])]


def match_detections(
    detections: Mapping[str, Any] | Sequence[Mapping[str, Any]], truth: Sequence[SourceImage]
) -> tuple[list[tuple[SourceImage, Mapping[str, Any]]], dict[str, int]]:
    """Pair each detect-JSON image with its ground truth, by resolved path, else by file stem.

    Returns the pairs and counts of ``errors`` (entries with an ``error``), ``unmatched``
    (not in ``truth``) and ``duplicates`` (an image seen twice: the first entry is kept).
    """
    by_path = {str(t.path.resolve()): t for t in truth}
    by_stem = {t.path.stem: t for t in truth}
    pairs: list[tuple[SourceImage, Mapping[str, Any]]] = []
    seen: set[str] = set()
    counts = {"errors": 0, "unmatched": 0, "duplicates": 0}
    for entry in _entries(detections):
        if "error" in entry:
            counts["errors"] += 1
            continue
        p = Path(str(entry["path"]))
        src = by_path.get(str(p.resolve())) or by_stem.get(p.stem)
        if src is None:
            counts["unmatched"] += 1
        elif src.image_id in seen:
            counts["duplicates"] += 1
        else:
            seen.add(src.image_id)
            pairs.append((src, entry))
    return pairs, counts


def _unlocated(s: SourceImage) -> bool:
    return bool(getattr(s, "unlocated_findings", False)) or any(les.center is None for les in s.lesions)


def score_detections(
    detections: Mapping[str, Any] | Sequence[Mapping[str, Any]],
    truth: Sequence[SourceImage],
    patients: Collection[str] | None = None,
    fp_rates: Sequence[float] = FP_RATES,
) -> DetectionScores:
    """Image-level ROC AUCs and FROC curves from detect's own JSON.

    Parameters
    ----------
    detections : dict or list of dict
        Detect JSON document(s) (several when CBIS and MIAS ran with different spacings).
    truth : sequence of SourceImage
        Ground truth (CBIS and MIAS images from :mod:`mammoview.training.sources`).
    patients : collection of str, optional
        The validation patients (``SourceImage.patient``); images of any other patient
        are dropped and counted, so a detect run over training images never scores.
    fp_rates : sequence of float
        FROC reporting rates.

    Returns
    -------
    DetectionScores
        ``image_auc``: ``abnormal_mias`` (MIAS normal vs any abnormality),
        ``malignant_cbis`` (CBIS image pathology), ``malignant_mias`` (MIAS abnormal
        images of known severity), ``malignant_all``; ``froc``: ``cbis_mass`` and
        ``mias`` (normals included); images with findings of unknown position
        (``SourceImage.unlocated_findings``) are left out of the FROC, not of the AUCs.
    """
    pairs, counts = match_detections(detections, truth)
    notes: list[str] = []
    if patients is not None:
        allowed = set(patients)
        kept = [(s, e) for s, e in pairs if s.patient in allowed]
        counts["not_validation"] = len(pairs) - len(kept)
        pairs = kept
    counts["scored"] = len(pairs)
    for key, what in (
        ("errors", "unreadable"),
        ("unmatched", "without ground truth"),
        ("not_validation", "from non-validation patients"),
        ("duplicates", "duplicate"),
    ):
        if counts.get(key):
            notes.append(f"{counts[key]} {what} image(s) left out")

    def score(e: Mapping[str, Any], key: str) -> float:
        return float(e["scores"][key])

    # (label, score, patient) per image: the patient for the interval (two views of a breast are not independent)
    groups: dict[str, list[tuple[bool, float, str]]] = {
        "abnormal_mias": [(s.abnormal, score(e, "abnormal"), s.patient) for s, e in pairs if s.source == "mias"],
        "malignant_cbis": [
            (bool(s.malignant), score(e, "malignant"), s.patient)
            for s, e in pairs
            if s.source == "cbis" and s.malignant is not None
        ],
        "malignant_mias": [
            (bool(s.malignant), score(e, "malignant"), s.patient)
            for s, e in pairs
            if s.source == "mias" and s.abnormal and s.malignant is not None
        ],
    }
    groups["malignant_all"] = groups["malignant_cbis"] + groups["malignant_mias"]
    roc_inputs = {
        k: (np.array([r[0] for r in v], dtype=bool), np.array([r[1] for r in v], dtype=np.float64))
        for k, v in groups.items()
    }
    image_auc = {}
    for k, (y, sc) in roc_inputs.items():
        image_auc[k] = roc_auc(y, sc).with_patient_bootstrap(y, sc, [r[2] for r in groups[k]])

    def case(s: SourceImage, e: Mapping[str, Any]) -> FrocCase:
        return FrocCase(s.image_id, s.lesions, marks_from_json(e.get("findings", [])))

    curves: dict[str, FrocResult] = {}
    for name, source in (("cbis_mass", "cbis"), ("mias", "mias")):
        group = [(s, e) for s, e in pairs if s.source == source]
        # a mark on a finding of unknown position (a MIAS row without coordinates, a CBIS
        # calcification) would count as a false positive it is not: leave such images out
        located = [(s, e) for s, e in group if not _unlocated(s)]
        if len(located) < len(group):
            notes.append(
                f"FROC {name}: {len(group) - len(located)} image(s) with findings of unknown position left out"
            )
        curves[name] = froc([case(s, e) for s, e in located], fp_rates)
    return DetectionScores(image_auc, roc_inputs, curves, counts, tuple(notes))
