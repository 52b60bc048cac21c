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
