"""A breast's density must not depend on which of a view's images is hung when CAD runs (the viewer hands the
pipeline the shown images first): one image per view, the first in the study's order, as `mammoview density`."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from mammoview.cad.density import CATEGORIES, TASK
from mammoview.cad.pipeline import analyse_study, drain
from mammoview.cad.registry import create_model
from mammoview.cad.weights import ModelEntry, load_model, save_model
from mammoview.io.model import Laterality, View
from tests.cad.conftest import TINY_PAPER, make_image
from tests.synthetic import synthetic_breast


@pytest.fixture()
def models(tmp_path):
    torch.manual_seed(0)
    d = tmp_path / "models"
    save_model(create_model("paper_cnn", **TINY_PAPER), ModelEntry(name="test-cad", arch="paper_cnn",
               arch_kwargs=dict(TINY_PAPER), patch_size=64, pixel_size_mm=0.5), d, make_default=True)  # fmt: skip
    entry = ModelEntry(name="test-density", arch="paper_cnn", arch_kwargs=dict(TINY_PAPER), task=TASK,
                       outputs=CATEGORIES, classes=CATEGORIES, pixel_size_mm=2.0, patch_size=64,
                       test_time_flip=True, extra={"canvas_px": [64, 48]})  # fmt: skip
    save_model(create_model("paper_cnn", num_outputs=4, **TINY_PAPER), entry, d)
    return load_model(models_dir=d, device="cpu"), load_model(models_dir=d, device="cpu", task=TASK)


def _numbered(image, number):
    meta = dataclasses.replace(image.info.meta, instance_number=number)
    return dataclasses.replace(image, info=dataclasses.replace(image.info, meta=meta))


def test_the_breast_density_is_the_same_whichever_image_of_a_view_is_hung(models):
    cad, dens = models
    first = _numbered(make_image(synthetic_breast(400, 260, seed=1), view=View.LCC, name="LCC.dcm"), 1)
    retake = _numbered(make_image(synthetic_breast(400, 260, seed=7), view=View.LCC, name="LCC-retake.dcm"), 2)
    mlo = _numbered(make_image(synthetic_breast(400, 260, seed=2), view=View.LMLO, name="LMLO.dcm"), 3)
    hung_first = drain(analyse_study(cad, [first, mlo, retake], density=dens), lambda p: None)
    hung_retake = drain(analyse_study(cad, [retake, mlo, first], density=dens), lambda p: None)
    a = hung_first.breasts[Laterality.LEFT].density
    b = hung_retake.breasts[Laterality.LEFT].density
    assert a is not None and b is not None and a.n_views == b.n_views == 2
    assert b.probabilities == pytest.approx(a.probabilities)
