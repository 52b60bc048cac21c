"""What the SR says of each Probability of cancer: a model without a malignancy calibration was said to give a
calibrated one, and with a second-stage model `--raw-malignancy` leaves the image's malignancy calibrated (the
pipeline calibrates it "as the viewer shows it") while the SR called it "network output, not calibrated"."""

from __future__ import annotations

from dataclasses import replace

import pydicom
import pytest

from mammoview.cad.calibration import MalignancyCalibration
from mammoview.cad.sr import study_sr, write_sr
from tests.cad.test_sr_interop import MODEL, PIXELS, _result
from tests.synthetic import mammo_dataset, write_dataset

CAL = MalignancyCalibration(1.0, 0.0)
CALIBRATED = "malignancy: calibrated"
RAW = "malignancy: network output, not calibrated"


def _cancer_params(sr: pydicom.Dataset) -> dict[str, set[str]]:
    """The Algorithm Parameters of each group's Probability of cancer, by the group's tracking identifier."""
    out: dict[str, set[str]] = {}
    for group in sr.ContentSequence[-1].ContentSequence:
        name = next(
            str(i.TextValue) for i in group.ContentSequence if i.ConceptNameCodeSequence[0].CodeValue == "112039"
        )
        for item in group.ContentSequence:
            if item.ValueType == "NUM" and item.ConceptNameCodeSequence[0].CodeValue == "111047":
                out[name] = {str(i.TextValue) for i in item.ContentSequence
                             if i.ConceptNameCodeSequence[0].CodeValue == "111002"}  # fmt: skip
    return out


def _sr(tmp_path, **kw) -> pydicom.Dataset:  # type: ignore[no-untyped-def]
    path = write_dataset(mammo_dataset(PIXELS, "L", "CC", study_uid="1.2.3"), tmp_path / "lcc.dcm")
    return pydicom.dcmread(write_sr(study_sr([_result(path)], **kw), tmp_path / "sr.dcm"))


def test_a_model_without_calibration_is_not_said_calibrated(tmp_path):
    params = _cancer_params(_sr(tmp_path, model=MODEL))
    assert all(RAW in p and CALIBRATED not in p for p in params.values()), params


def test_raw_malignancy_with_a_second_stage_says_the_image_score_is_calibrated(tmp_path):
    second = replace(MODEL, name="malignancy-model", malignancy_calibration=CAL)
    params = _cancer_params(_sr(tmp_path, model=replace(MODEL, malignancy_calibration=CAL), malignancy_model=second,
                                raw_malignancy=True))  # fmt: skip
    assert RAW in params["L CC CAD finding 1"] and CALIBRATED not in params["L CC CAD finding 1"]
    assert CALIBRATED in params["L CC image scores"] and RAW not in params["L CC image scores"]


@pytest.mark.parametrize("raw", [False, True])
def test_a_calibrated_detector_alone_is_said_as_before(tmp_path, raw):
    params = _cancer_params(_sr(tmp_path, model=replace(MODEL, malignancy_calibration=CAL), raw_malignancy=raw))
    assert all((RAW if raw else CALIBRATED) in p for p in params.values()), params
