"""SIGMOID windows narrower than 1: valid (PS3.3 C.11.2.1.3.1 asks only Window Width > 0), unlike LINEAR's >= 1."""

from __future__ import annotations

import numpy as np
import pytest
from pydicom.pixels import apply_windowing

from mammoview.io.chain import pixel_chain
from mammoview.io.chain_model import VoiFunction, VoiWindow
from mammoview.io.pixels import apply_modality, apply_voi
from tests.synthetic import mammo_dataset


def test_a_sigmoid_window_narrower_than_one_is_read_and_applied() -> None:
    px = np.array([[98, 99, 100, 101, 102, 4095]], dtype=np.uint16)
    ds = mammo_dataset(px, window=(100.25, 0.5))
    ds.VOILUTFunction = "SIGMOID"
    warnings: list[str] = []
    chain = pixel_chain(ds, warnings)
    assert warnings == []
    assert chain.windows == (VoiWindow(100.25, 0.5, VoiFunction.SIGMOID),)
    ours = apply_voi(apply_modality(px, chain), chain)
    expected = 1 / (1 + np.exp(-4 * (px.astype(np.float64) - 100.25) / 0.5))  # C.11.2.1.3.1, y in [0, 1]
    assert np.allclose(ours, expected)
    theirs = apply_windowing(px.astype(np.float64), ds)  # pydicom: y * (2**BitsStored - 1) for unsigned data
    assert np.allclose(ours, theirs / (2**ds.BitsStored - 1))
    assert ours[0, 2] < 0.5 < ours[0, 3]  # the narrow sigmoid splits 100 from 101, as its centre 100.25 says


@pytest.mark.parametrize("width", [0.0, -0.5])
def test_a_sigmoid_window_not_wider_than_zero_names_the_tag(width: float) -> None:
    with pytest.raises(ValueError, match=r"\(0028,1051\) Window Width must be > 0 for SIGMOID"):
        VoiWindow(100, width, VoiFunction.SIGMOID)
    ds = mammo_dataset(np.zeros((4, 4), dtype=np.uint16), window=(100, width))
    ds.VOILUTFunction = "SIGMOID"
    warnings: list[str] = []
    assert pixel_chain(ds, warnings).windows == ()
    assert any(w.startswith("(0028,1051) Window Width must be > 0 for SIGMOID") for w in warnings), warnings


def test_a_linear_window_narrower_than_one_is_still_refused() -> None:
    with pytest.raises(ValueError, match=r"\(0028,1051\) Window Width must be >= 1 for LINEAR"):
        VoiWindow(100, 0.5, VoiFunction.LINEAR)
