"""`mammoview retune --threshold-from METRICS`: an evaluation without a 1-FP/image threshold must be named as such.

`evaluate --no-detect` writes no `detection`; an evaluation where even the strictest finding had more than one false
positive per image writes `threshold_at["1"]: null`. retune answered "error: 'detection'" and "error: float() argument
must be a string or a real number, not 'NoneType'".
"""

from __future__ import annotations

import json

from mammoview.cli import main
from tests.cad.conftest import bright_model, bright_net  # noqa: F401  (fixture)
from tests.training.test_retune import _metrics, installed  # noqa: F401  (fixture)


def test_threshold_from_an_evaluation_without_one_is_explained(installed, tmp_path, capsys):  # noqa: F811
    d, sha = installed
    manifest = (d / "manifest.json").read_text()
    model = {"name": "test-bright", "sha256": sha, "test_time_flip": True, "map_windows_px": [96, 64]}
    null = _metrics(tmp_path / "null.json", model)
    doc = json.loads(null.read_text())
    doc["detection"]["froc"]["cbis_mass"]["threshold_at"]["1"] = None
    null.write_text(json.dumps(doc))
    no_detect = tmp_path / "no-detect.json"
    no_detect.write_text(json.dumps({"model": model, "patch": {}}))
    cmd = ["retune", "test-bright", "--models-dir", str(d), "--model-version", "2", "--threshold-from"]
    for path in (null, no_detect):
        capsys.readouterr()
        assert main([*cmd, str(path)]) != 0
        err = capsys.readouterr().err
        assert str(path) in err and "1 false positive per image" in err, err
    assert (d / "manifest.json").read_text() == manifest
