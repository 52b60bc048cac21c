"""Run folders, resume, ensembles and evaluations must not mix runs or patient splits; checkpoint errors name the file.

Each test drives the CLI as an ML engineer would, on synthetic data (seconds).
"""

from __future__ import annotations

import json
import os
import pickle
import shutil
from pathlib import Path

import pytest

TINY = ["--arch", "paper_cnn", "--arch-kwargs", '{"widths": [4, 4, 8, 8]}', "--steps-per-epoch", "2",
        "--batch-size", "8", "--small-batch-size", "4", "--threads", "1", "--precision", "fp32", "--quiet"]  # fmt: skip


@pytest.fixture(scope="module")
def two_sets(_two_sets_made, tmp_path_factory) -> tuple[Path, Path]:
    """Two patch sets of the same data with different split seeds: other validation patients.  Each module gets its
    own copy (data folder and sets, the files' times kept; each manifest names the copy's data folder), as though
    cut there."""
    root = Path(shutil.copytree(_two_sets_made, tmp_path_factory.mktemp("review") / "copy"))
    for seed in (1, 2):
        manifest = root / f"patches{seed}" / "manifest.json"
        stat = manifest.stat()
        doc = json.loads(manifest.read_text())
        assert doc["data_dir"] == str(_two_sets_made / "data"), doc["data_dir"]
        doc["data_dir"] = str(root / "data")
        manifest.write_text(json.dumps(doc, indent=1) + "\n")  # (as extract-patches writes it)
        os.utime(manifest, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    return root / "patches1", root / "patches2"


def _cli(*argv: str) -> int:
    from mammoview.cli import main

    return main(list(argv))


def _train(patches: Path, out: Path, *extra: str) -> int:
    return _cli("train", "--patches", str(patches), "--out", str(out), *TINY, *extra)


def test_resume_refuses_another_patch_set(two_sets, tmp_path, capsys):
    """--resume --patches OTHER used to go on silently on another patch set (another split: its validation
    patients were trained on in the first epochs), and summary.json named only the second one."""
    a, b = two_sets
    run = tmp_path / "run"
    assert _train(a, run, "--epochs", "1") == 0
    capsys.readouterr()
    code = _train(b, run, "--epochs", "2", "--resume")
    err = capsys.readouterr().err
    assert code != 0, "resumed on another patch set"
    assert str(a) in err and "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    assert json.loads((run / "summary.json").read_text())["patches"] == str(a)
    # the same patch set resumes as before
    assert _train(a, run, "--epochs", "2", "--resume") == 0
    assert json.loads((run / "summary.json").read_text())["epochs_run"] == 2


def test_a_new_run_does_not_overwrite_a_run_folder(two_sets, tmp_path, capsys):
    """A fresh `train` into a folder that holds another run used to overwrite config.json at once and the
    checkpoints epoch by epoch, leaving the old summary.json: interrupted, `--install-only`, `ensemble` and
    `evaluate --weights` then installed the new weights under the old run's summary, and `--resume` died on a
    multi-line state-dict error.  It must refuse (or, with --overwrite, start clean)."""
    a, b = two_sets
    run = tmp_path / "run"
    assert _train(a, run, "--epochs", "1") == 0
    before = {p.name: p.read_bytes() for p in [run / "config.json", run / "summary.json", *run.glob("checkpoints/*")]}
    capsys.readouterr()
    code = _train(b, run, "--epochs", "1", "--lr", "0.01")
    err = capsys.readouterr().err
    assert code != 0 and "--resume" in err and "--overwrite" in err and len(err.strip().splitlines()) == 1, err
    after = {p.name: p.read_bytes() for p in [run / "config.json", run / "summary.json", *run.glob("checkpoints/*")]}
    assert after == before  # nothing of the old run touched
    assert _train(b, run, "--epochs", "1", "--lr", "0.01", "--overwrite") == 0
    s = json.loads((run / "summary.json").read_text())
    assert s["patches"] == str(b) and s["config"]["lr"] == 0.01


def test_ensemble_refuses_a_member_trained_on_the_validation_patients(two_sets, tmp_path, capsys):
    """The ensemble's manifest metrics are measured on --patches' validation patients: a member whose patch set
    had other splits trained on some of them, so those metrics were leaked (accepted silently before)."""
    a, b = two_sets
    assert _train(a, tmp_path / "ra", "--epochs", "1") == 0
    assert _train(b, tmp_path / "rb", "--epochs", "1") == 0
    capsys.readouterr()
    code = _cli("ensemble", str(tmp_path / "ra"), str(tmp_path / "rb"), "--name", "ens",
                "--install-to", str(tmp_path / "models"))  # fmt: skip
    err = capsys.readouterr().err
    assert code != 0, "an ensemble evaluated on patients one member trained on"
    assert "rb" in err and "validation" in err, err
    assert not (tmp_path / "models" / "manifest.json").exists()


def test_evaluate_weights_refuses_a_patch_set_whose_validation_patients_the_run_trained_on(
    two_sets, tmp_path, capsys, monkeypatch
):
    a, b = two_sets
    monkeypatch.setenv("MAMMOVIEW_DATA", str(a.parent / "data"))
    assert _train(a, tmp_path / "ra", "--epochs", "1") == 0
    capsys.readouterr()
    code = _cli("evaluate", "--weights", str(tmp_path / "ra"), "--patches", str(b), "--out", str(tmp_path / "ev"),
                "--no-detect", "--quiet", "--device", "cpu")  # fmt: skip
    err = capsys.readouterr().err
    assert code != 0 and "validation" in err and "Traceback" not in err, err
    # its own patch set evaluates
    assert _cli("evaluate", "--weights", str(tmp_path / "ra"), "--patches", str(a), "--out", str(tmp_path / "ev2"),
                "--no-detect", "--quiet", "--device", "cpu") == 0  # fmt: skip


class _Evil:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):  # unpickling would create the marker file
        return (os.system, (f"touch {self.marker}",))


