"""`mammoview train` / `train-density` options no run can train with: refused as the line is read, naming the option,
not after the patch set is loaded with torch's words ("Probabilities contain NaN", "negative dimensions are not
allowed", "15 score(s) are NaN or infinite" for --ema nan) or by a run that trains on regardless (--lr 0, --max-minutes
-1 or nan)."""

from __future__ import annotations

import pytest

TRAIN = [
    ("--lr", "0"), ("--lr", "nan"), ("--lr", "-1"), ("--max-minutes", "-1"), ("--max-minutes", "nan"),
    ("--small-batch-size", "0"), ("--steps-per-epoch", "-1"), ("--weight-decay", "-1"), ("--balance", "nan"),
    ("--balance", "-1"), ("--malignant-weight", "-1"), ("--label-smoothing", "2"), ("--aux-weight", "nan"),
    ("--ema", "nan"), ("--ema", "1"), ("--ema", "-0.5"), ("--monitor-images", "0"),
]  # fmt: skip


@pytest.mark.parametrize("option, value", TRAIN)
def test_a_train_option_no_run_trains_with_is_refused_as_the_line_is_read(tmp_path, capsys, option, value):
    from mammoview.cli import main

    with pytest.raises(SystemExit) as exit_:
        main(["train", "--patches", str(tmp_path / "p"), "--out", str(tmp_path / "run"), f"{option}={value}"])
    assert exit_.value.code == 2 and f"argument {option}:" in capsys.readouterr().err
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("value", ["0", "nan", "-1e-3"])
def test_a_density_learning_rate_that_is_none_is_refused(tmp_path, capsys, value):
    from mammoview.cli import main

    with pytest.raises(SystemExit) as exit_:
        main(["train-density", "--split", str(tmp_path / "s.json"), "--out", str(tmp_path / "run"), f"--lr={value}"])
    assert exit_.value.code == 2 and "argument --lr:" in capsys.readouterr().err


VERSION_COMMANDS = [["train"], ["train-density"], ["ensemble"], ["retune", "some-model"]]


@pytest.mark.parametrize("command", VERSION_COMMANDS, ids=lambda c: c[0])
@pytest.mark.parametrize("version", ["", "   ", "1.0\n2.0", "1.0\t", "1.0\u202e", "1.0\x00"])
def test_a_model_version_that_is_blank_or_not_one_visible_line_is_refused(tmp_path, capsys, command, version):
    """--model-version took any text, an empty one or one with a newline, into models/manifest.json and the viewer's
    labels."""
    from mammoview.cli import main

    with pytest.raises(SystemExit) as exit_:
        main([*command, f"--model-version={version}"])
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and "argument --model-version:" in err and "model version" in err


def test_every_model_version_the_repository_uses_is_taken():
    """What models/reproduce.sh, experiments.sh, the README and the model card pass (and the manifest holds)."""
    import json
    import re
    from pathlib import Path

    from mammoview.cli.options import model_version

    root = Path(__file__).resolve().parents[2]
    used = {m for name in ("models/reproduce.sh", "models/experiments.sh", "README.md", "models/MODEL_CARD.md")
            for m in re.findall(r"--model-version[ =]([^\s`]+)", (root / name).read_text())}  # fmt: skip
    used |= {e["version"] for e in json.loads((root / "models" / "manifest.json").read_text())["models"]}
    assert len(used) >= 5
    for version in [*sorted(used), "1.0.0", "2", "1.0.0-rc1", "2024-05 retrained", "1.0 (ü)"]:
        assert model_version(version) == version
