"""New operating points for an installed model, its weights unchanged (``mammoview retune``).

When inference changes (a fix in how the whole image is run) the network's weights stay what they are, but its
finding threshold, its FROC curve and its malignancy calibration, all measured with the old inference, describe
it no longer.  They are measured again with ``mammoview evaluate`` as the model is installed, and written into
its manifest entry with a new version; every verifier made for a detector follows the detector's new version.
Only the manifest changes (atomically); the weights file and its sha256 are kept.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

from mammoview.cad.manifest import MANIFEST, ModelEntry, read_manifest
from mammoview.io.files import atomic_write_text
from mammoview.training.install import InstallOptions


def retune(
    models_dir: Path,
    name: str,
    version: str,
    *,
    finding_threshold: float | None = None,
    operating_curve: dict[str, Any] | None = None,
    malignancy_calibration: dict[str, Any] | None = None,
    threshold_evaluated: dict[str, Any] | None = None,
    command: str = "",
) -> ModelEntry:
    """Rewrite ``name``'s entry in ``models_dir`` with the given operating point, curve and calibration.

    A curve or calibration must have been measured on these weights (their sha256) with the entry's test-time
    flip and map windows; a verifier's curve with the verifier installed on its detector.

    Raises
    ------
    ValueError
        No such model, or a curve / calibration measured on other weights or another way of running them.
    """
    manifest = read_manifest(models_dir)
    entry = manifest.get(name)
    if entry is None:
        raise ValueError(f"{models_dir / MANIFEST}: no model named {name!r}")
    _check_weights(Path(models_dir) / entry.file, entry.sha256)
    verification = entry.extra.get("verification") if entry.task == "verification" else None
    weights = (verification or {}).get("detector", {}).get("sha256") if verification else entry.sha256
    detector = (verification or {}).get("detector")
    # the checks an install makes (flip and windows as installed; a verifier's curve on its detector, with it) ...
    InstallOptions(task=entry.task, detector=detector, test_time_flip=entry.test_time_flip,
                   map_windows_px=entry.map_windows_px, operating_curve=operating_curve or {},
                   malignancy_calibration=malignancy_calibration or {})  # fmt: skip
    # ... and those of weights already installed: measured on these weights, the threshold like the curve, a
    # detector's figures without a verifier
    checked = (("operating curve", operating_curve), ("malignancy calibration", malignancy_calibration),
               ("finding threshold", {"evaluated": threshold_evaluated} if threshold_evaluated else None))  # fmt: skip
    for what, d in checked:
        ran = (d or {}).get("evaluated")
        if not ran or (what == "malignancy calibration" and entry.task == "malignancy"):
            continue  # (a second stage's calibration is measured through its detector's findings)
        if ran.get("sha256") != weights:
            raise ValueError(f"the {what} was measured on {ran.get('name')} {str(ran.get('sha256'))[:8]}, not on "
                             f"{'the detector of ' if verification else ''}{name} {str(weights)[:8]}")  # fmt: skip
        if what == "malignancy calibration":
            continue
        if verification is not None and not ran.get("verifier"):
            raise ValueError(f"the {what} was measured without a verifier: {name}'s is the two stages'")
        if verification is None and ran.get("verifier"):
            raise ValueError(f"the {what} was measured with a verifier: {name}'s is the detector's alone")
        if verification is None and what == "finding threshold":
            InstallOptions(task=entry.task, test_time_flip=entry.test_time_flip, map_windows_px=entry.map_windows_px,
                           operating_curve={"evaluated": ran})  # fmt: skip
    new = replace(
        entry,
        version=version,
        finding_threshold=entry.finding_threshold if finding_threshold is None else float(finding_threshold),
        operating_curve=entry.operating_curve if operating_curve is None else dict(operating_curve),
        malignancy_calibration=(
            entry.malignancy_calibration if malignancy_calibration is None else dict(malignancy_calibration)
        ),
        extra={**entry.extra, **({"retuned": command} if command else {})},
    )
    new.check()
    models = []
    for m in manifest.models:
        if m.name == name:
            m = new
        elif entry.task == "detection" and m.task == "verification":
            made_for = dict((m.extra.get("verification") or {}).get("detector") or {})
            if made_for.get("sha256") == entry.sha256:  # the verifier follows its detector's version
                made_for["version"] = version
                m = replace(m, extra={**m.extra, "verification": {**m.extra["verification"], "detector": made_for}})
        models.append(m)
    doc = {"default": manifest.default, "models": [m.to_dict() for m in models]}
    atomic_write_text(Path(models_dir) / MANIFEST, json.dumps(doc, indent=2) + "\n")
    return new


def _check_weights(path: Path, sha256: str) -> None:
    """The weights file is there and is the entry's (a new version of an entry whose file is missing, truncated or
    replaced is a model that cannot be loaded, whatever its operating point)."""
    try:
        with open(path, "rb") as fh:
            digest = hashlib.file_digest(fh, "sha256").hexdigest()
    except FileNotFoundError:
        raise ValueError(f"{path}: weights file not found; nothing was retuned") from None
    except OSError as exc:
        raise ValueError(f"{path}: cannot read the weights file ({exc.strerror}); nothing was retuned") from None
    if digest != sha256.lower():
        raise ValueError(f"{path}: SHA-256 mismatch (file {digest[:12]}..., manifest {sha256[:12]}...): corrupt, "
                         "truncated or replaced; nothing was retuned")  # fmt: skip
