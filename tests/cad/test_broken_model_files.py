"""Model folders a hand edit or a diverged training run leaves behind."""

from __future__ import annotations

import hashlib
import json

import pytest
import torch

from mammoview.cad.registry import create_model
from mammoview.cad.weights import MANIFEST, ModelEntry, ModelError, load_model, load_optional, save_model

TINY = {"widths": [4, 4, 8, 8]}


def _save(folder, name="test-tiny", task="detection"):
    torch.manual_seed(0)
    entry = ModelEntry(name=name, arch="paper_cnn", arch_kwargs=dict(TINY), version="0.0.1", patch_size=64,
                       pixel_size_mm=0.5, licence="TEST ONLY", task=task)  # fmt: skip
    return save_model(create_model("paper_cnn", **TINY), entry, folder)


def _edit(folder, name, **changes):
    doc = json.loads((folder / MANIFEST).read_text())
    next(m for m in doc["models"] if m["name"] == name).update(changes)
    (folder / MANIFEST).write_text(json.dumps(doc))


@pytest.mark.parametrize("value", [None, 5])
def test_an_entry_whose_file_is_not_text_is_named_and_an_optional_one_is_skipped(tmp_path, capsys, value):
    """`"file": null` (or a number) in one entry: `mammoview models` ended in "error: unsupported operand type(s) for
    /: 'PosixPath' and 'NoneType'" listing nothing; on the malignancy (or verifier) entry, `detect` stopped before any
    image instead of going on without that stage; in the viewer, such a density entry failed every CAD run."""
    from mammoview.cli import main

    _save(tmp_path)
    _save(tmp_path, "test-malignancy", task="malignancy")
    _edit(tmp_path, "test-malignancy", file=value)
    assert main(["models", "--models-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "test-tiny" in out and "malformed manifest entry: file must be text" in out
    with pytest.raises(ModelError, match="file") as err:
        load_optional("malignancy", tmp_path, "cpu")
    assert MANIFEST in str(err.value) and "test-malignancy" in str(err.value)
    assert load_model(None, tmp_path, "cpu").entry.name == "test-tiny"  # the detector is fine


def test_a_detector_whose_file_name_holds_a_nul_byte_is_a_model_error_naming_the_manifest(tmp_path):
    """`"file": "x\\u0000.safetensors"` (a hand edit, a broken export): reading it raised ValueError "embedded null
    byte", naming no file, from `detect`, and the viewer said "CAD failed" at each run instead of CAD unavailable."""
    from mammoview.gui.cad_worker import CadUnavailable, ModelChoice, load_chosen

    saved = _save(tmp_path)
    _edit(tmp_path, "test-tiny", file=saved.file.replace("-", "\0", 1))
    with pytest.raises(ModelError, match="file") as err:
        load_model(None, tmp_path, "cpu")
    assert MANIFEST in str(err.value) and "test-tiny" in str(err.value)
    with pytest.raises(CadUnavailable, match=MANIFEST):
        load_chosen(ModelChoice(models_dir=tmp_path, device="cpu"))


def test_mammoview_models_lists_an_entry_whose_file_name_is_too_long_for_the_system(tmp_path, capsys):
    """A file name of 300 characters: asking whether it is a file raised OSError "File name too long" out of
    list_installed, and `mammoview models` listed nothing (detect skips such a malignancy model and goes on)."""
    from mammoview.cli import main

    _save(tmp_path)
    _save(tmp_path, "test-malignancy", task="malignancy")
    _edit(tmp_path, "test-malignancy", file="x" * 300 + ".safetensors")
    assert main(["models", "--models-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "test-tiny" in out and "test-malignancy" in out and "(missing)" in out
    with pytest.raises(ModelError, match="File name too long"):
        load_optional("malignancy", tmp_path, "cpu")


def test_the_viewer_loads_the_detector_beside_a_density_entry_whose_file_is_not_text(tmp_path):
    from mammoview.gui.cad_worker import ModelChoice, load_chosen, load_density

    _save(tmp_path)
    _save(tmp_path, "test-density", task="malignancy")
    _edit(tmp_path, "test-density", task="density", file=None)
    choice = ModelChoice(models_dir=str(tmp_path), device="cpu")
    assert load_chosen(choice).entry.name == "test-tiny"
    assert load_density(choice) is None  # skipped (and logged), not a failed CAD run


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_weights_holding_nan_are_refused_naming_the_file(tmp_path, bad):
    """A diverged training run's weights (NaN), sha256 matching: they loaded, and `detect` wrote
    `"abnormal": NaN` (not JSON) with exit status 0 and no finding; the viewer's Run CAD failed on a numpy warning."""
    from safetensors.torch import load as st_load
    from safetensors.torch import save as st_save

    saved = _save(tmp_path)
    path = tmp_path / saved.file
    state = dict(st_load(path.read_bytes()))
    key = next(k for k, v in state.items() if v.is_floating_point() and v.dim() == 4)
    state[key] = torch.full_like(state[key], bad)
    blob = st_save(state)
    path.write_bytes(blob)
    _edit(tmp_path, "test-tiny", sha256=hashlib.sha256(blob).hexdigest())
    with pytest.raises(ModelError, match="NaN or infinite") as err:
        load_model(models_dir=tmp_path, device="cpu")
    assert saved.file in str(err.value) and key in str(err.value)


def test_an_optional_stage_whose_patch_leaves_no_centre_is_refused_at_load(tmp_path):
    """A verifier or malignancy entry with ``patch_size`` 1 (which the entry's own check accepts) loaded, then failed
    every image ("input (33, 33) leaves no centre after 16 px of context": the image was blamed, the viewer showed
    "CAD failed"); now it is refused at load naming the entry, so the stage is skipped with that reason."""
    from mammoview.cad.weights import load_optional

    _save(tmp_path)
    _save(tmp_path, "test-malignancy", task="malignancy")
    _edit(tmp_path, "test-malignancy", patch_size=1, context_px=16)
    with pytest.raises(ModelError, match="patch_size 1 px is less than one") as err:
        load_optional("malignancy", tmp_path, "cpu")
    assert MANIFEST in str(err.value) or "test-malignancy" in str(err.value)
    _edit(tmp_path, "test-malignancy", patch_size=64, context_px=5)
    with pytest.raises(ModelError, match="context_px must be a whole multiple"):
        load_optional("malignancy", tmp_path, "cpu")
    _edit(tmp_path, "test-malignancy", patch_size=64, context_px=16)
    assert load_optional("malignancy", tmp_path, "cpu") is not None
