"""Fixtures of several training test modules."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mammoview.cad.preprocess import PreprocessConfig
from mammoview.training.extract import extract_patch_set
from mammoview.training.patches import ExtractConfig
from tests.training.test_extract import SMALL, make_fake_data


@pytest.fixture(scope="session")
def _two_sets_made(tmp_path_factory) -> Path:
    """Two patch sets of the same data with different split seeds, made once a test session (~7 s; nine modules
    use them, each its own copy: :func:`tests.training.test_run_integrity.two_sets`)."""
    root = tmp_path_factory.mktemp("review")
    data = make_fake_data(root / "data")
    out = []
    for seed in (1, 2):
        d = root / f"patches{seed}"
        extract_patch_set(d, data_dir=data, pcfg=PreprocessConfig(), val_fraction=0.34, progress=False,
                          ecfg=ExtractConfig(**{**SMALL, "seed": seed}))  # fmt: skip
        out.append(d)
    a, b = (json.loads((d / "split.json").read_text())["patients"] for d in out)
    assert set(a["val"]) & set(b["train"]), "the two seeds must move some validation patients to training"
    return root
