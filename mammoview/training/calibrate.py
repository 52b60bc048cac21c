"""Fitting the malignancy calibration on an evaluation's detections (:mod:`mammoview.cad.calibration`).

``mammoview evaluate`` runs detect with ``--raw-malignancy`` and fits here, on every
validation finding whose centre hits a lesion of known pathology (the FROC's hit rule:
inside the CBIS box, within the MIAS radius), the Platt scaling that maps the network's
malignancy to the share of such findings that were malignant.  ``--malignancy-calibration
METRICS_JSON`` of ``train`` / ``ensemble`` stores it in the manifest.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from mammoview.cad.calibration import MalignancyCalibration, fit_platt
from mammoview.training.froc import match_detections
from mammoview.training.sources import SourceImage


def malignancy_pairs(
    detections: Mapping[str, Any] | Sequence[Mapping[str, Any]],
    truth: Sequence[SourceImage],
    patients: Collection[str] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """(malignancy, malignant 0/1) of every finding that hits a lesion of known pathology.

    A finding hitting several lesions takes the first of known pathology; lesions of unknown
    pathology (a CBIS image whose masses differ and whose boxes the case list does not tell
    apart, ``Lesion.malignant`` None) are skipped.
    """
    pairs, _ = match_detections(detections, truth)
    scores: list[float] = []
    labels: list[int] = []
    for src, entry in pairs:
        if patients is not None and src.patient not in patients:
            continue
        for f in entry.get("findings", []):
            x, y = f["center"]
            hit = next((les for les in src.lesions if les.malignant is not None and les.contains(x, y)), None)
            if hit is not None:
                scores.append(float(f["malignancy"]))
                labels.append(int(bool(hit.malignant)))
    return np.asarray(scores, dtype=np.float64), np.asarray(labels, dtype=np.int64)


def fit_malignancy_calibration(
    detections: Mapping[str, Any] | Sequence[Mapping[str, Any]],
    truth: Sequence[SourceImage],
    patients: Collection[str] | None = None,
) -> dict[str, Any]:
    """The calibration's manifest form, or ``{"note": why not}`` when it cannot be fitted."""
    p, y = malignancy_pairs(detections, truth, patients)
    if p.size < 20 or np.unique(y).size < 2:  # min/max with initial=0 let a malignant-only set through
        return {"note": f"not fitted: {p.size} findings on lesions of known pathology, both classes needed (>= 20)"}
    slope, intercept = fit_platt(p, y)
    data = "validation findings on CBIS-DDSM / mini-MIAS lesions of known pathology (mammoview evaluate)"
    out = MalignancyCalibration(slope, intercept, int(p.size), int(y.sum()), data).to_dict()
    # what the reader would have seen without it: the raw output's spread on these findings
    out["raw_p10_p50_p90"] = [round(float(q), 4) for q in np.quantile(p, (0.1, 0.5, 0.9))]
    return out


def calibration_from_metrics(path: Path) -> dict[str, Any]:
    """The calibration an evaluation fitted (``DIR/metrics.json``), with what was evaluated, for the manifest.

    Raises
    ------
    ValueError
        If the file has none (an evaluation without detection, or one that could not fit it).
    """
    import json

    try:
        doc = json.loads(Path(path).read_text())
        cal = dict(doc["detection"]["malignancy_calibration"])
    except FileNotFoundError:
        raise ValueError(f"{path}: not found") from None
    except (KeyError, TypeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path}: no detection.malignancy_calibration (an evaluation's metrics.json?)") from exc
    if "slope" not in cal:
        raise ValueError(f"{path}: the evaluation fitted no malignancy calibration ({cal.get('note', 'no reason')})")
    try:
        MalignancyCalibration.from_dict(cal)
    except (KeyError, TypeError, ValueError) as exc:  # an edited calibration
        raise ValueError(f"{path}: detection.malignancy_calibration is malformed ({exc})") from exc
    model = doc.get("model") or {}
    keys = ("name", "version", "sha256", "test_time_flip", "map_windows_px", "patch_size")
    # patch_size: what no map windows meant (evaluations before it was recorded have none)
    cal["evaluated"] = {k: model.get(k) for k in keys if k != "patch_size" or model.get(k) is not None}
    return cal
