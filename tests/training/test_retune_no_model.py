"""`mammoview retune` from a metrics.json that names no evaluated model (no `model` block: not `mammoview evaluate`'s,
or edited): it said "the finding threshold was measured on None None"; the file is named, and what it must be."""

from __future__ import annotations

import json

import pytest

from mammoview.cli import main
from tests.cad.conftest import bright_model, bright_net  # noqa: F401  (fixture)
from tests.training.test_retune import _metrics, installed  # noqa: F401  (fixture)


@pytest.mark.parametrize("option", ["--threshold-from", "--operating-curve", "--malignancy-calibration"])
@pytest.mark.parametrize("model", [None, {"name": "test-bright"}], ids=["no model block", "no sha256"])
def test_a_metrics_file_naming_no_evaluated_model_is_named(installed, tmp_path, capsys, option, model):  # noqa: F811
    d, _ = installed
    manifest = (d / "manifest.json").read_text()
    path = _metrics(tmp_path / "metrics.json", {})
    doc = json.loads(path.read_text())
    doc["detection"]["froc"]["cbis_mass"]["threshold_at"] = {"1": 0.6}
    if model is None:
        del doc["model"]
    else:
        doc["model"] = model
    path.write_text(json.dumps(doc))
    capsys.readouterr()
    code = main(["retune", "test-bright", "--models-dir", str(d), "--model-version", "2", option, str(path)])
    err = capsys.readouterr().err
    assert code != 0 and "None" not in err, err
    assert f"{option} {path}" in err and "not an evaluation of an installed model" in err and "evaluate" in err
    assert len(err.strip().splitlines()) == 1
    assert (d / "manifest.json").read_text() == manifest
