"""`mammoview train` prints the best epoch's headline numbers after training, then installs (--install-to).

An undefined number (NaN in metrics.json, None in the manifest's metrics) is legitimate there: precision when the
best epoch called no validation patch a lesion, an AUC when the validation split lacks a class. The print used
`:.4f` on None, so the command failed with "unsupported format string passed to NoneType.__format__" after the
whole training, before --install-to ran.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from mammoview.cad.preprocess import PreprocessConfig
from mammoview.cli import main
from mammoview.training.extract import extract_patch_set
from mammoview.training.patches import ExtractConfig
from tests.training.test_extract import SMALL, make_fake_data
from tests.training.test_run_integrity import TINY


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("rev5")
    data = make_fake_data(root / "data")
    patches = root / "patches"
    extract_patch_set(patches, data_dir=data, pcfg=PreprocessConfig(), val_fraction=0.34, progress=False,
                      ecfg=ExtractConfig(**SMALL))  # fmt: skip
    run = root / "run"
    assert main(["train", "--patches", str(patches), "--out", str(run), "--epochs", "1", *TINY]) == 0
    return run


def test_install_after_a_best_epoch_that_called_no_patch_a_lesion(finished_run, tmp_path, capsys):
    summary_path = finished_run / "summary.json"
    summary = json.loads(summary_path.read_text())
    # what patch_metrics gives when no validation patch reaches 1 - p(normal) >= 0.5: precision 0/0
    summary["val_metrics"]["lesion_vs_normal"]["precision"] = math.nan
    summary_path.write_text(json.dumps(summary, indent=1))
    models = tmp_path / "models"
    code = main(["train", "--patches", summary["patches"], "--out", str(finished_run), "--install-only",
                 "--install-to", str(models), "--name", "t"])  # fmt: skip
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "precision n/a" in out
    assert (models / "manifest.json").is_file()


def test_train_refuses_a_patch_set_without_validation_patches(tmp_path, capsys):
    """`extract-patches --val-fraction 0` (accepted) gives a patch set with no validation patient. `train` then
    "validated" on nothing: every epoch's monitor read 0, epoch 1 was kept as the best, early stopping ended the
    run `patience` epochs later, and that epoch-1 network was installed as if chosen on validation patients."""
    data = make_fake_data(tmp_path / "data")
    patches = tmp_path / "patches"
    extract_patch_set(patches, data_dir=data, pcfg=PreprocessConfig(), val_fraction=0.0, progress=False,
                      ecfg=ExtractConfig(**SMALL))  # fmt: skip
    code = main(["train", "--patches", str(patches), "--out", str(tmp_path / "run"), "--epochs", "2", *TINY])
    err = capsys.readouterr().err
    assert code != 0 and "validation" in err, err
    assert not (tmp_path / "run" / "checkpoints" / "best.safetensors").exists()
