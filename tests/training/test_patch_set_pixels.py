"""A patch set's id covers its pixels: one cut again with the same index.csv but other pixels (another reader, other
preprocessing) is another patch set to `train --resume` and to evaluate's check of a run's own patch set."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from mammoview.training.patch_identity import index_id, patch_set_id
from tests.training.test_run_integrity import _cli, _train, two_sets  # noqa: F401  (fixture)


def _other_pixels(folder: Path) -> None:
    """The same patches.npy shape and index.csv, other pixels: as a re-extraction after a reader change writes."""
    path = folder / "patches.npy"
    np.save(path, 255 - np.load(path))


@pytest.fixture()
def copied(two_sets, tmp_path) -> Path:  # noqa: F811
    """A copy of a patch set, its files' times kept (the manifest's record of patches.npy still holds)."""
    return Path(shutil.copytree(two_sets[0], tmp_path / "copy"))


def test_the_same_index_with_other_pixels_is_another_patch_set(two_sets, copied):  # noqa: F811
    a, _ = two_sets
    assert "patches_npy" in json.loads((a / "manifest.json").read_text())  # hashed once, at extraction
    assert patch_set_id(copied) == patch_set_id(a)
    _other_pixels(copied)  # the copied manifest's record of patches.npy is stale now: it must not be trusted
    assert (copied / "index.csv").read_bytes() == (a / "index.csv").read_bytes()
    assert patch_set_id(copied) != patch_set_id(a)
    (copied / "manifest.json").unlink()  # a patch set without the record is hashed too
    assert patch_set_id(copied) != patch_set_id(a)


def test_resume_refuses_the_same_index_with_other_pixels(two_sets, copied, tmp_path, capsys):  # noqa: F811
    a, _ = two_sets
    run = tmp_path / "run"
    assert _train(a, run, "--epochs", "1") == 0
    _other_pixels(copied)
    capsys.readouterr()
    assert _train(copied, run, "--epochs", "2", "--resume") == 1
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
    for named in (str(a), str(copied), patch_set_id(a), patch_set_id(copied)):
        assert named in err, (named, err)


def test_resume_and_evaluate_refuse_their_own_patch_set_cut_again_with_other_pixels(copied, tmp_path, capsys):
    run = tmp_path / "run"
    assert _train(copied, run, "--epochs", "1") == 0
    trained_on = patch_set_id(copied)
    _other_pixels(copied)
    capsys.readouterr()
    assert _train(copied, run, "--epochs", "2", "--resume") == 1
    err = capsys.readouterr().err
    assert "cut again" in err and trained_on in err and patch_set_id(copied) in err, err
    code = _cli("evaluate", "--weights", str(run), "--patches", str(copied), "--out", str(tmp_path / "ev"),
                "--no-detect", "--quiet", "--device", "cpu")  # fmt: skip
    err = capsys.readouterr().err
    assert code == 1 and "cut again" in err and trained_on in err and patch_set_id(copied) in err, err
    assert not (tmp_path / "ev").exists()


def test_a_run_recorded_with_the_index_only_id_is_accepted_with_a_note(two_sets, tmp_path, capsys):  # noqa: F811
    """Runs trained before the id covered the pixels recorded index.csv's hash alone: their pixels cannot be
    checked, which is said, but they resume and evaluate as before."""
    a, _ = two_sets
    run = tmp_path / "run"
    assert _train(a, run, "--epochs", "1") == 0
    for path, key in ((run / "checkpoints" / "last.json", "patch_set"), (run / "summary.json", None)):
        doc = json.loads(path.read_text())
        if key:
            doc[key]["id"] = index_id(a)
        else:
            doc["patch_set_id"] = index_id(a)
        path.write_text(json.dumps(doc))
    capsys.readouterr()
    code = _cli("evaluate", "--weights", str(run), "--patches", str(a), "--out", str(tmp_path / "ev"),
                "--no-detect", "--quiet", "--device", "cpu")  # fmt: skip
    err = capsys.readouterr().err
    assert code == 0 and "not checked" in err, err
    assert _train(a, run, "--epochs", "2", "--resume") == 0
    err = capsys.readouterr().err
    assert "not checked" in err, err
    assert json.loads((run / "summary.json").read_text())["patch_set_id"] == patch_set_id(a)  # recorded anew
