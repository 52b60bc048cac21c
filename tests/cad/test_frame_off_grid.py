"""A bright film frame drawn at the stored resolution, not on the model's grid: the frame rule
(``breast_mask.flat_border``) finds it, but the line where the resampled frame ends is partly frame and the
breast threshold's smoothing carries it two lines on: with only one line cut beside the frame, a ring of
foreground was left all round, its inside filled, and the whole image became the "breast"."""

from __future__ import annotations

import numpy as np
import pytest
from skimage.transform import resize

from mammoview.cad.breast_mask import breast_mask
from mammoview.cad.preprocess import PreprocessConfig, prepare
from mammoview.io.header_model import PixelSpacing
from tests.synthetic import synthetic_breast


@pytest.mark.parametrize("stored_mm", [0.05, 0.1, 0.15, 0.2])
@pytest.mark.parametrize("frame_mm", [4.0, 8.0])
def test_a_frame_all_round_at_the_stored_resolution_is_not_breast(stored_mm, frame_mm):
    px = 0.3
    breast = synthetic_breast(800, 500, seed=4).astype(np.float32) / 4095  # on the 0.3 mm grid
    plain = breast_mask(breast, px)
    f = px / stored_mm
    stored = resize(breast, (round(800 * f), round(500 * f)), order=1, preserve_range=True).astype(np.float32)
    w = round(frame_mm / stored_mm)
    stored[:w] = stored[-w:] = 1.0
    stored[:, :w] = stored[:, -w:] = 1.0
    prepared = prepare(stored, PixelSpacing(stored_mm, stored_mm, "test"), PreprocessConfig(pixel_size_mm=px),
                       chest_wall="left")  # fmt: skip
    mask = prepared.mask
    assert mask.shape == plain.shape
    assert mask.mean() < plain.mean() * 1.05, f"mask {mask.mean():.2f} of the image, the breast {plain.mean():.2f}"
    assert (mask & plain).sum() > 0.85 * plain.sum(), "the breast is lost"
    inner = np.zeros_like(mask)
    m = round(frame_mm / px) + 1
    inner[m:-m, m:-m] = True
    assert (mask & ~inner).sum() < 0.02 * mask.sum(), "the frame is in the breast mask"


def test_a_chest_wall_frame_at_the_stored_resolution_leaves_no_strip_along_the_whole_edge():
    """A frame along the chest wall only: the bright line beside it ran the image's whole height and joined the
    breast, so the mask's rows (the density canvas's crop, the nipple's search) spanned the whole image."""
    px, stored_mm = 0.3, 0.15
    breast = synthetic_breast(800, 500, seed=4).astype(np.float32) / 4095
    plain = breast_mask(breast, px)
    stored = resize(breast, (1600, 1000), order=1, preserve_range=True).astype(np.float32)
    stored[:, : round(4.0 / stored_mm)] = 1.0
    mask = prepare(stored, PixelSpacing(stored_mm, stored_mm, "test"), PreprocessConfig(pixel_size_mm=px),
                   chest_wall="left").mask  # fmt: skip
    rows, plain_rows = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(plain.any(axis=1))
    assert rows[0] >= plain_rows[0] - 3 and rows[-1] <= plain_rows[-1] + 3, (rows[[0, -1]], plain_rows[[0, -1]])
