"""Patient-level train/validation split, deterministic from a seed, recorded in ``split.json``.

The unit is the ``patient`` of :class:`~mammoview.training.sources.SourceImage` (CBIS
``P_xxxxx``, the MIAS patient owning mdb 2k-1/2k, the MAGIC-5 case prefix), so no
patient's images or patches are on both sides.  Patients are stratified by source and
by their most telling label, so validation gets benign and malignant masses,
calcifications and normals from every source in roughly ``val_fraction`` of patients.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from mammoview.io.files import atomic_write_text
from mammoview.training.jsonfile import read_json
from mammoview.training.sources import SourceImage

SPLITS = ("train", "val")


def patient_stratum(images: Iterable[SourceImage]) -> str:
    """Stratum of one patient from all of their images, e.g. ``"cbis/mass-M"`` or ``"mias/normal"``."""
    imgs = list(images)
    source = imgs[0].source
    labels = {im.label for im in imgs}
    malignant = any(im.malignant for im in imgs if im.malignant is not None)
    lesion = next((lab for lab in ("calcification", "mass", "abnormal") if lab in labels), None)
    if lesion is None:
        return f"{source}/normal"
    if source == "magic5":  # no pathology in MAGIC-5
        return f"{source}/{lesion}"
    return f"{source}/{lesion}-{'M' if malignant else 'B'}"


def split_patients(records: Iterable[SourceImage], val_fraction: float = 0.2, seed: int = 0) -> dict[str, str]:
    """Assign every patient to ``"train"`` or ``"val"``.

    Within each stratum (:func:`patient_stratum`) the sorted patients are shuffled with
    ``numpy.random.default_rng(seed)`` and ``round(val_fraction * n)`` go to validation
    (at least one when the stratum has three or more patients).

    Returns
    -------
    dict
        ``patient -> split``.
    """
    by_patient: dict[str, list[SourceImage]] = defaultdict(list)
    for r in records:
        by_patient[r.patient].append(r)
    strata: dict[str, list[str]] = defaultdict(list)
    for patient in sorted(by_patient):
        strata[patient_stratum(by_patient[patient])].append(patient)
    rng = np.random.default_rng(seed)
    out: dict[str, str] = {}
    for name in sorted(strata):
        patients = strata[name]
        n_val = round(val_fraction * len(patients))
        if n_val == 0 and len(patients) >= 3 and val_fraction > 0:
            n_val = 1
        order = rng.permutation(len(patients))
        val = {patients[i] for i in order[:n_val]}
        for p in patients:
            out[p] = "val" if p in val else "train"
    return out


def split_document(
    assignment: Mapping[str, str], records: Iterable[SourceImage], val_fraction: float, seed: int
) -> dict[str, Any]:
    """The ``split.json`` content: patients per split, and per stratum counts."""
    by_patient: dict[str, list[SourceImage]] = defaultdict(list)
    for r in records:
        by_patient[r.patient].append(r)
    strata: dict[str, dict[str, int]] = defaultdict(lambda: {s: 0 for s in SPLITS})
    for p, imgs in by_patient.items():
        strata[patient_stratum(imgs)][assignment[p]] += 1
    return {
        "unit": "patient",
        "seed": seed,
        "val_fraction": val_fraction,
        "patients": {s: sorted(p for p, v in assignment.items() if v == s) for s in SPLITS},
        "strata": {k: strata[k] for k in sorted(strata)},
    }


def write_split(path: Path, doc: Mapping[str, Any]) -> None:
    atomic_write_text(path, json.dumps(doc, indent=1) + "\n")


def read_split_patients(path: Path) -> dict[str, list[str]]:
    """A ``split.json``'s patients per split; ``ValueError`` naming the file when it holds no such lists."""
    doc = read_json(path)
    patients = doc.get("patients") if isinstance(doc, dict) else None
    if not isinstance(patients, dict) or not all(
        isinstance(v, list) and all(isinstance(p, str) for p in v) for v in patients.values()
    ):
        raise ValueError(
            f"{path}: no lists of patients per split ('patients': {{'train': [...], 'val': [...]}}); not the "
            "split.json of `mammoview extract-patches`, or edited"
        )
    if other := sorted(set(patients) - {"train", "val"}):  # (train-density took a 'test' list's CBIS patients for
        raise ValueError(f"{path}: lists {other} besides 'train' and 'val'; edited?")  # mini-MIAS test images)
    return {k: list(v) for k, v in patients.items()}


def load_split(path: Path) -> dict[str, str]:
    """``patient -> split`` from a ``split.json``."""
    return {p: s for s, patients in read_split_patients(path).items() for p in patients}


def check_no_leakage(patients: Iterable[str], splits: Iterable[str]) -> None:
    """Raise ``ValueError`` naming a patient that appears in more than one split."""
    seen: dict[str, str] = {}
    for p, s in zip(patients, splits, strict=True):
        if seen.setdefault(p, s) != s:
            raise ValueError(f"patient {p} is in both {seen[p]!r} and {s!r}")
