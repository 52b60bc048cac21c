"""`mammoview density` (which runs no detector) on a blank exposure with the heel effect: the viewer's study pipeline
leaves it out by the detector's word (the blank-exposure rule runs at the detector's grid only,
``breast_mask.STRUCTURE_MAX_MM``), but the standalone command graded it at the density model's coarse grid and
averaged it into the breast's and the exam's density (the shipped model: the blank view `d` 0.84, the left breast
`a` -> `d`)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tests.cad.test_density import density_dir  # noqa: F401  (fixture)
from tests.synthetic import mammo_dataset, synthetic_breast, write_dataset


def test_mammoview_density_gives_a_blank_heel_exposure_no_density_as_the_viewer_does(density_dir, tmp_path):  # noqa: F811
    from mammoview.cli import main

    d = tmp_path / "study"
    write_dataset(mammo_dataset(synthetic_breast(800, 500, seed=1), "L", "MLO", pixel_spacing=(0.25, 0.25),
                                study_uid="1.2.3"), d / "LMLO.dcm")  # fmt: skip
    rng = np.random.default_rng(0)  # detector noise over a slope of 30 noise SDs across the field
    blank = (2000 + 20 * rng.normal(0, 1, (800, 500)) + np.linspace(0, 600, 500)).astype(np.uint16)
    write_dataset(mammo_dataset(blank, "L", "CC", pixel_spacing=(0.25, 0.25), study_uid="1.2.3"),
                  d / "LCC_blank.dcm")  # fmt: skip
    out = tmp_path / "density.json"
    main(["density", str(d), "--json", str(out), "--models-dir", str(density_dir), "--device", "cpu"])
    doc = json.loads(out.read_text())
    by_name = {e["path"].rsplit("/", 1)[1]: e for e in doc["images"]}
    assert by_name["LCC_blank.dcm"].get("density") is None, by_name["LCC_blank.dcm"]
    (study,) = doc["studies"]
    left = study["breasts"]["L"]
    assert left["views"] == 1
    assert left["probabilities"] == pytest.approx(by_name["LMLO.dcm"]["density"]["probabilities"], abs=2e-4)
