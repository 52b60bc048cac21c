"""An image without a breast (a blank exposure, a phantom's empty field) gets no finding from a speck or a marker:
the largest bright component is only the breast when it is the size of one."""

from __future__ import annotations

import numpy as np

from mammoview.cad.breast_mask import breast_mask
from mammoview.cad.pipeline import analyse_image, drain
from tests.cad.conftest import make_image


def _speck() -> np.ndarray:
    img = np.zeros((600, 400), np.uint16)
    img[100:110, 100:110] = 4095  # 2.5 x 2.5 mm at 0.25 mm: dust, a skin marker, a lead letter's dot
    return img


def test_a_speck_on_a_blank_image_is_no_breast():
    pres = _speck().astype(np.float32) / 4095
    assert not breast_mask(pres, 0.25).any()


def test_a_blank_image_with_a_speck_gets_no_finding_and_no_score(bright_model):
    r = drain(analyse_image(bright_model, make_image(_speck(), spacing=0.25), tile=64))
    assert r.findings == ()
    assert r.abnormal == 0.0 and r.breast_mask_fraction == 0.0
