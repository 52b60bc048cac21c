"""Presentation LUT Shape (2050,0020): INVERSE states that the minimum value is white, whatever the photometric."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pydicom
from pydicom.pixels import apply_modality_lut, apply_presentation_lut, apply_voi_lut

from mammoview.io import read_image
from mammoview.io.pixels import to_presentation
from tests.synthetic import mammo_dataset, synthetic_breast, write_dataset


def test_monochrome2_with_inverse_shape_is_inverted(tmp_path: Path) -> None:
    tissue_bright = synthetic_breast(200, 140, seed=2)  # 0..4095, tissue bright
    ds = mammo_dataset((4095 - tissue_bright).astype(np.uint16), window=(2048, 4096))  # stored dark-is-tissue
    ds.PresentationLUTShape = "INVERSE"  # ... which the Presentation LUT turns round
    path = write_dataset(ds, tmp_path / "m2_inverse.dcm")
    image = read_image(path)
    pres = to_presentation(image.stored, image.info.chain)
    # pydicom's chain (modality -> VOI -> presentation LUT) shows the tissue bright
    ref_ds = pydicom.dcmread(path)
    ref = apply_presentation_lut(apply_voi_lut(apply_modality_lut(ref_ds.pixel_array, ref_ds), ref_ds), ref_ds)
    assert np.corrcoef(ref.ravel(), tissue_bright.ravel())[0, 1] > 0.99
    assert np.corrcoef(pres.ravel(), tissue_bright.ravel())[0, 1] > 0.99  # what the CAD reads and the reader sees
    assert image.info.chain.inverted


def test_monochrome1_with_inverse_shape_is_inverted_once(tmp_path: Path) -> None:
    tissue_bright = synthetic_breast(200, 140, seed=2)
    ds = mammo_dataset((4095 - tissue_bright).astype(np.uint16), photometric="MONOCHROME1", window=(2048, 4096))
    ds.PresentationLUTShape = "INVERSE"
    image = read_image(write_dataset(ds, tmp_path / "m1_inverse.dcm"))
    pres = to_presentation(image.stored, image.info.chain)
    assert np.corrcoef(pres.ravel(), tissue_bright.ravel())[0, 1] > 0.99
    assert not [w for w in image.info.warnings if "2050,0020" in w]
