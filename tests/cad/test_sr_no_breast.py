"""An image in which the CAD found no breast (a blank exposure, a label only): the CAD read nothing there, and the
viewer and `detect` say its scores of 0 are no normal reading.  The SR gave that image `Certainty of Finding 0` and
`Probability of cancer 0`, which a PACS shows as a reading of the image: a normal one."""

from __future__ import annotations

from dataclasses import replace

import highdicom as hd
import pydicom

from mammoview.cad.sr import study_sr, write_sr
from mammoview.io.model import View
from tests.cad.test_sr_interop import MODEL, PIXELS, _result
from tests.synthetic import mammo_dataset, write_dataset


def test_an_image_without_a_breast_gets_no_scores_in_the_sr(tmp_path):
    read = write_dataset(mammo_dataset(PIXELS, "L", "CC", study_uid="1.2.3"), tmp_path / "lcc.dcm")
    blank = write_dataset(mammo_dataset(PIXELS, "L", "MLO", study_uid="1.2.3"), tmp_path / "lmlo.dcm")
    empty = replace(_result(blank, View.LMLO), abnormal=0.0, malignant=0.0, findings=(), breast_mask_fraction=0.0)
    results = [replace(_result(read), breast_mask_fraction=0.4), empty]
    sr = hd.sr.srread(write_sr(study_sr(results, MODEL), tmp_path / "sr.dcm"))
    groups = {g.tracking_identifier: g for g in sr.content.get_image_measurement_groups()}
    assert [m.value for m in groups["L CC image scores"].get_measurements()] == [0.9, 0.5]
    unread = groups["L MLO image scores"]
    assert unread.get_measurements() == []  # no score of 0 that reads as a normal image
    (source,) = unread.source_images  # the image is still named, with why it has no scores
    assert source.referenced_sop_instance_uid == pydicom.dcmread(blank).SOPInstanceUID
    params = [str(i.TextValue) for i in unread[0].ContentSequence if i.ConceptNameCodeSequence[0].CodeMeaning
              == "Algorithm Parameters"]  # fmt: skip
    assert any("no breast found" in p for p in params), params
