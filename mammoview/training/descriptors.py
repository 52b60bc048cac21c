"""Auxiliary training targets from the CBIS-DDSM case descriptions (``train --aux-descriptors``).

The radiologist's description of each CBIS-DDSM mass (``mass_case_description_train_set.csv``)
carries what malignancy is judged on: the margin, the shape and the BI-RADS assessment.  Three
binary targets per lesion patch (:data:`AUX_TARGETS`), trained on extra outputs during training
only, so the backbone is asked to see them (Lee et al., Scientific Data 4, 170177, 2017):

- ``suspicious_margin``: SPICULATED, ILL_DEFINED or MICROLOBULATED anywhere in the margin combo;
- ``irregular_shape``: IRREGULAR or ARCHITECTURAL_DISTORTION anywhere in the shape combo;
- ``birads_4plus``: assessment 4 or 5 (1-3 = 0; 0, "incomplete", is not a level of suspicion: unknown).

A target is unknown (NaN) for normal patches, patches of other sources, descriptors given as
``NA`` or empty, and images with several masses whose descriptions disagree on it: the order of
an image's boxes against its CSV rows is not known, so a patch cannot be given one mass's value.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt

from mammoview.training.datasets import PatchSet

AUX_TARGETS = ("suspicious_margin", "irregular_shape", "birads_4plus")
DESCRIPTIONS_CSV = Path("cbis-ddsm-mass") / "mass_case_description_train_set.csv"

_SUSPICIOUS_MARGINS = {"SPICULATED", "ILL_DEFINED", "MICROLOBULATED"}
_IRREGULAR_SHAPES = {"IRREGULAR", "ARCHITECTURAL_DISTORTION"}
_IMAGE_ID = re.compile(r"^(\d+)_(LEFT|RIGHT)_(CC|MLO)$")


def _combo(value: str, positive: set[str]) -> float:
    parts = [p for p in value.strip().upper().split("-") if p]
    if not parts or parts == ["NA"]:
        return float("nan")
    return float(any(p in positive for p in parts))


def description_flags(row: dict[str, str]) -> tuple[float, float, float]:
    """The :data:`AUX_TARGETS` of one CSV row: 1 / 0, NaN where the description does not say."""
    try:
        birads = int(row["assessment"])
    except ValueError:
        birads = 0
    return (
        _combo(row["mass margins"], _SUSPICIOUS_MARGINS),
        _combo(row["mass shape"], _IRREGULAR_SHAPES),
        float(birads >= 4) if birads > 0 else float("nan"),
    )


def image_targets(csv_path: Path) -> dict[str, npt.NDArray[np.float32]]:
    """Per CBIS image id (``00484_RIGHT_CC``), its :data:`AUX_TARGETS` agreed over all its masses.

    An image's value of a target is the common value of its masses' descriptions; NaN where
    they disagree or one of them does not say.
    """
    rows: dict[str, list[tuple[float, float, float]]] = {}
    with open(csv_path, newline="") as fh:
        for r in csv.DictReader(fh):
            key = f"{r['patient_id'].removeprefix('P_')}_{r['left or right breast']}_{r['image view']}"
            rows.setdefault(key, []).append(description_flags(r))
    out = {}
    for key, flags in rows.items():
        a = np.array(flags, dtype=np.float32)  # (masses, targets)
        agree = np.all(a == a[:1], axis=0)  # NaN never equals itself: one unknown mass -> unknown
        out[key] = np.where(agree, a[0], np.float32("nan")).astype(np.float32)
    return out


def patch_aux_targets(
    image_ids: Sequence[str],
    sources: Sequence[str],
    labels: Sequence[str],
    table: dict[str, npt.NDArray[np.float32]],
) -> npt.NDArray[np.float32]:
    """``(N, len(AUX_TARGETS))`` targets of a patch set's patches: their image's, for CBIS mass patches only.

    Parameters
    ----------
    image_ids, sources, labels : sequence of str
        ``index.csv`` columns of the patches (``image_id``, ``source``, ``label``).
    table : dict
        :func:`image_targets` of the case descriptions.
    """
    out = np.full((len(image_ids), len(AUX_TARGETS)), np.nan, dtype=np.float32)
    for i, (image_id, source, label) in enumerate(zip(image_ids, sources, labels, strict=True)):
        if source == "cbis" and label == "mass" and _IMAGE_ID.match(image_id) and image_id in table:
            out[i] = table[image_id]
    return out


def descriptor_targets(ps: PatchSet) -> npt.NDArray[np.float32]:
    """:func:`patch_aux_targets` of every patch of ``ps``, from its data folder's case descriptions."""
    table = image_targets(ps.data_dir() / DESCRIPTIONS_CSV)
    image_ids = [str(r["image_id"]) for r in ps.index]
    return patch_aux_targets(image_ids, list(ps.sources), list(ps.labels), table)


def target_counts(targets: npt.NDArray[np.float32]) -> dict[str, dict[str, int]]:
    """Positives / negatives / unknown per target (the run's summary counts the training lesion patches)."""
    return {
        name: {
            "positive": int(np.sum(col == 1)),
            "negative": int(np.sum(col == 0)),
            "unknown": int(np.sum(np.isnan(col))),
        }
        for name, col in zip(AUX_TARGETS, targets.T, strict=True)
    }
