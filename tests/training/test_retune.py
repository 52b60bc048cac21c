"""`mammoview retune`: new operating points for an installed model from evaluations of it, its weights kept."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from mammoview.cad.manifest import read_manifest
from mammoview.cad.weights import load_model, save_model
from mammoview.cli import main
from mammoview.training.froc import FrocCase, Mark, froc
from tests.cad.conftest import bright_model, bright_net  # noqa: F401  (fixture)
from tests.training.test_froc import _box


def _metrics(path: Path, model: dict, cal: bool = True) -> Path:
    r = froc([FrocCase("A", (_box(0, 0, 10, 10),), (Mark(5, 5, 0.9), Mark(50, 50, 0.6))),
              FrocCase("B", (), (Mark(5, 5, 0.7),))])  # fmt: skip
    detection: dict = {"froc": {"cbis_mass": r.to_dict()}}
    if cal:
        detection["malignancy_calibration"] = {"method": "platt", "slope": 0.5, "intercept": 0.1, "findings": 30,
                                               "malignant": 14, "data": "test"}  # fmt: skip
    path.write_text(json.dumps({"model": model, "detection": detection}))
    return path


@pytest.fixture()
def installed(tmp_path, bright_model) -> tuple[Path, str]:  # noqa: F811  (the fixture)
    d = tmp_path / "models"
    entry = replace(bright_model.entry, task="detection", test_time_flip=True, map_windows_px=(96, 64),
                    version="1.0.0")  # fmt: skip
    done = save_model(bright_net(), entry, d, make_default=True)
    verifier = replace(bright_model.entry, name="test-verifier", task="verification", finding_threshold=0.7,
                       extra={"verification": {"weight": 0.5, "candidate_threshold": 0.1, "max_candidates": 25,
                                               "detector": {"name": done.name, "version": "1.0.0",
                                                            "sha256": done.sha256}}})  # fmt: skip
    save_model(bright_net(), verifier, d)
    return d, done.sha256


def test_retune_rewrites_the_operating_points_and_keeps_the_weights(installed, tmp_path, capsys):
    d, sha = installed
    before = {p.name: p.read_bytes() for p in d.glob("*.safetensors")}
    model = {"name": "test-bright", "sha256": sha, "test_time_flip": True, "map_windows_px": [96, 64]}
    metrics = _metrics(tmp_path / "metrics.json", model)
    assert main(["retune", "test-bright", "--models-dir", str(d), "--model-version", "1.0.1", "--finding-threshold",
                 "0.83", "--operating-curve", str(metrics), "--malignancy-calibration", str(metrics)]) == 0  # fmt: skip
    m = read_manifest(d)
    e = m.get("test-bright")
    assert e.version == "1.0.1" and e.finding_threshold == pytest.approx(0.83) and e.sha256 == sha
    assert e.operating_curve["evaluated"]["sha256"] == sha and e.calibration is not None
    assert e.calibration.slope == pytest.approx(0.5) and "retune" in e.extra["retuned"]
    assert m.default == "test-bright" and {p.name: p.read_bytes() for p in d.glob("*.safetensors")} == before
    assert m.get("test-verifier").extra["verification"]["detector"]["version"] == "1.0.1"  # follows its detector
    assert load_model("test-bright", d, "cpu").entry.version == "1.0.1"  # still loads: the hash is the weights'


def test_retune_refuses_what_was_measured_on_other_weights_or_maps(installed, tmp_path):
    d, sha = installed
    other = _metrics(tmp_path / "other.json", {"name": "x", "sha256": "ab" * 32, "test_time_flip": True,
                                               "map_windows_px": [96, 64]})  # fmt: skip
    flip = _metrics(tmp_path / "flip.json", {"name": "test-bright", "sha256": sha, "test_time_flip": False,
                                             "map_windows_px": [96, 64]})  # fmt: skip
    alone = _metrics(tmp_path / "alone.json", {"name": "test-bright", "sha256": sha, "test_time_flip": True,
                                               "map_windows_px": [96, 64]})  # fmt: skip
    manifest = (d / "manifest.json").read_text()
    base = ["retune", "test-bright", "--models-dir", str(d), "--model-version", "2"]
    assert main([*base, "--operating-curve", str(other)]) == 1  # another network's curve
    assert main([*base, "--malignancy-calibration", str(flip)]) == 1  # measured without the mirror pass
    # a verifier's curve is the two stages': one measured with the detector alone is refused
    assert main(["retune", "test-verifier", "--models-dir", str(d), "--model-version", "2", "--operating-curve",
                 str(alone)]) == 1  # fmt: skip
    assert main([*base, "--finding-threshold", "1.5"]) == 2
    assert (d / "manifest.json").read_text() == manifest  # nothing rewritten
    with_verifier = _metrics(tmp_path / "v.json", {"name": "test-bright", "sha256": sha, "verifier": {"name": "v"}})
    assert main(["retune", "test-verifier", "--models-dir", str(d), "--model-version", "1.0.1", "--threshold-from",
                 str(with_verifier), "--operating-curve", str(with_verifier)]) == 0  # fmt: skip
    v = read_manifest(d).get("test-verifier")
    expected = json.loads(with_verifier.read_text())["detection"]["froc"]["cbis_mass"]["threshold_at"]["1"]
    assert v.version == "1.0.1" and v.finding_threshold == pytest.approx(expected)


@pytest.mark.parametrize("damage", ["replaced", "missing"])
def test_retune_refuses_an_entry_whose_weights_are_not_its_own(installed, capsys, damage):
    """`retune` rewrote the entry under a new version without looking at its weights: a file truncated, replaced
    or gone got a fresh version number and operating point, and the manifest was rewritten for a model that cannot
    be loaded."""
    d, _ = installed
    weights = d / read_manifest(d).get("test-bright").file
    if damage == "missing":
        weights.unlink()
    else:
        weights.write_bytes(weights.read_bytes()[:-8])
    before = (d / "manifest.json").read_bytes()
    code = main(["retune", "test-bright", "--models-dir", str(d), "--model-version", "1.0.1", "--finding-threshold",
                 "0.83"])  # fmt: skip
    err = capsys.readouterr().err
    assert code != 0 and str(weights) in err and "Traceback" not in err, err
    assert (d / "manifest.json").read_bytes() == before
