"""Weights as verified artifacts: save/load round trip and every way a file can be wrong."""

from __future__ import annotations

import json

import pytest
import torch

from mammoview.cad.registry import create_model
from mammoview.cad.weights import (
    MANIFEST,
    ModelEntry,
    ModelError,
    list_installed,
    load_model,
    read_manifest,
    save_model,
)

TINY = {"widths": [4, 4, 8, 8]}


def _save(tmp_path, name="test-paper_cnn", arch_kwargs=TINY, **kw):
    torch.manual_seed(0)
    model = create_model("paper_cnn", **arch_kwargs)
    entry = ModelEntry(name=name, arch="paper_cnn", arch_kwargs=dict(arch_kwargs), version="0.0.1", **kw)
    return model, save_model(model, entry, tmp_path)


def test_round_trip(tmp_path):
    model, entry = _save(tmp_path, metrics={"auc": 0.5})
    assert entry.file == f"test-paper_cnn-{entry.sha256[:8]}.safetensors"
    assert (tmp_path / entry.file).is_file()
    manifest = json.loads((tmp_path / MANIFEST).read_text())
    assert manifest["default"] == "test-paper_cnn"
    assert manifest["models"][0]["sha256"] == entry.sha256
    assert manifest["models"][0]["torch_version"] == torch.__version__.split("+")[0]
    loaded = load_model(models_dir=tmp_path, device="cpu")
    assert not loaded.model.training
    assert loaded.info.sha256 == entry.sha256 and loaded.entry.metrics == {"auc": 0.5}
    saved, back = model.state_dict(), loaded.model.state_dict()
    assert saved.keys() == back.keys() and all(torch.equal(saved[k], back[k]) for k in saved)
    x = torch.randn(1, 1, 32, 32)
    model.eval()
    torch.testing.assert_close(loaded.model(x), model(x))  # loaded is channels_last: same up to rounding
    assert loaded.preprocess.pixel_size_mm == entry.pixel_size_mm


def test_env_var_and_list_installed(tmp_path, monkeypatch):
    _save(tmp_path, name="a")
    _save(tmp_path, name="b")
    monkeypatch.setenv("MAMMOVIEW_MODELS", str(tmp_path))
    rows = list_installed()
    assert [(r.entry.name, r.is_default, r.exists) for r in rows] == [("a", True, True), ("b", False, True)]
    assert load_model("b").entry.name == "b"


def test_resave_replaces_entry_and_old_file(tmp_path):
    _, first = _save(tmp_path)
    torch.manual_seed(1)
    model = create_model("paper_cnn", **TINY)
    second = save_model(model, ModelEntry(name="test-paper_cnn", arch="paper_cnn", arch_kwargs=TINY), tmp_path)
    assert second.sha256 != first.sha256
    assert [m.name for m in read_manifest(tmp_path).models] == ["test-paper_cnn"]
    assert not (tmp_path / first.file).exists()
    assert not list(tmp_path.glob("*.tmp"))


def test_same_weights_same_file(tmp_path):
    """Re-installing unchanged weights (e.g. a new operating point) must not rename the file."""
    shas = {_save(tmp_path / str(i))[1].sha256 for i in range(12)}
    assert len(shas) == 1


def test_unknown_manifest_keys_survive(tmp_path):
    _, entry = _save(tmp_path, extra={"calibration": {"t": 1.5}})
    again = read_manifest(tmp_path).get(entry.name)
    assert again is not None and again.extra == {"calibration": {"t": 1.5}}


def test_hash_mismatch_names_the_file(tmp_path):
    _, entry = _save(tmp_path)
    path = tmp_path / entry.file
    blob = bytearray(path.read_bytes())
    blob[-1] ^= 0xFF
    path.write_bytes(bytes(blob))
    with pytest.raises(ModelError, match="SHA-256 mismatch") as err:
        load_model(models_dir=tmp_path)
    assert entry.file in str(err.value) and "\n" not in str(err.value)


def test_truncated_file(tmp_path):
    _, entry = _save(tmp_path)
    path = tmp_path / entry.file
    path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(ModelError, match=entry.file):
        load_model(models_dir=tmp_path)


def test_missing_file(tmp_path):
    _, entry = _save(tmp_path)
    (tmp_path / entry.file).unlink()
    with pytest.raises(ModelError, match="not found") as err:
        load_model(models_dir=tmp_path)
    assert entry.file in str(err.value)


def test_a_models_folder_that_does_not_exist_is_not_an_empty_one(tmp_path):
    with pytest.raises(ModelError, match=r"no such models folder$") as err:
        load_model(models_dir=tmp_path / "none")
    assert err.value.path == tmp_path / "none"


def test_no_manifest_and_unknown_name(tmp_path):
    with pytest.raises(ModelError, match="no models installed"):
        load_model(models_dir=tmp_path)
    _save(tmp_path)
    with pytest.raises(ModelError, match="no model named 'nope'"):
        load_model("nope", models_dir=tmp_path)


def _rewrite_entry(tmp_path, **changes):
    doc = json.loads((tmp_path / MANIFEST).read_text())
    doc["models"][0].update(changes)
    (tmp_path / MANIFEST).write_text(json.dumps(doc))


def test_strict_key_or_shape_mismatch(tmp_path):
    _, entry = _save(tmp_path)
    # Same file, declared as a wider network: shapes do not match -> strict load fails.
    _rewrite_entry(tmp_path, arch_kwargs={"widths": [4, 4, 8, 16]})
    with pytest.raises(ModelError, match="do not match the architecture") as err:
        load_model(models_dir=tmp_path)
    assert entry.file in str(err.value) and "\n" not in str(err.value)
    # Declared as another architecture: keys do not match.
    _rewrite_entry(tmp_path, arch="resnet", arch_kwargs={})
    with pytest.raises(ModelError, match=r"Missing key|Unexpected key"):
        load_model(models_dir=tmp_path)


