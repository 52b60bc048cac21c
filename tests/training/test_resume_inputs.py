"""`train --resume` continues the run it finds, on the inputs it was trained on, or says why it cannot."""

from __future__ import annotations

import json
import shutil

from tests.training.test_run_integrity import _train, two_sets  # noqa: F401  (fixture)


def test_resume_refuses_the_same_index_cut_with_other_preprocessing(two_sets, tmp_path, capsys):  # noqa: F811
    """The patch set cut again into its folder with `--clahe` keeps the same index.csv (same patients, same
    centres) but other pixels: `--resume` checked only index.csv and went on training the run on CLAHE patches."""
    a, _ = two_sets
    patches = tmp_path / "patches"
    shutil.copytree(a, patches)
    run = tmp_path / "run"
    assert _train(patches, run, "--epochs", "1") == 0
    manifest = json.loads((patches / "manifest.json").read_text())
    manifest["preprocessing"]["clahe"] = True  # what `extract-patches --clahe` into the same --out writes
    (patches / "manifest.json").write_text(json.dumps(manifest))
    capsys.readouterr()
    code = _train(patches, run, "--epochs", "2", "--resume")
    err = capsys.readouterr().err
    assert code != 0, "resumed on patches cut with other preprocessing"
    assert "preprocessing.clahe True (the run's: False)" in err and "Traceback" not in err, err
    assert len(err.strip().splitlines()) == 1, err
    assert json.loads((run / "checkpoints" / "last.json").read_text())["epoch"] == 0  # nothing trained
