"""The file's display window does not change what the networks read.

Every network was trained on files without a window (CBIS-DDSM, mini-MIAS, MAGIC-5: the full range of their
values).  A header window that clips the breast (a vendor's or PACS's window for another purpose, or a wrong one)
used to reach the networks: a window that whited out the breast left the shipped detector a flat image (abnormal
0.10, the mass gone) and no warning.  The networks now read the full range of the values present whatever the
header says; the viewer still shows the file's window.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from mammoview.cad.pipeline import analyse_image, drain
from mammoview.cad.preprocess import presentation_of
from mammoview.io import read_image
from mammoview.io.chain_model import VoiFunction, VoiWindow
from mammoview.io.pixels import to_presentation
from mammoview.training.patches import load_presentation


def _windowed(image, window: VoiWindow):
    chain = replace(image.info.chain, windows=(window,))
    return replace(image, info=replace(image.info, chain=chain))


def _breast_window(image, centre_q: float, width_frac: float) -> VoiWindow:
    """A window centred at the ``centre_q`` quantile of the tissue's stored values."""
    tissue = image.stored[image.stored > np.percentile(image.stored, 60)]
    lo, hi = np.percentile(tissue, [1, 99])
    return VoiWindow(center=float(np.quantile(tissue, centre_q)), width=max(1.0, float(hi - lo) * width_frac))


@pytest.mark.parametrize(
    "centre_q, width_frac, function",
    [(0.05, 0.05, VoiFunction.LINEAR), (0.5, 0.2, VoiFunction.LINEAR), (0.5, 0.2, VoiFunction.SIGMOID)],
    ids=["whites out the breast", "narrow", "sigmoid"],
)
def test_a_header_window_leaves_the_networks_input_alone(demo_dir, tmp_path, centre_q, width_frac, function):
    image = read_image(demo_dir / "1-280.dcm")
    plain = presentation_of(image)
    win = replace(_breast_window(image, centre_q, width_frac), function=function)
    windowed = _windowed(image, win)
    shown = to_presentation(windowed.stored, windowed.info.chain)
    assert np.abs(shown - plain).max() > 0.2  # the window changes what the reader sees ...
    np.testing.assert_array_equal(presentation_of(windowed), plain)  # ... not what the networks read


def test_training_reads_files_as_the_cad_does(demo_dir):
    image = read_image(demo_dir / "1-280.dcm")
    np.testing.assert_array_equal(load_presentation(demo_dir / "1-280.dcm"), presentation_of(image))


def test_the_shipped_detector_finds_the_mass_under_a_window_that_whites_out_the_breast(demo_dir, shipped_detector):
    model = shipped_detector
    image = read_image(demo_dir / "1-280.dcm")  # L CC, the malignant mass at about (370, 1408)
    windowed = _windowed(image, _breast_window(image, 0.05, 0.05))
    shown = to_presentation(windowed.stored, windowed.info.chain)
    assert (shown[image.stored > np.percentile(image.stored, 60)] >= 0.999).mean() > 0.8  # white breast
    a = drain(analyse_image(model, image))
    b = drain(analyse_image(model, windowed))
    assert b.abnormal == a.abnormal and b.findings[0].center == a.findings[0].center