def test_a_pickle_as_checkpoint_is_refused_naming_the_file(two_sets, tmp_path, capsys):
    a, _ = two_sets
    run = tmp_path / "run"
    assert _train(a, run, "--epochs", "1") == 0
    marker = tmp_path / "PWNED"
    best = run / "checkpoints" / "best.safetensors"
    best.write_bytes(pickle.dumps(_Evil(marker)))
    capsys.readouterr()
    assert _cli("train", "--patches", str(a), "--out", str(run), "--install-only", "--install-to",
                str(tmp_path / "models")) == 1  # fmt: skip
    err = capsys.readouterr().err
    assert not marker.exists()
    assert str(best) in err and len(err.strip().splitlines()) == 1, err


def test_resume_of_a_checkpoint_of_another_network_is_one_line(two_sets, tmp_path, capsys):
    a, _ = two_sets
    run = tmp_path / "run"
    assert _train(a, run, "--epochs", "1") == 0
    cfg = json.loads((run / "config.json").read_text())
    cfg["arch_kwargs"] = {"widths": [8, 8, 8, 8]}  # e.g. config.json of another run copied in
    (run / "config.json").write_text(json.dumps(cfg))
    capsys.readouterr()
    assert _cli("train", "--patches", str(a), "--out", str(run), "--epochs", "2", "--resume", "--quiet") == 1
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "last.safetensors" in err, err


def test_a_patch_set_of_another_format_gets_a_clear_message(two_sets, tmp_path, capsys):
    a, _ = two_sets
    old = tmp_path / "old"
    shutil.copytree(a, old)
    m = json.loads((old / "manifest.json").read_text())
    del m["quantization"]  # a manifest written before the key existed
    (old / "manifest.json").write_text(json.dumps(m))
    capsys.readouterr()
    assert _train(old, tmp_path / "run", "--epochs", "1") == 1
    err = capsys.readouterr().err
    assert "extract-patches" in err and "quantization" in err, err


def test_evaluate_no_detect_needs_no_data_folder(two_sets, tmp_path, capsys, monkeypatch):
    """--no-detect scores the patch set alone (self-contained): it used to fail on a missing data folder."""
    a, _ = two_sets
    assert _train(a, tmp_path / "ra", "--epochs", "1") == 0
    monkeypatch.setenv("MAMMOVIEW_DATA", str(tmp_path / "nowhere"))
    capsys.readouterr()
    code = _cli("evaluate", "--weights", str(tmp_path / "ra"), "--patches", str(a), "--out", str(tmp_path / "ev"),
                "--no-detect", "--quiet", "--device", "cpu")  # fmt: skip
    assert code == 0, capsys.readouterr().err
    assert json.loads((tmp_path / "ev" / "metrics.json").read_text())["patch"]["n"] > 0


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--batch-size", "0"], "must be >= 1"),  # was "division by zero" mid-run
        (["--epochs", "0"], "must be >= 1"),  # was exit 0 with "best epoch -1" and no weights
        (["--arch-kwargs", "{bad"], "--arch-kwargs: not JSON"),
        (["--arch-kwargs", "[1]"], "must be a JSON object"),
    ],
)
def test_nonsense_training_options_are_usage_errors(args, says, capsys):
    from mammoview.cli import build_parser

    with pytest.raises(SystemExit) as exc:
        build_parser().parse_args(["train", "--patches", "p", "--out", "o", *args])
    assert exc.value.code == 2 and says in capsys.readouterr().err
