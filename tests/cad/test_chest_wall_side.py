"""The CAD reads a chest wall alike whichever side of the stored image it is on.

Training cut its context as 0 beyond the image border (``mammoview/training/extract.py``, "context"), and the
convolutions pad the top/left border with 0 too; the bottom/right border was padded to the stride with the image's
minimum (background) first, so a chest wall stored on the right (most right breasts) met a strip of "background"
and its cells read lower than the same chest wall stored on the left.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from mammoview.cad.calibration import logit
from mammoview.cad.inference import pad_to_stride
from mammoview.cad.pipeline import analyse_image, drain
from mammoview.cad.types import Heatmap
from mammoview.io import read_image


def _at(hm: Heatmap, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    p = hm.as_float()
    j = np.floor((xs - hm.x0) / hm.scale_x).astype(int)
    i = np.floor((ys - hm.y0) / hm.scale_y).astype(int)
    ok = (i >= 0) & (i < p.shape[0]) & (j >= 0) & (j < p.shape[1])
    out = np.zeros(xs.shape, np.float64)
    out[ok] = p[i[ok], j[ok]]
    return out


def test_padding_to_the_stride_continues_the_image_as_training_did():
    data = np.full((1, 20, 33), 2.0, np.float32)
    data[0, 0, 0] = -4.0  # the background's level somewhere else in the image
    padded = pad_to_stride(data, 16)
    assert padded.shape == (1, 32, 48)
    assert (padded[0, 20:, :] == 0.0).all() and (padded[0, :, 33:] == 0.0).all()


@pytest.mark.parametrize("name", ["1-280.dcm", "1-282.dcm"])  # L CC (chest wall stored left), R CC (right)
def test_a_chest_wall_reads_alike_on_either_side_of_the_stored_image(demo_dir, name, shipped_detector):
    model = shipped_detector
    image = read_image(demo_dir / name)
    mirrored = replace(image, stored=np.ascontiguousarray(image.stored[:, ::-1]))
    a = drain(analyse_image(model, image)).heatmaps["abnormal"]
    b = drain(analyse_image(model, mirrored)).heatmaps["abnormal"]
    rows, cols = image.shape
    mm = 0.0971  # the demo files' estimated spacing (230 mm / 2368 rows)
    ys = np.arange(0.0, rows, 8.0)
    side = image.display.chest_wall_side
    xs = np.full_like(ys, 5 / mm if side == "left" else cols - 5 / mm)  # 5 mm from the chest wall
    pa, pb = _at(a, xs, ys), _at(b, cols - xs, ys)
    both = (pa > 0) & (pb > 0)
    assert both.sum() > 100
    shift = float((logit(pa[both]) - logit(pb[both])).mean())
    # the grid falls a few pixels apart on the mirror image (its padding is on the other side): some difference
    # stays; the background strip made it 1.7 (L CC) and -3.8 (R CC) log-odds on average
    assert abs(shift) < 1.0, f"the chest wall reads {shift:+.2f} log-odds apart on the two sides"
