"""Second-stage verification: a second network re-scores each of the detector's candidates.

The classic two-stage CAD (candidate detection, then false-positive reduction).  The detector
proposes candidates: the regions of its abnormal map cut at a loose threshold, each at its
refined centre (:func:`mammoview.cad.findings.findings_from_maps`, outlines kept within the
peak's patch window).  A second network, trained on lesions against the detector's own false
positives (``mammoview extract-patches --hard-negatives-from-detections``) at its own pixel size
(0.6 mm with context: the whole lesion and its surroundings), classifies a crop centred on each
candidate.  Each candidate's score becomes the weighted mean of the two networks' log-odds of
"abnormal"::

    score = sigmoid((1 - w) * logit(detector score) + w * log(p2(mass) + p2(calcification)) / p2(normal))

with ``w`` = 0.5 (chosen before it was measured; models/MODEL_CARD.md).  The findings at an
operating point are the candidates whose combined score reaches its threshold; the verifier's
manifest entry holds that threshold and the two-stage validation FROC, measured with the
detector it was trained on (``extra["verification"]["detector"]``: a verifier never runs beside
another detector).  The heatmaps stay the detector's Class Activation Maps.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from mammoview.cad.malignancy import crop_logits
from mammoview.cad.manifest import ModelEntry, ModelError, default_models_dir, read_manifest
from mammoview.cad.networks.layers import CadNet
from mammoview.cad.preprocess import PreparedImage
from mammoview.cad.types import Finding
from mammoview.cad.weights import LoadedModel, load_model

TASK = "verification"
#: The detector's map is cut here for candidates, and at most this many are verified per image
#: (the candidates of the validation FROC, ``mammoview evaluate --froc-threshold``).
CANDIDATE_THRESHOLD = 0.1
MAX_CANDIDATES = 25
#: Weight of the second network's log-odds in a candidate's score.
WEIGHT = 0.5
#: A candidate of the verifier's own map this close to a detector candidate's centre (or inside its
#: box) is the same candidate: half the verifier's 64 px patch at 0.6 mm.
OWN_MIN_DISTANCE_MM = 19.2


@dataclass(frozen=True)
class VerificationSettings:
    """How a verifier is run: its manifest entry's ``extra["verification"]`` (defaults above)."""

    weight: float = WEIGHT
    candidate_threshold: float = CANDIDATE_THRESHOLD
    max_candidates: int = MAX_CANDIDATES
    #: the detector (name, version, sha256) it was trained and measured with
    detector: dict[str, Any] | None = None
    #: also take candidates from the verifier's own whole-image map cut here (None: the detector's only)
    own_map_threshold: float | None = None
    #: at most this many of them per image
    own_map_candidates: int = 0
    own_min_distance_mm: float = OWN_MIN_DISTANCE_MM

    @classmethod
    def of(cls, entry: ModelEntry) -> VerificationSettings:
        d = entry.extra.get("verification") or {}
        if not isinstance(d, dict):  # a hand edit: d.get below raised AttributeError, which no caller expects
            raise ValueError(f"{entry.name}: malformed verification settings (an object expected, got {d!r})")
        try:
            out = cls(
                weight=float(d.get("weight", WEIGHT)),
                candidate_threshold=float(d.get("candidate_threshold", CANDIDATE_THRESHOLD)),
                max_candidates=int(d.get("max_candidates", MAX_CANDIDATES)),
                detector=dict(d["detector"]) if d.get("detector") else None,
                own_map_threshold=None if d.get("own_map_threshold") is None else float(d["own_map_threshold"]),
                own_map_candidates=int(d.get("own_map_candidates", 0)),
                own_min_distance_mm=float(d.get("own_min_distance_mm", OWN_MIN_DISTANCE_MM)),
            )
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{entry.name}: malformed verification settings ({exc})") from exc
        own_ok = out.own_map_threshold is None or (
            0.0 < out.own_map_threshold < 1.0 and out.own_map_candidates >= 1 and out.own_min_distance_mm >= 0.0
        )
        base_ok = 0.0 <= out.weight <= 1.0 and 0.0 < out.candidate_threshold < 1.0 and out.max_candidates >= 1
        if not (base_ok and own_ok):
            raise ValueError(f"{entry.name}: verification settings out of range: {d}")
        return out

    @property
    def uses_own_map(self) -> bool:
        return self.own_map_threshold is not None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "weight": self.weight,
            "candidate_threshold": self.candidate_threshold,
            "max_candidates": self.max_candidates,
            "detector": self.detector,
        }
        if self.uses_own_map:
            out |= {
                "own_map_threshold": self.own_map_threshold,
                "own_map_candidates": self.own_map_candidates,
                "own_min_distance_mm": self.own_min_distance_mm,
            }
        return out


