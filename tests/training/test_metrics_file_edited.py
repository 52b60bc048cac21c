"""An evaluation's metrics.json whose FROC curve or malignancy calibration was edited out of shape, given to `retune`
or `train` / `ensemble --operating-curve` / `--malignancy-calibration`: refused naming the file. A curve whose lists
differ in length said "error: zip() argument 2 is shorter than argument 1", a calibration with a slope of text
"could not convert string to float", neither naming the file."""

from __future__ import annotations

import json

import pytest

from mammoview.training.calibrate import calibration_from_metrics
from mammoview.training.install import operating_curve_from_metrics
from tests.training.test_retune import _metrics


@pytest.mark.parametrize(
    "edit",
    [
        lambda c: c["curve"].update(fpi=[0.0]),
        lambda c: c["curve"].update(sensitivity=["high"] * len(c["curve"]["sensitivity"])),
        lambda c: c.update(n_images="many"),
        lambda c: c.pop("n_lesions"),
    ],
)
def test_a_curve_edited_out_of_shape_is_refused_naming_the_file(tmp_path, edit):
    path = _metrics(tmp_path / "metrics.json", {"name": "m"})
    doc = json.loads(path.read_text())
    edit(doc["detection"]["froc"]["cbis_mass"])
    path.write_text(json.dumps(doc))
    with pytest.raises(ValueError, match=r"detection\.froc\.cbis_mass") as err:
        operating_curve_from_metrics(path)
    assert str(err.value).startswith(str(path))


def test_a_calibration_edited_out_of_shape_is_refused_naming_the_file(tmp_path):
    path = _metrics(tmp_path / "metrics.json", {"name": "m"})
    doc = json.loads(path.read_text())
    doc["detection"]["malignancy_calibration"]["slope"] = "steep"
    path.write_text(json.dumps(doc))
    with pytest.raises(ValueError, match="malignancy_calibration") as err:
        calibration_from_metrics(path)
    assert str(err.value).startswith(str(path))


@pytest.mark.parametrize("text", ["", '{"model": ', "[]"])
def test_evaluate_compare_names_a_metrics_file_it_cannot_read(tmp_path, capsys, text):
    """`evaluate --compare` of a metrics.json cut short said "error: Expecting value: line 1 column 1 (char 0)"."""
    from mammoview.cli import main

    good = _metrics(tmp_path / "good.json", {"name": "m"})
    bad = tmp_path / "bad" / "metrics.json"
    bad.parent.mkdir()
    bad.write_text(text)
    assert main(["evaluate", "--compare", str(good), str(bad.parent)]) != 0
    err = capsys.readouterr().err
    assert str(bad) in err and err.count("\n") == 1, err
