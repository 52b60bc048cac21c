"""`mammoview density` and the study pipeline on a view without any breast: no density, its breast unaffected."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest

from tests.cad.test_density import density_dir  # noqa: F401  (fixture)
from tests.synthetic import mammo_dataset, synthetic_breast, write_dataset


def test_a_view_without_any_breast_gets_no_density_and_does_not_dilute_its_breasts_mean(density_dir, tmp_path):  # noqa: F811
    """A blank L CC (a failed exposure, a non-mammogram: the breast mask finds nothing) went to the density network
    as an all-zero canvas, and its output (the network's prior: `b`, 0.28 with the shipped model) was written as the
    image's density and averaged into the left breast's and the exam's. The CAD scores such a view 0 (no breast);
    density must not grade it either."""
    from mammoview.cli import main

    d = tmp_path / "study"
    write_dataset(mammo_dataset(synthetic_breast(400, 260, seed=1), "L", "MLO", pixel_spacing=(0.25, 0.25),
                                study_uid="1.2.3"), d / "LMLO.dcm")  # fmt: skip
    write_dataset(mammo_dataset(np.zeros((400, 260), np.uint16), "L", "CC", pixel_spacing=(0.25, 0.25),
                                study_uid="1.2.3"), d / "LCC_blank.dcm")  # fmt: skip
    out = tmp_path / "density.json"
    main(["density", str(d), "--json", str(out), "--models-dir", str(density_dir), "--device", "cpu"])
    doc = json.loads(out.read_text())
    by_name = {e["path"].rsplit("/", 1)[1]: e for e in doc["images"]}
    assert "density" not in by_name["LCC_blank.dcm"] or by_name["LCC_blank.dcm"]["density"] is None
    (study,) = doc["studies"]
    left = study["breasts"]["L"]
    assert left["views"] == 1
    assert left["probabilities"] == pytest.approx(by_name["LMLO.dcm"]["density"]["probabilities"], abs=2e-4)


@pytest.mark.parametrize("blank_kind", ["empty", "heel exposure"])
def test_the_viewers_breast_density_leaves_out_a_view_without_any_breast(density_dir, blank_kind):  # noqa: F811
    """The same in the study pipeline (the CAD dock's `density B (0.28)` and the export): a blank view is no view of
    the breast's density, even when it comes first of its view (a retake with the breast follows).  A blank exposure
    with the heel effect, which only the detector's grid tells from a breast (breast_mask.STRUCTURE_MAX_MM), is left
    out by the detector's word: the density model at its coarse grid took its noise for a breast."""
    from mammoview.cad.density import TASK, assess
    from mammoview.cad.pipeline import analyse_study, drain
    from mammoview.cad.weights import load_model
    from mammoview.io.model import Laterality, View
    from tests.cad.conftest import make_image

    cad = load_model(models_dir=density_dir, device="cpu")
    cad = replace(cad, entry=replace(cad.entry, pixel_size_mm=0.3))  # the shipped detector's grid
    dens = load_model(models_dir=density_dir, device="cpu", task=TASK)
    mlo = make_image(synthetic_breast(400, 260, seed=1), view=View.LMLO, name="LMLO.dcm")
    if blank_kind == "empty":
        pixels = np.zeros((400, 260), np.uint16)
    else:  # detector noise over a slope of 30 noise SDs across the field
        rng = np.random.default_rng(0)
        pixels = (2000 + 20 * rng.normal(0, 1, (400, 260)) + np.linspace(0, 600, 260)).astype(np.uint16)
    blank = make_image(pixels, view=View.LCC, name="LCC-1.dcm")
    retake = make_image(synthetic_breast(400, 260, seed=2), view=View.LCC, name="LCC-2.dcm")
    alone = assess(dens, [mlo, retake])
    result = drain(analyse_study(cad, [blank, retake, mlo], density=dens), lambda p: None)
    left = result.breasts[Laterality.LEFT].density
    assert left is not None and left.n_views == 2
    want = np.mean([alone[str(mlo.path)].probabilities, alone[str(retake.path)].probabilities], 0)
    assert left.probabilities == pytest.approx(tuple(want))
