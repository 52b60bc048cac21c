"""`mammoview extract-patches` on an --out that is not a patch set's folder, and on options no patch set can be cut
with: refused in one line before any work, the folder as it was."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.training.test_extract import make_fake_data

FEW = ["--patch-size", "48", "--cbis-lesion-patches", "1", "--cbis-normal-patches", "1", "--mias-lesion-patches", "1",
       "--mias-normal-patches", "1", "--quiet"]  # fmt: skip


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    return make_fake_data(tmp_path_factory.mktemp("extract_options") / "data", n_cbis=2, n_mias=2, n_magic=2)


def _cli(*argv: str) -> int:
    from mammoview.cli import main

    return main(list(argv))


def test_a_models_folder_is_not_cut_into(data, tmp_path, capsys):
    """`extract-patches --out models` replaced the models' manifest.json with the patch set's: `mammoview models` then
    said 'no models installed' and the CAD had none."""
    models = tmp_path / "models"
    models.mkdir()
    manifest = json.dumps({"default": "m", "models": [{"name": "m", "arch": "vgg", "file": "m-0.safetensors"}]})
    (models / "manifest.json").write_text(manifest)
    assert _cli("extract-patches", "--out", str(models), "--data", str(data), *FEW) != 0
    err = capsys.readouterr().err
    assert str(models / "manifest.json") in err and err.count("\n") == 1, err
    assert [p.name for p in models.iterdir()] == ["manifest.json"]
    assert (models / "manifest.json").read_text() == manifest


def test_a_patch_set_is_cut_again_in_its_folder(data, tmp_path):
    """As documented: a patch set's files are replaced by the new cut's (the make model recipe cuts again)."""
    out = tmp_path / "patches"
    assert _cli("extract-patches", "--out", str(out), "--data", str(data), *FEW) == 0
    assert _cli("extract-patches", "--out", str(out), "--data", str(data), *FEW, "--seed", "3") == 0
    assert json.loads((out / "manifest.json").read_text())["extract"]["seed"] == 3


@pytest.mark.parametrize(
    "option, value",
    [
        ("--patch-size", "0"),  # cut as nothing, exit 0
        ("--patch-size", "-5"),
        ("--context", "-16"),
        ("--val-fraction", "1"),  # every patient in validation: nothing to train on
        ("--val-fraction", "0"),  # none: nothing to choose the epoch or measure on
        ("--val-fraction", "1.5"),
        ("--val-fraction", "nan"),  # 'cannot convert float NaN to integer'
        ("--workers", "0"),
        ("--jitter", "-1"),
        ("--normal-margin", "inf"),
        ("--min-coverage", "2"),
        ("--cbis-lesion-patches", "-1"),
        ("--hard-negatives", "-1"),
        ("--hard-negative-min-score", "1.5"),
        ("--pixel-size", "0"),  # 'float division by zero'
        ("--clip", "0"),  # every patch NaN, cast to uint8 and written, exit 0
        ("--clip", "nan"),
        ("--gaussian-sigma", "-1"),
        ("--morphology-radius", "nan"),
        ("--clahe-clip-limit", "2"),
    ],
)
def test_an_option_no_patch_set_can_be_cut_with_is_refused_as_the_line_is_read(data, tmp_path, capsys, option, value):
    out = tmp_path / "patches"
    with pytest.raises(SystemExit) as exit_:
        _cli("extract-patches", "--out", str(out), "--data", str(data), *FEW, option, value)
    assert exit_.value.code == 2
    assert f"argument {option}:" in capsys.readouterr().err
    assert not out.exists()


def test_labels_that_list_no_image_are_refused(data, tmp_path, capsys):
    """A labels file with its header only (a spreadsheet export of an empty sheet) cut '0 patches from 0 images' and
    exited 0: train then refused the empty patch set."""
    import shutil

    root = tmp_path / "data"
    shutil.copytree(data / "mini-mias", root / "mini-mias")
    labels = root / "mini-mias" / "labels.csv"
    labels.write_text(labels.read_text().splitlines()[0] + "\n")
    out = tmp_path / "patches"
    assert _cli("extract-patches", "--out", str(out), "--data", str(root), "--sources", "mias", *FEW) != 0
    err = capsys.readouterr().err
    assert "no image" in err and str(root) in err and err.count("\n") == 1, err
    assert not out.exists()


@pytest.mark.parametrize("sources", ["", ","])
def test_no_source_is_refused(data, tmp_path, capsys, sources):
    out = tmp_path / "patches"
    assert _cli("extract-patches", "--out", str(out), "--data", str(data), "--sources", sources, *FEW) != 0
    err = capsys.readouterr().err
    assert "--sources" in err and err.count("\n") == 1, err
    assert not out.exists()


def test_a_cut_of_no_patch_is_refused(data, tmp_path, capsys):
    out = tmp_path / "patches"
    zero = ["--cbis-lesion-patches", "0", "--cbis-normal-patches", "0", "--mias-lesion-patches", "0",
            "--mias-normal-patches", "0", "--magic5", "exclude"]  # fmt: skip
    assert _cli("extract-patches", "--out", str(out), "--data", str(data), *FEW, *zero) != 0
    err = capsys.readouterr().err
    assert "no patch" in err and err.count("\n") == 1, err
    assert not out.exists()
