"""`train` refuses a validation split it cannot choose an epoch on.

The empty-split check (608e2bd) counts validation patches with a known label, but two patch sets pass it and still
validate on nothing usable: every epoch's monitor reads 0 (NaN AUCs count as 0), epoch 1 is kept as the best,
early stopping ends the run `patience` epochs later and that network is installed as if chosen on validation
patients - the very outcome the check was written to prevent.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from mammoview.cad.preprocess import PreprocessConfig
from mammoview.cli import main
from mammoview.training.extract import extract_patch_set
from mammoview.training.patches import ExtractConfig
from tests.training.test_extract import SMALL, make_fake_data
from tests.training.test_run_integrity import TINY


def _keep_val(patches: Path, keep) -> None:
    """Move every validation patient whose patches fail ``keep(rows)`` to the training side (index.csv, split.json)."""
    with open(patches / "index.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    by_patient: dict[str, list[dict[str, str]]] = {}
    for r in rows:
        if r["split"] == "val":
            by_patient.setdefault(r["patient"], []).append(r)
    moved = {p for p, rr in by_patient.items() if not keep(rr)}
    assert moved and set(by_patient) - moved, "fixture: need both moved and kept validation patients"
    for r in rows:
        if r["patient"] in moved:
            r["split"] = "train"
    with open(patches / "index.csv", "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    doc = json.loads((patches / "split.json").read_text())
    doc["patients"]["val"] = [p for p in doc["patients"]["val"] if p not in moved]
    doc["patients"]["train"] = sorted(set(doc["patients"]["train"]) | moved)
    (patches / "split.json").write_text(json.dumps(doc, indent=1))


@pytest.fixture()
def patch_dir(tmp_path) -> Path:
    data = make_fake_data(tmp_path / "data")
    patches = tmp_path / "patches"
    extract_patch_set(patches, data_dir=data, pcfg=PreprocessConfig(), val_fraction=0.5, progress=False,
                      ecfg=ExtractConfig(**SMALL))  # fmt: skip
    return patches


def test_train_refuses_a_validation_split_of_one_class(patch_dir, tmp_path, capsys):
    # validation: normal patches only (every lesion patient moved to training)
    _keep_val(patch_dir, lambda rr: all(r["label"] == "normal" for r in rr))
    code = main(["train", "--patches", str(patch_dir), "--out", str(tmp_path / "run"), "--epochs", "2", *TINY])
    err = capsys.readouterr().err
    assert code != 0 and "validation" in err, err
    assert not (tmp_path / "run" / "checkpoints" / "best.safetensors").exists()
