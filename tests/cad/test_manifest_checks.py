"""Hand-edited manifests: malformed entries fail at load naming the file, duplicate names, weights of another dtype."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from mammoview.cad.registry import create_model
from mammoview.cad.weights import MANIFEST, ModelEntry, ModelError, load_model, read_manifest, save_model

TINY = {"widths": [4, 4, 8, 8]}


def _save(folder, name="test-tiny"):
    torch.manual_seed(0)
    entry = ModelEntry(name=name, arch="paper_cnn", arch_kwargs=dict(TINY), version="0.0.1", patch_size=64,
                       pixel_size_mm=0.5, licence="TEST ONLY")  # fmt: skip
    return save_model(create_model("paper_cnn", **TINY), entry, folder)


def _rewrite(folder, **changes):
    doc = json.loads((folder / MANIFEST).read_text())
    doc["models"][0].update(changes)
    (folder / MANIFEST).write_text(json.dumps(doc))


@pytest.mark.parametrize(
    ("changes", "says"),
    [
        ({"preprocessing": {"pixel_size_mm": 0.5, "clahe_strength": 2.0}}, "clahe_strength"),
        ({"pixel_size_mm": "0.5"}, "pixel_size_mm"),
        ({"patch_size": "64"}, "patch_size"),
        ({"test_time_flip": "false"}, "test_time_flip"),
        ({"preprocessing": {"pixel_size_mm": 0.5, "clahe": "yes"}}, "clahe"),
        ({"preprocessing": {"pixel_size_mm": 0.5, "sobel_channel": True}}, "in_chans"),
        # beyond any sensible setting, where the work grows without end: a Gaussian of sigma 1e6 mm ran for hours
        # (uncancellable), a morphology radius of 1e4 mm or pixels of 1e-4 mm exhausted memory on every image
        (
            {"preprocessing": {"pixel_size_mm": 0.5, "gaussian_sigma_mm": 1e6}},
            "gaussian_sigma_mm 1000000.0 out of range",
        ),
        (
            {"preprocessing": {"pixel_size_mm": 0.5, "morphology": "open", "morphology_radius_mm": 1e4}},
            "morphology_radius_mm 10000.0 out of range",
        ),
        ({"preprocessing": {"pixel_size_mm": 1e-4}}, "pixel_size_mm 0.0001 out of range"),
        ({"preprocessing": {"pixel_size_mm": 0.0}}, "pixel_size_mm 0.0 out of range"),
    ],
    ids=[
        "unknown-option",
        "text-pixel-size",
        "text-patch-size",
        "text-flip",
        "text-switch",
        "channels",
        "huge-gaussian",
        "huge-morphology",
        "tiny-pixels",
        "zero-pixels",
    ],
)
def test_a_malformed_manifest_entry_fails_at_load_naming_the_file_not_at_every_image(tmp_path, changes, says):
    """A hand-edited entry (a typo'd preprocessing option, a number written as text) loaded without complaint; then
    every image failed with e.g. "unsupported operand type(s) for /: 'float' and 'str'" naming no file (the viewer's
    CAD stayed on and each run ended in a "CAD failed" dialog), or a "false" string silently switched mirror TTA on."""
    saved = _save(tmp_path)
    _rewrite(tmp_path, **changes)
    with pytest.raises(ModelError, match=says) as err:
        load_model(models_dir=tmp_path, device="cpu")
    assert saved.file in str(err.value) and "manifest" in str(err.value)


def test_mammoview_models_lists_a_malformed_entry_instead_of_failing(tmp_path, capsys):
    from mammoview.cli import main

    _save(tmp_path)
    _rewrite(tmp_path, pixel_size_mm="0.5mm")
    assert main(["models", "--models-dir", str(tmp_path)]) == 0
    out = capsys.readouterr()
    assert "test-tiny" in out.out and "pixel_size_mm" in out.out + out.err


def test_two_models_of_one_name_are_an_error_naming_the_manifest(tmp_path, capsys):
    """Two entries named alike: `mammoview models` marked both as the default and `detect --model NAME` silently
    took the first (a broken first copy failed the run although a good one was listed)."""
    from mammoview.cli import main

    saved = _save(tmp_path)
    doc = json.loads((tmp_path / MANIFEST).read_text())
    twin = dict(doc["models"][0], version="9.9.9", file="elsewhere.safetensors")
    doc["models"].insert(0, twin)
    (tmp_path / MANIFEST).write_text(json.dumps(doc))
    with pytest.raises(ModelError, match="test-tiny") as err:
        read_manifest(tmp_path)
    assert MANIFEST in str(err.value)
    assert main(["models", "--models-dir", str(tmp_path)]) == 1
    assert "two models named 'test-tiny'" in capsys.readouterr().err
    assert saved.file  # the good copy is still on disk: the reader is told which entry to remove


@pytest.mark.parametrize("dtype", [torch.int64, torch.float16, torch.float8_e4m3fn])
def test_a_weights_file_of_another_dtype_is_refused_naming_the_file(tmp_path, dtype):
    """load_state_dict(strict=True) checks keys and shapes, not dtypes: a file whose tensors were integers (sha256
    updated to match) loaded, and `detect` wrote "abnormal": NaN (not even valid JSON) with exit status 0."""
    import hashlib

    from safetensors.torch import load as st_load
    from safetensors.torch import save as st_save

    saved = _save(tmp_path)
    path = tmp_path / saved.file
    state = {k: (v * 1000).to(dtype) if v.is_floating_point() else v for k, v in st_load(path.read_bytes()).items()}
    blob = st_save(state)
    path.write_bytes(blob)
    _rewrite(tmp_path, sha256=hashlib.sha256(blob).hexdigest())
    with pytest.raises(ModelError, match="do not match the architecture.*" + str(dtype)) as err:
        load_model(models_dir=tmp_path, device="cpu")
    assert saved.file in str(err.value)


def test_mammoview_models_warns_when_the_default_is_not_installed(tmp_path, capsys):
    """A default naming a model that is not there: detect and the viewer fail on it, `models` listed no star and
    said nothing."""
    from mammoview.cli import main

    folder = tmp_path / "models"
    _save(folder)
    doc = json.loads((folder / MANIFEST).read_text())
    doc["default"] = "gone"
    (folder / MANIFEST).write_text(json.dumps(doc))
    assert main(["models", "--models-dir", str(folder)]) == 0
    assert "default model 'gone' is not installed" in capsys.readouterr().err
    doc["default"] = "test-tiny"
    (folder / MANIFEST).write_text(json.dumps(doc))
    assert main(["models", "--models-dir", str(folder)]) == 0
    assert "not installed" not in capsys.readouterr().err


def test_an_entry_of_an_unknown_task_is_listed_as_malformed(tmp_path, capsys):
    """`"task": "nonsense"` passed the checks and was listed as an ordinary model (no command could use it)."""
    from mammoview.cli import main

    _save(tmp_path)
    _rewrite(tmp_path, task="nonsense")
    assert main(["models", "--models-dir", str(tmp_path)]) == 0
    assert "task 'nonsense' unknown" in capsys.readouterr().out


def test_a_manifest_nested_too_deep_is_an_error_naming_it(tmp_path, capsys):
    """JSON nested deeper than Python's recursion limit (a damaged or hostile file): `mammoview models` said only
    "error: maximum recursion depth exceeded while decoding a JSON array", naming no file."""
    from mammoview.cli import main

    (tmp_path / MANIFEST).write_text('{"models": ' + "[" * 100_000 + "]" * 100_000 + "}")
    with pytest.raises(ModelError, match="unreadable manifest") as err:
        read_manifest(tmp_path)
    assert MANIFEST in str(err.value)
    assert main(["models", "--models-dir", str(tmp_path)]) == 1
    assert MANIFEST in capsys.readouterr().err


@pytest.mark.parametrize("widths", [[-4, 4, 8, 8], [10**6] * 4], ids=["negative", "beyond-memory"])
def test_arch_kwargs_the_network_cannot_be_built_with_are_an_error_naming_the_file(tmp_path, widths):
    """torch raises RuntimeError for a layer of a negative width or one no memory holds ("Trying to create tensor with
    negative dimension", "can't allocate memory"): it escaped naming no file, and an optional model (malignancy,
    verifier, density) so edited stopped `detect` and the viewer's CAD instead of being skipped."""
    saved = _save(tmp_path)
    _rewrite(tmp_path, arch_kwargs={"widths": widths})
    with pytest.raises(ModelError, match="cannot build arch") as err:
        load_model(models_dir=tmp_path, device="cpu")
    assert saved.file in str(err.value)


@pytest.mark.parametrize("name", [5, ["test-tiny"], None])
def test_an_entry_whose_name_is_not_text_leaves_the_default_not_found_naming_the_manifest(tmp_path, name):
    """The list of installed names in "no model named ..." joined the names as text: an entry named 5 or ["x"] raised
    TypeError ("sequence item 0: expected str instance, int found"), naming no file, in detect and the viewer."""
    _save(tmp_path)
    _rewrite(tmp_path, name=name)
    with pytest.raises(ModelError, match="no model named 'test-tiny'") as err:
        load_model(models_dir=tmp_path, device="cpu")
    assert MANIFEST in str(err.value)


@pytest.mark.parametrize("target", ["nowhere.json", MANIFEST], ids=["dangling", "loop"])
def test_a_manifest_that_is_a_broken_link_is_an_error_naming_it_not_no_models_installed(tmp_path, capsys, target):
    """manifest.json a link to a file gone (a models folder copied without its target) or to itself read as absent:
    detect and the viewer said "no models installed (train one ...)" beside the weights files, and `mammoview
    models` the same with exit status 0."""
    from mammoview.cli import main

    _save(tmp_path)
    (tmp_path / MANIFEST).unlink()
    (tmp_path / MANIFEST).symlink_to(target)
    with pytest.raises(ModelError, match="unreadable manifest") as err:
        load_model(models_dir=tmp_path, device="cpu")
    assert MANIFEST in str(err.value)
    assert main(["models", "--models-dir", str(tmp_path)]) == 1
    assert "unreadable manifest" in capsys.readouterr().err


@pytest.mark.parametrize(
    "changes",
    [
        {"patch_size": 10**9},
        {"map_windows_px": [10**9 + 1]},
        {"context_px": 2**24},
        {"task": "density", "canvas_px": [10**6, 10**6], "outputs": list("abcd"), "classes": list("abcd")},
    ],
    ids=["patch", "window", "context", "canvas"],
)
def test_a_patch_window_or_canvas_larger_than_any_mammogram_is_refused_at_load_naming_the_file(tmp_path, changes):
    """A hand edit of a size with too many digits (patch_size 1e9) passed every load check, then failed every image
    ("MemoryError: Unable to allocate 3.47 PiB"), blaming the image; on the verifier, the malignancy or the density
    model, the detector's CAD failed with it instead of running without that model."""
    saved = _save(tmp_path)
    _rewrite(tmp_path, **changes)
    with pytest.raises(ModelError, match="larger than any mammogram") as err:
        load_model(models_dir=tmp_path, device="cpu", task=changes.get("task", "detection"))
    assert saved.file in str(err.value)


@pytest.mark.skipif(not hasattr(__import__("os"), "mkfifo"), reason="named pipes are POSIX")
@pytest.mark.parametrize("which", ["manifest", "weights"])
def test_a_manifest_or_weights_file_that_is_a_pipe_or_device_is_refused_not_read(tmp_path, which):
    """manifest.json a named pipe: `mammoview models` and detect waited for a writer forever, and the viewer's CAD never
    became available or unavailable; weights "file": "/dev/zero" read until memory ran out. As an image named so is
    (io.reader), such a file is refused before it is read, naming it."""
    import os

    from tests.conftest import error_of_a_read_that_ends

    saved = _save(tmp_path)
    if which == "manifest":
        path = tmp_path / MANIFEST
        path.unlink()
        os.mkfifo(path)  # reading it would wait for a writer forever
    else:
        path = Path("/dev/zero")  # and this one never ends
        _rewrite(tmp_path, file=str(path))
    err = error_of_a_read_that_ends(lambda: load_model(models_dir=tmp_path, device="cpu"), path, ModelError)
    assert str(path) in str(err) and "not a regular file" in str(err) and saved.file


def test_mammoview_models_json_is_strict_json_for_a_manifest_holding_nan(tmp_path, capsys):
    """Python's json reads NaN and Infinity from a hand-edited manifest; `models --json` passed them on, which no
    strict JSON reader takes."""
    from mammoview.cli import main

    _save(tmp_path)
    text = (tmp_path / MANIFEST).read_text()
    doc = json.loads(text)
    doc["models"][0]["metrics"] = {"auc": float("nan"), "froc": float("inf")}
    (tmp_path / MANIFEST).write_text(json.dumps(doc))
    assert main(["models", "--models-dir", str(tmp_path), "--json"]) == 0
    out = capsys.readouterr().out

    def strict(constant: str) -> None:
        raise ValueError(constant)

    (listed,) = json.loads(out, parse_constant=strict)
    assert listed["metrics"] == {"auc": None, "froc": None}
