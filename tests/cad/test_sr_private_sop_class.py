"""An image of a SOP class highdicom has no IOD for (a vendor's private class, a retired one): highdicom's KeyError
escaped the SR's errors, so `detect --sr` stopped with a traceback (the studies after it got no SR, against "a study
whose SR cannot be written is said and the others still get theirs") and the viewer's export raised."""

from __future__ import annotations

import pytest

from mammoview.cad.sr import SrError, study_sr
from tests.cad.test_sr_interop import MODEL, PIXELS, _models, _result
from tests.synthetic import mammo_dataset, write_dataset

PRIVATE = "1.2.840.113619.4.2"


def test_an_unknown_sop_class_is_an_sr_error(tmp_path):
    ds = mammo_dataset(PIXELS, "L", "CC", study_uid="1.2.3")
    ds.SOPClassUID = ds.file_meta.MediaStorageSOPClassUID = PRIVATE
    path = write_dataset(ds, tmp_path / "lcc.dcm")
    with pytest.raises(SrError):
        study_sr([_result(path)], MODEL)


def test_detect_sr_goes_on_after_a_study_of_an_unknown_sop_class(tmp_path, monkeypatch, capsys, bright_model,
                                                                 breast_with_blob):  # fmt: skip
    from mammoview.cli import main

    _models(tmp_path, monkeypatch, bright_model)
    odd = mammo_dataset(breast_with_blob, "L", "CC", pixel_spacing=(0.25, 0.25), study_uid="1.2.3",
                        patient_id="A")  # fmt: skip
    odd.SOPClassUID = odd.file_meta.MediaStorageSOPClassUID = PRIVATE
    write_dataset(odd, tmp_path / "in" / "a" / "lcc.dcm")
    write_dataset(mammo_dataset(breast_with_blob, "L", "CC", pixel_spacing=(0.25, 0.25), study_uid="1.2.4",
                                patient_id="B"), tmp_path / "in" / "b" / "lcc.dcm")  # fmt: skip
    code = main(["detect", str(tmp_path / "in"), "--json", str(tmp_path / "d.json"), "--quiet",
                 "--sr", str(tmp_path / "sr")])  # fmt: skip
    assert code == 1
    assert len(list((tmp_path / "sr").iterdir())) == 1  # the other study's SR
    assert "no SR for study" in capsys.readouterr().err
