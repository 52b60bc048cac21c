"""Breast mask helpers that extraction relies on: chest-wall side and pectoral muscle (synthetic MLO)."""

from __future__ import annotations

import numpy as np
import pytest

from mammoview.cad.preprocess import breast_mask, chest_wall_side, pectoral_mask
from tests.synthetic import synthetic_breast


def _mlo(chest_wall: str, pad: int = 60, muscle: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """A breast phantom on a black canvas (not touching the border, like mini-MIAS) with a bright wedge."""
    img = synthetic_breast(500, 300, chest_wall=chest_wall, seed=3, max_value=255, dtype=np.uint8)
    img = img.astype(np.float32) / 255
    yy, xx = np.mgrid[0:500, 0:300]
    dist = xx if chest_wall == "left" else 299 - xx
    wedge = (dist < 160 - 0.8 * yy) & (img > 0.1)
    if muscle:
        img[wedge] = np.clip(img[wedge] + 0.3, 0, 1)
    canvas = np.zeros((500, 300 + 2 * pad), np.float32)
    canvas[:, pad : pad + 300] = img
    truth = np.zeros_like(canvas, dtype=bool)
    truth[:, pad : pad + 300] = wedge if muscle else False
    return canvas, truth


@pytest.mark.parametrize("side", ["left", "right"])
def test_chest_wall_side_on_centred_breast(side):
    img, _ = _mlo(side)
    assert chest_wall_side(breast_mask(img, 0.3)) == side


@pytest.mark.parametrize("side", ["left", "right"])
def test_pectoral_mask_finds_the_wedge(side):
    img, truth = _mlo(side)
    mask = breast_mask(img, 0.3)
    pm = pectoral_mask(img, mask, side, 0.3)
    iou = (pm & truth).sum() / max(1, (pm | truth).sum())
    assert iou > 0.7


def test_pectoral_mask_empty_without_muscle():
    img, _ = _mlo("left", muscle=False)
    mask = breast_mask(img, 0.3)
    assert pectoral_mask(img, mask, "left", 0.3).sum() < 0.02 * mask.sum()
