"""Breast mask helpers that extraction relies on: chest-wall side and pectoral muscle (synthetic MLO)."""

from __future__ import annotations

import numpy as np
import pytest

from mammoview.cad.breast_mask import breast_mask
from mammoview.cad.landmarks import chest_wall_side, pectoral_mask
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


@pytest.mark.parametrize("side", ["left", "right"])
def test_mlo_nipple_is_the_breast_point_farthest_from_the_muscle_edge(side):
    from mammoview.cad.landmarks import TYPICAL_PECTORAL_SLOPE, nipple_point, pectoral_line
    from mammoview.cad.preprocess import PreparedImage
    from mammoview.io.header_model import PixelSpacing

    img, _ = _mlo(side)
    mask = breast_mask(img, 0.3)
    prep = PreparedImage(data=img[None], mask=mask, scale_y=1.0, scale_x=1.0, stored_shape=img.shape,
                         spacing=PixelSpacing(0.3, 0.3, "test"), pixel_size_mm=0.3)  # fmt: skip
    line = pectoral_line(img, mask, side, 0.3)
    assert line is not None and line[0] == pytest.approx(-0.8 if side == "left" else 0.8, abs=0.15)
    x, y = nipple_point(prep, mlo=True)
    a, b = line
    ys, xs = np.nonzero(mask)
    beyond = (xs - (a * ys + b)) * (1 if side == "left" else -1)
    mine = ((x - 0.5) - (a * (y - 0.5) + b)) * (1 if side == "left" else -1)
    assert mine >= beyond.max() - 6  # within 2 mm of the farthest breast pixel
    # the phantom's half-ellipse: perpendicular to a -0.8 slope the farthest point is below mid-height
    assert 330 < y < 410
    # An MLO whose muscle edge is not seen: the same rule with the edge's typical direction.
    plain, _ = _mlo(side, muscle=False)
    plain_mask = breast_mask(plain, 0.3)
    no_muscle = PreparedImage(data=plain[None], mask=plain_mask, scale_y=1.0, scale_x=1.0, stored_shape=plain.shape,
                              spacing=PixelSpacing(0.3, 0.3, "test"), pixel_size_mm=0.3)  # fmt: skip
    assert pectoral_line(plain, plain_mask, side, 0.3) is None
    x2, y2 = nipple_point(no_muscle, mlo=True)
    sign = 1 if side == "left" else -1
    ys2, xs2 = np.nonzero(plain_mask)
    along = (xs2 - sign * TYPICAL_PECTORAL_SLOPE * ys2) * sign
    assert ((x2 - 0.5) - sign * TYPICAL_PECTORAL_SLOPE * (y2 - 0.5)) * sign >= along.max() - 6
    # As a CC: the tip, where the breast reaches farthest from the wall.
    tip_x, tip_y = nipple_point(prep, mlo=False)
    assert tip_y == pytest.approx(250, abs=10)
    assert tip_x == pytest.approx(60 + 240 if side == "left" else 60 + 299 - 240, abs=6)