def abnormal_log_odds(logits: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """``log((p(mass) + p(calcification)) / p(normal))`` from tissue logits ``(N, >= 3)``."""
    if logits.size == 0:
        return np.zeros(0)
    return np.asarray(np.logaddexp(logits[:, 1], logits[:, 2]) - logits[:, 0], dtype=np.float64)


def combined_score(score: float, second_log_odds: float, weight: float = WEIGHT) -> float:
    """The weighted mean of the detector's and the verifier's log-odds, as a probability."""
    q = min(max(float(score), 1e-15), 1.0 - 1e-15)
    z = (1.0 - weight) * np.log(q / (1.0 - q)) + weight * float(second_log_odds)
    return float(1.0 / (1.0 + np.exp(-z)))


def merge_candidates(
    candidates: Sequence[Finding],
    own: Sequence[Finding],
    detector_score: Callable[[float, float], float],
    min_distance_mm: float,
    mm_per_px: tuple[float, float],
) -> list[Finding]:
    """The detector's ``candidates`` and those of the verifier's own map (``own``) that are new.

    An ``own`` candidate is new when its centre lies outside every detector candidate's box and
    at least ``min_distance_mm`` from every detector candidate's centre (``mm_per_px`` = (x, y) of
    the stored grid).  It keeps its centre, box, outline and kind; its score becomes the detector's
    (``detector_score(x, y)``, stored grid), so every candidate's combined score weighs the two
    networks alike.
    """
    sx, sy = mm_per_px
    out = list(candidates)
    for f in own:
        x, y = f.center
        inside = any(c.bbox[0] <= x <= c.bbox[2] and c.bbox[1] <= y <= c.bbox[3] for c in candidates)
        near = any(np.hypot((x - c.center[0]) * sx, (y - c.center[1]) * sy) < min_distance_mm for c in candidates)
        if not (inside or near):
            out.append(replace(f, score=float(detector_score(x, y))))
    return out


@dataclass(frozen=True, eq=False)
class Verified:
    """An image's verified candidates, best combined score first (``score`` is the combined one)."""

    candidates: tuple[Finding, ...]

    def findings(self, threshold: float, max_findings: int) -> list[Finding]:
        """The candidates at or above ``threshold``, at most ``max_findings``."""
        return [f for f in self.candidates if f.score >= threshold][: max(0, max_findings)]

    @property
    def image_abnormal(self) -> float | None:
        """The best combined score (None without candidates)."""
        return self.candidates[0].score if self.candidates else None


def verify(verifier: CadNet, prepared: PreparedImage, patch: int, context: int, candidates: Sequence[Finding],
           weight: float = WEIGHT) -> Verified:  # fmt: skip
    """Re-score ``candidates`` (detector findings, stored grid) with the verifier's crops on ``prepared``."""
    z2 = abnormal_log_odds(crop_logits(verifier, prepared, patch, context, [f.center for f in candidates]))
    rescored = [replace(f, score=combined_score(f.score, z, weight)) for f, z in zip(candidates, z2, strict=True)]
    return Verified(tuple(sorted(rescored, key=lambda f: -f.score)))


def verifier_entry(detector: ModelEntry, models_dir: Path | str | None = None) -> ModelEntry | None:
    """The installed verifier of ``detector`` (None when no verifier is installed).

    Raises
    ------
    ModelError
        A verifier is installed but was made for another detector (or names none), naming the file.
    """
    root = Path(models_dir or default_models_dir())
    mine = [m for m in read_manifest(root).models if m.task == TASK]
    if not mine:
        return None
    reasons = []
    for entry in mine:
        try:
            settings = VerificationSettings.of(entry)
        except ValueError as exc:
            reasons.append(str(exc))
            continue
        made_for = settings.detector or {}
        # (in any case, as the weights' own check reads the manifest's sha256)
        if made_for.get("sha256") and str(made_for.get("sha256")).lower() == detector.sha256.lower():
            return entry
        reasons.append(
            f"{entry.name} {entry.version} verifies {made_for.get('name', '?')} "
            f"{str(made_for.get('sha256', ''))[:8] or '(no detector named)'}, not {detector.name} {detector.sha8}"
        )
    raise ModelError(root / "manifest.json", "; ".join(reasons))


def with_verifier(detector: LoadedModel, verifier: LoadedModel) -> LoadedModel:
    """``detector`` (a LoadedModel) running ``verifier`` on its candidates.

    Its entry's operating point and curve become the verifier's: they were measured on the
    two-stage scores.  The detector's own curve describes its map, which then only draws the
    heatmap: kept as ``detector_curve`` (``ModelInfo.heatmap_curve``).
    """
    if verifier.entry.task != TASK:
        raise ValueError(f"{verifier.entry.name} is a {verifier.entry.task} model, not a {TASK} model")
    VerificationSettings.of(verifier.entry)  # malformed settings fail here, not mid-study
    entry = replace(
        detector.entry,
        finding_threshold=verifier.entry.finding_threshold,
        operating_curve=dict(verifier.entry.operating_curve),
    )
    return replace(detector, entry=entry, verifier=verifier.to(detector.device), detector_curve=detector.entry.curve)


def load_verifier(detector: LoadedModel, models_dir: Path | str | None = None, device: Any = None) -> LoadedModel:
    """``detector`` with its installed verifier (itself when none is installed).

    Raises
    ------
    ModelError
        One is installed but broken or made for another detector (callers go on without it and say why).
    """
    entry = verifier_entry(detector.entry, models_dir)
    if entry is None:
        return detector
    return with_verifier(detector, load_model(entry.name, models_dir, device or detector.device, task=TASK))


def verified_or_alone(detector: LoadedModel, models_dir: Path | str | None = None,
                      device: Any = None) -> tuple[LoadedModel, str | None]:  # fmt: skip
    """:func:`load_verifier`, or ``detector`` alone and the one-line reason when its verifier cannot run.

    What every caller (detect, evaluate, the viewer) does: a broken or mismatched verifier must never
    stop the CAD, and must be said (stderr, log).
    """
    try:
        return load_verifier(detector, models_dir, device), None
    except (ModelError, ValueError) as exc:
        return detector, str(exc)
