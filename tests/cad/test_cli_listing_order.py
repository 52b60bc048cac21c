"""mammoview models lists a hand-edited entry check() lets through; classify keeps the arguments' order."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from mammoview.cli import main

SHIPPED = Path(__file__).resolve().parents[2] / "models" / "manifest.json"


@pytest.mark.parametrize(
    "edit",
    [
        {"metrics": [0.9, 0.8]},  # a list where an object was
        {"task": "density", "canvas_px": 171},  # one number where [width, height] was
        {"task": "verification", "verification": "mammoview-vgg"},  # the detector's name where an object was
    ],
)
def test_models_lists_every_entry_when_one_has_a_malformed_field(tmp_path, capsys, edit):
    doc = json.loads(SHIPPED.read_text())
    entry = copy.deepcopy(next(e for e in doc["models"] if e["name"] == "mammoview-vgg"))
    entry.update(edit, name="hand-edited")
    doc["models"].append(entry)
    (tmp_path / "manifest.json").write_text(json.dumps(doc))
    code = main(["models", "--models-dir", str(tmp_path)])
    out = capsys.readouterr().out
    assert code == 0
    assert "hand-edited" in out and "malformed" in out.split("hand-edited", 1)[1].splitlines()[0]
    assert "mammoview-verifier" in out and "mammoview-density" in out  # the others are listed as usual


def test_classify_outputs_follow_the_arguments_order(tmp_path, capsys, monkeypatch):
    from mammoview.cad import patches

    class Model:  # no network needed: the order is the point
        info = type("I", (), {"name": "m", "version": "0", "sha256": "0" * 64})()

    monkeypatch.setattr("mammoview.cad.weights.load_model", lambda *a, **k: Model())
    monkeypatch.setattr(patches, "prepare_patch", lambda *a, **k: None)
    monkeypatch.setattr(patches, "classify_patch", lambda *a, **k: {"normal": 1.0, "mass": 0.0, "calcification": 0.0})
    names = []
    for name in ("b.png", "bad.png", "a.png"):
        p = tmp_path / name
        if name == "bad.png":
            p.write_bytes(b"not a png")
        else:
            Image.fromarray(np.full((64, 64), 100, np.uint8)).save(p)
        names.append(str(p))
    out = tmp_path / "out.json"
    main(["classify", *names, "--json", str(out), "--quiet"])
    doc = json.loads(out.read_text())
    assert [Path(p["path"]).name for p in doc["patches"]] == ["b.png", "bad.png", "a.png"]
