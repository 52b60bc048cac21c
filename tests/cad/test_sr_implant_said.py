"""A view whose file says a breast implant is present: the viewer and `detect` warn that the CAD was not validated
on images with implants (read its marks and scores there with care); its SR gave the marks and scores without a
word of it, so a PACS showed them as any other view's."""

from __future__ import annotations

from dataclasses import replace

import highdicom as hd

from mammoview.cad.cad_input import IMPLANT_NOTE
from mammoview.cad.sr import study_sr, write_sr
from mammoview.io.model import View
from tests.cad.test_sr_interop import MODEL, PIXELS, _result
from tests.synthetic import mammo_dataset, write_dataset


def _parameters(group) -> list[str]:  # type: ignore[no-untyped-def]
    return [str(i.TextValue) for i in group[0].ContentSequence
            if i.ConceptNameCodeSequence[0].CodeMeaning == "Algorithm Parameters"]  # fmt: skip


def test_the_sr_says_which_views_have_an_implant(tmp_path):
    a = write_dataset(mammo_dataset(PIXELS, "L", "CC", study_uid="1.2.3"), tmp_path / "lcc.dcm")
    b = write_dataset(mammo_dataset(PIXELS, "R", "CC", study_uid="1.2.3"), tmp_path / "rcc.dcm")
    results = [replace(_result(a), implant=True), _result(b, View.RCC)]
    sr = hd.sr.srread(write_sr(study_sr(results, MODEL), tmp_path / "sr.dcm"))
    groups = [*sr.content.get_planar_roi_measurement_groups(), *sr.content.get_image_measurement_groups()]
    said = {g.tracking_identifier: IMPLANT_NOTE in _parameters(g) for g in groups}
    assert said == {"L CC CAD finding 1": True, "L CC image scores": True,
                    "R CC CAD finding 1": False, "R CC image scores": False}  # fmt: skip
