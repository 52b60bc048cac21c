"""Installing into a folder that is not a models folder, or whose manifest cannot be read: refused before anything is
written there. `ensemble --install-to runs/patches/ctx` replaced the patch set's manifest.json with a models manifest
(the patch set then refused by train and evaluate until cut again), and an install into a folder whose manifest.json
was unreadable left a weights file behind that no manifest named."""

from __future__ import annotations

import json

import pytest
import torch

from mammoview.cad.registry import create_model
from mammoview.cad.weights import MANIFEST, ModelEntry, ModelError, read_manifest, save_model

TINY = {"widths": [4, 4, 8, 8]}
PATCH_SET_MANIFEST = {"format": "mammoview-patches/1", "patch_size": 96, "pixel_size_mm": 0.3, "n_patches": 10}


def _install(folder):  # type: ignore[no-untyped-def]
    torch.manual_seed(0)
    entry = ModelEntry(name="test-tiny", arch="paper_cnn", arch_kwargs=dict(TINY), version="0.0.1")
    return save_model(create_model("paper_cnn", **TINY), entry, folder)


def test_a_patch_sets_manifest_is_not_a_models_manifest(tmp_path):
    text = json.dumps(PATCH_SET_MANIFEST)
    (tmp_path / MANIFEST).write_text(text)
    with pytest.raises(ModelError, match="not a models folder") as err:
        _install(tmp_path)
    assert str(tmp_path / MANIFEST) in str(err.value)
    assert (tmp_path / MANIFEST).read_text() == text  # the patch set's manifest, as it was
    assert not list(tmp_path.glob("*.safetensors"))
    with pytest.raises(ModelError, match="not a models folder"):  # `models`, detect: not "no models installed"
        read_manifest(tmp_path)


@pytest.mark.parametrize("text", ['{"default": "x", "models": [', "[]", '{"models": [{"name": "x"}]}'])
def test_an_unreadable_manifest_gets_no_weights_file_beside_it(tmp_path, text):
    (tmp_path / MANIFEST).write_text(text)
    with pytest.raises(ModelError, match="manifest"):
        _install(tmp_path)
    assert (tmp_path / MANIFEST).read_text() == text
    assert not list(tmp_path.glob("*.safetensors"))


def test_an_empty_manifest_object_is_an_empty_models_folder(tmp_path):
    (tmp_path / MANIFEST).write_text("{}")
    assert read_manifest(tmp_path).models == ()
    assert _install(tmp_path).name == "test-tiny"


@pytest.mark.parametrize(
    "command",
    [
        ["train", "--patches", "{missing}", "--out", "{out}", "--epochs", "1", "--quiet"],
        ["train-density", "--split", "{missing}/split.json", "--out", "{out}", "--epochs", "1", "--quiet"],
        ["ensemble", "{missing}", "--name", "test-ens"],
    ],
)
@pytest.mark.parametrize("problem", ["unreadable manifest", "bad name"])
def test_an_install_target_the_install_would_refuse_is_refused_before_the_training(tmp_path, capsys, command,
                                                                                   problem):  # fmt: skip
    """train --install-to found an unreadable manifest.json, or a --name that cannot name a file, only after the
    whole training (55 minutes by default); the run's files written, the model not installed."""
    from mammoview.cli import main

    models = tmp_path / "models"
    models.mkdir()
    (models / MANIFEST).write_text("{not json" if problem == "unreadable manifest" else "{}")
    args = [a.format(missing=tmp_path / "missing", out=tmp_path / "run") for a in command]
    args += ["--install-to", str(models)] + (["--name", "my/model"] if problem == "bad name" else [])
    assert main(args) != 0
    err = capsys.readouterr().err
    said = str(models / MANIFEST) if problem == "unreadable manifest" else "'my/model'"
    assert said in err and err.count("\n") == 1 and "Traceback" not in err, err
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize(
    "change, says",
    [({"map_windows_px": (5000,)}, "larger than any mammogram"), ({"finding_threshold": 2.0}, "finding_threshold"),
     ({"finding_threshold": float("nan")}, "finding_threshold"), ({"patch_size": 2}, "nothing to classify")],
)  # fmt: skip
def test_an_entry_the_load_would_refuse_is_not_installed(tmp_path, change, says):
    """`ensemble --map-windows 5000` (or a threshold of 2 or NaN) installed a model every load then refused as a
    malformed entry; installed first into a folder, or with --make-default, it was the default and every CAD run
    failed. Nothing is written: the folder's models stay as they were."""
    _install(tmp_path)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    entry = ModelEntry(name="test-bad", arch="paper_cnn", arch_kwargs=dict(TINY), version="0.0.1", **change)
    with pytest.raises(ValueError, match=says) as err:
        save_model(create_model("paper_cnn", **TINY), entry, tmp_path, make_default=True)
    assert "test-bad" in str(err.value)
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before
    with pytest.raises(ValueError, match=says):
        save_model(create_model("paper_cnn", **TINY), entry, tmp_path / "new")
    assert not (tmp_path / "new").exists()


@pytest.mark.parametrize("value", ["2", "-0.1", "nan"])
def test_a_finding_threshold_that_is_no_probability_is_refused_as_the_line_is_read(tmp_path, capsys, value):
    from mammoview.cli import main

    with pytest.raises(SystemExit) as exit_:
        main(["ensemble", str(tmp_path / "run"), "--name", "x", "--install-to", str(tmp_path), "--finding-threshold",
              value])  # fmt: skip
    assert exit_.value.code == 2 and "--finding-threshold" in capsys.readouterr().err
