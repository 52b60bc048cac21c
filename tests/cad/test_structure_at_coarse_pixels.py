"""The blank-exposure rule (breast_mask.structure_ratio) on real breasts at every model's pixel size: the density
network prepares the image at 1.5 mm, where a real CBIS-DDSM mammogram read as "no breast" (its black background,
over half the image, made the median pixel difference 0, and the fallback counted the skin line and the tissue's own
gradients as noise)."""

from __future__ import annotations

import json

from mammoview.cad.preprocess import PreprocessConfig, prepare
from mammoview.io.header_model import PixelSpacing


def _cbis(data_dir, image_id):  # type: ignore[no-untyped-def]
    from mammoview.training.sources import cbis_images

    return next(s for s in cbis_images(data_dir) if s.image_id == image_id)


def test_a_real_mammogram_keeps_its_breast_at_the_density_models_pixel_size(data_dir):
    from mammoview.training.patches import load_presentation

    src = _cbis(data_dir, "01382_LEFT_MLO")
    spacing = PixelSpacing(*src.spacing, "CBIS-DDSM stored grid")
    for px in (0.3, 0.6, 1.5):  # the detector's, the verifier's and malignancy model's, the density model's
        prep = prepare(load_presentation(src.path), spacing, PreprocessConfig(pixel_size_mm=px))
        assert prep.mask.mean() > 0.2, f"{src.image_id} at {px} mm: breast mask {prep.mask.mean():.2f}"


def test_the_density_cli_grades_a_real_mammogram(data_dir, tmp_path, capsys):
    from mammoview.cli import main

    out = tmp_path / "density.json"
    main(["density", str(_cbis(data_dir, "01382_LEFT_MLO").path), "--pixel-spacing", "0.29,0.1769",
          "--json", str(out)])  # fmt: skip
    entry = json.loads(out.read_text())["images"][0]
    assert "density" in entry, (entry, capsys.readouterr().err)
