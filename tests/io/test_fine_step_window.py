"""The automatic windows of an image whose values come in steps finer than 1 (a float image read as 65536 steps of
1/65535 of its range; a rescale slope below 1).  LINEAR's formula (PS3.3 C.11.2.1.2.1) has edges half a unit
outside c -/+ w/2, so window_from_range widened every window by one whole unit: on a 0-1 image the viewer opened
at W 1.5 L 1.25, the tissue in the darker half of the grey scale and the picture's top half unused."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from mammoview.io import read_image
from mammoview.io.chain_model import VoiFunction
from mammoview.io.pixels import default_window, window_presets
from mammoview.io.windows import window_from_range
from tests.synthetic import synthetic_breast


def test_a_range_in_fine_steps_is_an_exact_window():
    w = window_from_range(0.25, 0.75, "tissue", step=1.0 / 65535)
    assert w.function is VoiFunction.LINEAR_EXACT and (w.center, w.width) == (0.5, 0.5)
    whole = window_from_range(100, 300, "tissue")  # integer values: LINEAR as the standard writes it
    assert whole.function is VoiFunction.LINEAR and (whole.center, whole.width) == (200.5, 201.0)


def test_a_float_image_opens_with_its_tissue_across_the_grey_scale(tmp_path: Path):
    px = synthetic_breast(80, 60, max_value=4095).astype(np.float32) / 4095.0
    path = tmp_path / "norm.tif"
    Image.fromarray(px).save(path)
    image = read_image(path)
    w = default_window(image.info, image.stored)
    assert w.function is VoiFunction.LINEAR_EXACT
    assert w.center - w.width / 2 >= 0.0 and w.center + w.width / 2 <= 1.0 + 1e-9, w  # within the image's values
    full = window_presets(image.info, image.stored)[-1]
    assert abs(full.center - float(px.max() + px.min()) / 2) < 1e-3 and abs(full.width - float(np.ptp(px))) < 1e-3
