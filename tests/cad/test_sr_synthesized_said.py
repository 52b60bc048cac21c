"""A synthesized 2-D view (Image Type GENERATED_2D, computed from tomosynthesis): the viewer and `detect` warn that
the CAD was trained on screen-film exposures, not on such images; its SR says so beside the view's marks and scores,
as it says an implant (a view with both carries both warnings)."""

from __future__ import annotations

from dataclasses import replace

import highdicom as hd

from mammoview.cad.cad_input import IMPLANT_NOTE, SYNTHESIZED_NOTE
from mammoview.cad.sr import study_sr, write_sr
from mammoview.io.model import View
from tests.cad.test_sr_implant_said import _parameters
from tests.cad.test_sr_interop import MODEL, PIXELS, _result
from tests.synthetic import mammo_dataset, write_dataset


def test_the_sr_says_which_views_are_synthesized_2d(tmp_path):
    a = write_dataset(mammo_dataset(PIXELS, "L", "CC", study_uid="1.2.3"), tmp_path / "lcc.dcm")
    b = write_dataset(mammo_dataset(PIXELS, "R", "CC", study_uid="1.2.3"), tmp_path / "rcc.dcm")
    c = write_dataset(mammo_dataset(PIXELS, "R", "MLO", study_uid="1.2.3"), tmp_path / "rmlo.dcm")
    results = [replace(_result(a), synthesized=True), _result(b, View.RCC),
               replace(_result(c, View.RMLO), synthesized=True, implant=True)]  # fmt: skip
    sr = hd.sr.srread(write_sr(study_sr(results, MODEL), tmp_path / "sr.dcm"))
    groups = [*sr.content.get_planar_roi_measurement_groups(), *sr.content.get_image_measurement_groups()]
    said = {g.tracking_identifier: (SYNTHESIZED_NOTE in _parameters(g), IMPLANT_NOTE in _parameters(g))
            for g in groups}  # fmt: skip
    assert said == {"L CC CAD finding 1": (True, False), "L CC image scores": (True, False),
                    "R CC CAD finding 1": (False, False), "R CC image scores": (False, False),
                    "R MLO CAD finding 1": (True, True), "R MLO image scores": (True, True)}  # fmt: skip
