"""A breast's density must not depend on which of a view's images is hung when CAD runs (the viewer hands the
pipeline the shown images first): one image per view, the first in the study's order, as `mammoview density`."""

from __future__ import annotations

import dataclasses

import pytest

from mammoview.cad.density import TASK
from mammoview.cad.pipeline import analyse_study, drain
from mammoview.cad.weights import load_model
from mammoview.io.model import Laterality, View
from tests.cad.conftest import make_image
from tests.cad.test_density import density_dir  # noqa: F401  (fixture)
from tests.synthetic import synthetic_breast


@pytest.fixture()
def models(density_dir):  # noqa: F811  (the fixture of tests/cad/test_density.py)
    return load_model(models_dir=density_dir, device="cpu"), load_model(models_dir=density_dir, device="cpu", task=TASK)


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