def test_unknown_arch(tmp_path):
    _save(tmp_path)
    _rewrite_entry(tmp_path, arch="alexnet")
    with pytest.raises(ModelError, match="alexnet"):
        load_model(models_dir=tmp_path)


def test_corrupt_manifest(tmp_path):
    (tmp_path / MANIFEST).write_text("{not json")
    with pytest.raises(ModelError, match="manifest"):
        load_model(models_dir=tmp_path)


def test_unsafe_name_refused(tmp_path):
    with pytest.raises(ValueError, match="names a file"):
        save_model(create_model("paper_cnn", **TINY), ModelEntry(name="../evil", arch="paper_cnn"), tmp_path)
    assert not (tmp_path / "manifest.json").exists()


def test_loaded_model_has_a_fused_copy(tmp_path):
    _save(tmp_path)
    loaded = load_model(models_dir=tmp_path, device="cpu")
    assert loaded.fused is not None and loaded.inference_net is loaded.fused
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in loaded.fused.modules())
    x = torch.randn(1, 1, 64, 48)
    torch.testing.assert_close(loaded.inference_net(x), loaded.model(x), rtol=1e-4, atol=1e-5)


def test_map_windows_round_trip_and_checked_at_load(tmp_path):
    _, entry = _save(tmp_path)
    assert load_model(models_dir=tmp_path).entry.map_windows_px == ()  # default: the patch size alone
    _rewrite_entry(tmp_path, map_windows_px=[96, 64])
    assert load_model(models_dir=tmp_path).entry.map_windows_px == (96, 64)
    _rewrite_entry(tmp_path, map_windows_px=[96, 48])  # 6 and 3 cells: grids half a cell apart
    with pytest.raises(ModelError, match=r"map_windows_px.*even or all odd") as err:
        load_model(models_dir=tmp_path)
    assert entry.file in str(err.value)


def test_operating_curve_round_trip_and_checked_at_load(tmp_path):
    curve = {"data": "toy", "images": 4, "lesions": 5, "threshold": [0.99, 0.9], "fpi": [0.0, 1.0],
             "sensitivity": [0.2, 0.6]}  # fmt: skip
    _, entry = _save(tmp_path, operating_curve=curve)
    loaded = load_model(models_dir=tmp_path).entry
    assert loaded.operating_curve == curve and loaded.curve is not None
    assert loaded.curve.fp_per_image(0.9) == pytest.approx(1.0)
    _rewrite_entry(tmp_path, operating_curve={**curve, "fpi": [1.0, 0.0]})
    with pytest.raises(ModelError, match="operating curve") as err:
        load_model(models_dir=tmp_path)
    assert entry.file in str(err.value)
    _rewrite_entry(tmp_path, operating_curve={})
    assert load_model(models_dir=tmp_path).entry.curve is None  # no curve: findings carry no rate


def test_malignancy_calibration_round_trip_and_checked_at_load(tmp_path):
    cal = {"method": "platt", "slope": 0.19, "intercept": -0.6, "findings": 201, "malignant": 108, "data": "toy"}
    _, entry = _save(tmp_path, malignancy_calibration=cal)
    loaded = load_model(models_dir=tmp_path).entry
    assert loaded.calibration is not None and loaded.calibration.slope == 0.19
    assert loaded.info.malignancy_calibration == loaded.calibration
    _rewrite_entry(tmp_path, malignancy_calibration={**cal, "slope": -1.0})  # would turn the ranking around
    with pytest.raises(ModelError, match="slope must be > 0") as err:
        load_model(models_dir=tmp_path)
    assert entry.file in str(err.value)


def test_the_models_are_found_in_a_checkout_and_where_a_wheel_installs_them(tmp_path, monkeypatch):
    """`pip install .` (not editable) put the package in site-packages with no models beside it: the viewer ran
    without CAD. A wheel now installs them to <prefix>/share/mammoview/models (pyproject's data-files, which must
    list every file the manifest names), and that is where they are looked for without a repository."""
    import json
    import sys
    import tomllib
    from pathlib import Path

    from mammoview.cad import manifest

    monkeypatch.delenv("MAMMOVIEW_MODELS", raising=False)
    root = Path(manifest.__file__).resolve().parents[2]
    assert manifest.default_models_dir() == root / "models"  # a checkout
    monkeypatch.setenv("MAMMOVIEW_MODELS", str(tmp_path / "mine"))
    assert manifest.default_models_dir() == tmp_path / "mine"
    monkeypatch.delenv("MAMMOVIEW_MODELS")
    fake_pkg = tmp_path / "site-packages" / "mammoview" / "cad" / "manifest.py"  # an installed wheel
    monkeypatch.setattr(manifest, "__file__", str(fake_pkg))
    monkeypatch.setattr(sys, "prefix", str(tmp_path / "venv"))
    assert manifest.default_models_dir() == tmp_path / "venv" / "share" / "mammoview" / "models"
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path / "bundle" / "_internal"), raising=False)  # PyInstaller
    assert manifest.default_models_dir() == tmp_path / "bundle" / "_internal" / "share" / "mammoview" / "models"

    patterns = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"]["data-files"]
    packed = {p.name for pattern in patterns["share/mammoview/models"] for p in root.glob(pattern)}
    named = {m["file"] for m in json.loads((root / "models" / "manifest.json").read_text())["models"]}
    assert named | {"manifest.json"} <= packed
