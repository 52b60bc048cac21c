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


def test_resume_of_a_run_folder_without_its_config_json_takes_the_checkpoints(two_sets, tmp_path):  # noqa: F811
    """A run folder copied without config.json: `--resume` built a configuration from the options' defaults
    (batch 64, one pass per epoch, 55 minutes) and went on training the checkpoint with it, saying nothing."""
    a, _ = two_sets
    run = tmp_path / "run"
    assert _train(a, run, "--epochs", "1", "--batch-size", "8", "--steps-per-epoch", "2") == 0
    (run / "config.json").unlink()
    resumed = ["--arch", "paper_cnn", "--arch-kwargs", '{"widths": [4, 4, 8, 8]}', "--epochs", "2", "--resume"]
    from mammoview.cli import main

    assert main(["train", "--patches", str(a), "--out", str(run), "--threads", "1", "--quiet", *resumed]) == 0
    config = json.loads((run / "config.json").read_text())
    assert (config["batch_size"], config["steps_per_epoch"], config["epochs"]) == (8, 2, 2)
    assert [h["steps"] for h in json.loads((run / "summary.json").read_text())["history"]] == [2, 2]
