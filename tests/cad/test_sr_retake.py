"""A view with two images in one study (a retake, a large breast's second exposure), which the viewer names
`L CC (2 of 2)`: the SR named both images' findings and scores alike (`L CC CAD finding 1`, `L CC image scores`
twice), so a PACS list of the SR's measurements cannot tell which exposure a finding is on."""

from __future__ import annotations

import pydicom

from mammoview.cad.sr import study_sr, write_sr
from tests.cad.test_sr_interop import MODEL, PIXELS, _result, _tracking_ids
from tests.synthetic import mammo_dataset, write_dataset


def test_the_images_of_a_retaken_view_are_named_apart_in_the_sr(tmp_path):
    a = write_dataset(mammo_dataset(PIXELS, "L", "CC", study_uid="1.2.3"), tmp_path / "lcc.dcm")
    b = write_dataset(mammo_dataset(PIXELS, "L", "CC", study_uid="1.2.3"), tmp_path / "lcc-retake.dcm")
    c = write_dataset(mammo_dataset(PIXELS, "L", "MLO", study_uid="1.2.3"), tmp_path / "lmlo.dcm")
    from mammoview.io.model import View

    results = [_result(a), _result(b), _result(c, View.LMLO)]
    sr = pydicom.dcmread(write_sr(study_sr(results, MODEL), tmp_path / "sr.dcm"))
    ids = _tracking_ids(sr)
    assert len(ids) == len(set(ids)), ids
    assert "L MLO CAD finding 1" in ids  # a view of one image keeps its plain name
