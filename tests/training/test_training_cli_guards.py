"""The training command line refuses what would give wrong numbers: a patch set cut again, another model's detections,
an interrupted extraction or resume; no map windows means the patch size; unreadable run files and rows are named."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path
from unittest import mock

import pytest
from safetensors import safe_open

from mammoview.cad.preprocess import PreprocessConfig
from mammoview.training.extract import extract_patch_set
from mammoview.training.patches import ExtractConfig
from tests.cad.conftest import bright_model, bright_net  # noqa: F401  (fixture)
from tests.training.test_extract import SMALL
from tests.training.test_retune import _metrics
from tests.training.test_run_integrity import _cli, _train, two_sets  # noqa: F401  (fixture)


def test_evaluate_refuses_its_own_patch_set_path_cut_again_with_another_split(two_sets, tmp_path, capsys):  # noqa: F811
    """`extract-patches --out runs/patches/ctx --seed 1` over the folder a run trained on: `evaluate --weights RUN
    --patches runs/patches/ctx` skipped the leakage check (same path) and scored the run on patients it trained on."""
    a, b = two_sets
    mine = tmp_path / "patches"
    shutil.copytree(a, mine)
    assert _train(mine, tmp_path / "run", "--epochs", "1") == 0
    shutil.rmtree(mine)
    shutil.copytree(b, mine)  # the same folder, cut again with another split seed
    capsys.readouterr()
    code = _cli("evaluate", "--weights", str(tmp_path / "run"), "--patches", str(mine), "--out", str(tmp_path / "ev"),
                "--no-detect", "--quiet", "--device", "cpu")  # fmt: skip
    err = capsys.readouterr().err
    assert code != 0, "evaluated on a re-cut patch set whose validation patients the run trained on"
    assert "Traceback" not in err


def test_evaluate_of_a_model_on_another_models_detections_is_refused(two_sets, tmp_path):  # noqa: F811
    """`evaluate --model A --detections B.json` wrote metrics.json naming A (its sha256) with B's FROC: `retune A
    --threshold-from` / `--operating-curve` then accepted B's operating point for A (only a note said otherwise)."""
    from mammoview.training.eval_inputs import EvaluateOptions
    from mammoview.training.evaluate import evaluate

    a, _ = two_sets
    det = tmp_path / "b.json"
    det.write_text(json.dumps({"model": {"name": "B", "version": "1", "sha256": "b" * 64}, "images": []}))
    opts = EvaluateOptions(out=tmp_path / "ev", patches=a, data_dir=a.parent / "data", detections=(det,))
    with pytest.raises(ValueError, match="not by the evaluated model"):
        evaluate(opts, module=None, model_info={"name": "A", "version": "1", "sha256": "a" * 64})


def test_an_evaluation_of_a_model_without_map_windows_gives_it_its_curve(tmp_path, bright_model):  # noqa: F811
    """A model installed without --map-windows (the default: its patch size) could never take the FROC curve or
    threshold of its own evaluation: evaluate records map_windows_px [patch_size], the entry (), and
    `retune` / `train --install-only --operating-curve` refused 'map windows [48] vs []'."""
    from mammoview.cad.weights import load_model, save_model
    from mammoview.training.eval_model import model_summary

    d = tmp_path / "models"
    entry = replace(bright_model.entry, task="detection", test_time_flip=False, map_windows_px=(), version="1.0.0")
    save_model(bright_net(), entry, d, make_default=True)
    loaded = load_model(entry.name, d, "cpu")
    metrics = _metrics(tmp_path / "metrics.json", model_summary(loaded))  # what evaluate writes for it
    assert _cli("retune", entry.name, "--models-dir", str(d), "--model-version", "1.0.1",
                "--operating-curve", str(metrics), "--threshold-from", str(metrics)) == 0  # fmt: skip


def test_ensemble_metrics_refuse_a_patch_set_of_other_inputs(two_sets, tmp_path, capsys):  # noqa: F811
    """`ensemble --patches OTHER`: the manifest's validation metrics were measured on patches of another pixel
    size and preprocessing than the networks take (evaluate refuses such a patch set; ensemble did not)."""
    a, _ = two_sets
    other = tmp_path / "p05"
    extract_patch_set(other, data_dir=a.parent / "data", pcfg=PreprocessConfig(pixel_size_mm=0.5, clahe=True),
                      val_fraction=0.34, progress=False, ecfg=ExtractConfig(**SMALL))  # fmt: skip
    assert _train(a, tmp_path / "r1", "--epochs", "1") == 0
    capsys.readouterr()
    code = _cli("ensemble", str(tmp_path / "r1"), "--name", "e", "--install-to", str(tmp_path / "m"),
                "--patches", str(other))  # fmt: skip
    err = capsys.readouterr().err
    assert code != 0 and "pixel size" in err, err
    assert not (tmp_path / "m" / "manifest.json").exists()


def test_an_interrupted_extraction_does_not_leave_a_split_that_disagrees_with_the_index(two_sets, tmp_path):  # noqa: F811
    """A re-extraction into an existing patch set wrote split.json first: stopped later (Ctrl-C, a missing image),
    it left the new split beside the old index.csv, which PatchSet read without a word -- dense training and the froc
    monitor take split.json's patients, the patch level index.csv's: validation patients were trained on."""
    from mammoview.training.datasets import PatchSet

    a, _ = two_sets
    mine = tmp_path / "patches"
    shutil.copytree(a, mine)
    data = tmp_path / "data"
    shutil.copytree(a.parent / "data", data)
    import mammoview.training.extract as E

    real, calls = E._work, []

    def stopped(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(1)
        if len(calls) == 2:  # Ctrl-C mid-way (a missing image no longer stops it: it is skipped and said)
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    with pytest.MonkeyPatch.context() as mp, pytest.raises(KeyboardInterrupt):
        mp.setattr(E, "_work", stopped)
        extract_patch_set(mine, data_dir=data, pcfg=PreprocessConfig(), val_fraction=0.34, progress=False,
                          ecfg=ExtractConfig(**{**SMALL, "seed": 2}))  # fmt: skip
    try:
        ps = PatchSet(mine)
    except ValueError:
        return  # refused: fine
    split = ps.split_patients()
    for side in ("train", "val"):
        assert set(ps.patients[ps.split(side)]) <= set(split[side]), f"index.csv {side} patients not in split.json"


def test_an_interrupted_resume_does_not_leave_a_summary_of_other_weights(two_sets, tmp_path):  # noqa: F811
    """A finished run resumed for more epochs and stopped (Ctrl-C) after a better epoch: best.safetensors was the
    new epoch's, summary.json still the old session's, and `--install-only` / `ensemble` / `evaluate --weights`
    installed the new weights under the old best epoch and metrics."""
    import mammoview.training.train as T

    a, _ = two_sets
    run = tmp_path / "run"
    assert _train(a, run, "--epochs", "1") == 0
    score = iter(range(1, 100))
    real = T.plot_learning_curves

    def stop_after_two(history, *args, **kw):
        real(history, *args, **kw)
        if len(history) >= 2:
            raise KeyboardInterrupt

    with (
        mock.patch.object(T, "monitor_value", lambda val, m: float(next(score))),  # every epoch improves
        mock.patch.object(T, "plot_learning_curves", stop_after_two),
    ):
        assert _train(a, run, "--epochs", "5", "--resume") == 130
    with safe_open(str(run / "checkpoints" / "best.safetensors"), "pt") as f:
        best_epoch = int(f.metadata()["epoch"])
    summary = run / "summary.json"
    if summary.exists():  # a summary left there must describe the weights an install takes
        assert json.loads(summary.read_text())["best_epoch"] == best_epoch


@pytest.mark.parametrize("name", ["summary.json", "config.json", "checkpoints/last.json"])
def test_a_truncated_run_file_is_named(two_sets, tmp_path, capsys, name):  # noqa: F811
    """A truncated JSON of a run folder ended as 'error: Expecting ',' delimiter: line 7 column 35' naming no file."""
    a, _ = two_sets
    run = tmp_path / "run"
    assert _train(a, run, "--epochs", "1") == 0
    path = run / name
    path.write_text(path.read_text()[:60])
    capsys.readouterr()
    code = (
        _train(a, run, "--epochs", "2", "--resume")
        if name != "summary.json"
        else _cli(
            "train", "--patches", str(a), "--out", str(run), "--install-only", "--install-to", str(tmp_path / "m")
        )
    )
    err = capsys.readouterr().err
    assert code != 0 and name.split("/")[-1] in err and "Traceback" not in err, err


def test_a_truncated_split_json_is_named(two_sets, tmp_path, capsys):  # noqa: F811
    a, _ = two_sets
    mine = tmp_path / "patches"
    shutil.copytree(a, mine)
    (mine / "split.json").write_text((a / "split.json").read_text()[:40])
    assert _train(a, tmp_path / "run", "--epochs", "1") == 0
    capsys.readouterr()
    code = _cli("evaluate", "--weights", str(tmp_path / "run"), "--patches", str(mine), "--out", str(tmp_path / "ev"),
                "--no-detect", "--quiet", "--device", "cpu")  # fmt: skip
    err = capsys.readouterr().err
    assert code != 0 and "split.json" in err, err


def _bad_data(tmp_path: Path, src: Path, edit) -> Path:
    data = tmp_path / "data"
    shutil.copytree(src, data)
    path = data / "mini-mias" / "labels.csv"
    lines = path.read_text().splitlines()
    lines[1] = edit(lines[1])
    path.write_text("\n".join(lines) + "\n")
    return data


@pytest.mark.parametrize(
    "edit, says",
    [
        (lambda line: line.replace(",200,256,12,", ",abc,256,12,"), "labels.csv"),  # non-numeric x
        (lambda line: line.replace(",200,256,12,", ",200,256,-12,"), "radius"),  # a negative radius
        (lambda line: line.replace("calcification", "calcfication"), "labels.csv"),  # unknown lesion type
    ],
)
def test_a_malformed_label_row_is_named(two_sets, tmp_path, capsys, edit, says):  # noqa: F811
    """A bad labels.csv row ended as "error: could not convert string to float: 'abc'" / "error: 'calcfication'"
    (no file, no row), and a negative radius dropped the lesion as 'outside the breast mask'."""
    a, _ = two_sets
    data = _bad_data(tmp_path, a.parent / "data", edit)
    capsys.readouterr()
    code = _cli("extract-patches", "--out", str(tmp_path / "p"), "--data", str(data), "--patch-size", "48", "--quiet")
    err = capsys.readouterr().err
    assert code != 0 and says in err and "mdb001" in err, err


def test_a_save_killed_midway_leaves_the_previous_file_whole(tmp_path: Path) -> None:
    """best.safetensors / best_metrics.json / the checkpoint files: a save that fails (killed, disk full) after
    writing part of the file leaves the previous one as it was, and no temporary file."""
    from mammoview.training.checkpoint import atomic_file

    best = tmp_path / "best_metrics.json"
    best.write_text('{"auc": 0.9}\n')

    def half(path: str) -> None:
        Path(path).write_text('{"auc": 0.')
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError):
        atomic_file(best, half)
    assert best.read_text() == '{"auc": 0.9}\n' and [p.name for p in tmp_path.iterdir()] == [best.name]


def test_training_files_get_the_users_mode_not_0600(tmp_path: Path) -> None:
    """A run folder may be shared with colleagues: its files take the umask's mode (the temporary file was 0600)."""
    import os

    from mammoview.io.files import user_umask
    from mammoview.training.checkpoint import atomic_file

    out = tmp_path / "best_metrics.json"
    atomic_file(out, lambda p: Path(p).write_text("{}\n"))
    assert out.stat().st_mode & 0o777 == 0o666 & ~user_umask()
    assert os.access(out, os.R_OK)


def _resume_args(out: Path, *extra: str):  # type: ignore[no-untyped-def]
    from mammoview.cli import build_parser

    return build_parser().parse_args(["train", "--patches", str(out / "p"), "--out", str(out), "--resume", *extra])


@pytest.fixture()
def saved_run(tmp_path: Path) -> Path:
    """A run folder whose config.json says: vgg, Adam at lr 3e-4, batch 32, 30 epochs."""
    from mammoview.cli import build_parser
    from mammoview.cli.train import config_from_args

    args = build_parser().parse_args(["train", "--patches", "p", "--out", str(tmp_path), "--arch", "vgg",
                                      "--lr", "3e-4", "--batch-size", "32"])  # fmt: skip
    (tmp_path / "config.json").write_text(json.dumps(config_from_args(args).to_dict()))
    return tmp_path


def test_resume_takes_its_run_options_and_the_budget_ones(saved_run: Path) -> None:
    from mammoview.cli.train import config_from_args

    cfg = config_from_args(_resume_args(saved_run, "--epochs", "40", "--max-minutes", "20", "--threads", "1"))
    assert (cfg.arch, cfg.lr, cfg.batch_size, cfg.epochs, cfg.max_minutes, cfg.threads) == ("vgg", 3e-4, 32, 40, 20, 1)
    # an option given again with the run's own value is no conflict
    assert config_from_args(_resume_args(saved_run, "--arch", "vgg", "--lr", "3e-4")).lr == 3e-4


@pytest.mark.parametrize(
    "extra, says",
    [
        (("--lr", "1e-2"), "lr 0.01 (the run's: 0.0003)"),
        (("--batch-size", "128"), "batch_size 128 (the run's: 32)"),
        (("--arch", "resnet", "--seed", "3"), "arch 'resnet' (the run's: 'vgg'), seed 3 (the run's: 0)"),
        (("--no-augment",), "augment"),
    ],
)
def test_resume_refuses_options_it_would_silently_ignore(saved_run: Path, extra, says) -> None:  # type: ignore[no-untyped-def]
    """`train --resume` kept the run's saved configuration and dropped every other option without a word: a
    reader who asked for another learning rate got the old one and thought the new one was measured."""
    from mammoview.cli.train import config_from_args

    with pytest.raises(ValueError, match="--resume") as err:
        config_from_args(_resume_args(saved_run, *extra))
    assert says in str(err.value)


def _train_args(out: Path, *extra: str):  # type: ignore[no-untyped-def]
    from mammoview.cli import build_parser

    return build_parser().parse_args(["train", "--patches", str(out / "p"), "--out", str(out), *extra])


def _saved_config(out: Path, *options: str) -> Path:
    from mammoview.cli.train import config_from_args

    (out / "config.json").write_text(json.dumps(config_from_args(_train_args(out, *options)).to_dict()))
    return out


def test_resume_with_the_runs_own_optimizer_is_not_refused_for_an_lr_never_given(tmp_path: Path) -> None:
    """A run trained with `--optimizer sgd --lr 3e-3`: resumed with `--optimizer sgd` (its own optimizer, no
    --lr) was refused for "lr 0.01 (the run's: 0.003)", a learning rate the user never asked for (SGD's
    default, filled in before the comparison)."""
    from mammoview.cli.train import config_from_args

    run = _saved_config(tmp_path, "--optimizer", "sgd", "--lr", "3e-3", "--weight-decay", "1e-4")
    cfg = config_from_args(_train_args(run, "--resume", "--optimizer", "sgd"))
    assert (cfg.optimizer, cfg.lr, cfg.weight_decay) == ("sgd", 3e-3, 1e-4)


@pytest.mark.parametrize(
    "saved, given",
    [
        (("--lr", "3e-4"), ("--lr", "1e-3")),  # another learning rate asked for, which is the default
        (("--ema", "0.998"), ("--ema", "0")),  # switching the average off
        (("--monitor", "froc"), ("--monitor", "combined")),
        (("--seed", "3"), ("--seed", "0")),
        (("--no-ema-warmup",), ("--ema-warmup",)),
    ],
)
def test_resume_refuses_an_option_given_with_its_default_value(tmp_path: Path, saved, given) -> None:  # type: ignore[no-untyped-def]
    """An option typed on the command line whose value happens to be the parser's default was still dropped
    without a word (comparing with the defaults cannot tell it from an option left out)."""
    from mammoview.cli.train import config_from_args

    run = _saved_config(tmp_path, *saved)
    with pytest.raises(ValueError, match="--resume"):
        config_from_args(_train_args(run, "--resume", *given))


@pytest.mark.parametrize("task", ["malignancy", "verification"])
def test_only_a_detection_model_can_be_made_the_default(tmp_path, capsys, task):
    """`train --task verification --make-default` made a second stage the CAD's default (every CAD run then failed,
    'not a detection model'): refused before any training."""
    code = _cli("train", "--patches", str(tmp_path / "none"), "--out", str(tmp_path / "run"), "--task", task,
                "--install-to", str(tmp_path / "models"), "--make-default", "--quiet")  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2 and "--make-default" in err and "Traceback" not in err, err
    assert not (tmp_path / "run").exists()
