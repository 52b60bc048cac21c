"""`mammoview train-density --out RUNDIR`: its files are written whole or not at all, and a folder holding another
command's output (an evaluation, a `train` run) is refused before any work, its files untouched."""

from __future__ import annotations

import errno
import json
from pathlib import Path

import numpy as np
import pytest
import torch

from mammoview.training import density
from mammoview.training.density import DensityConfig, DensityData, train_density

CFG = DensityConfig(pixel_size_mm=8.0, epochs=1, batch_size=4, threads=1)


def _data() -> DensityData:
    n = 12
    return DensityData(x=np.zeros((n, 32, 24), np.float32), label=np.arange(n) % 4, tissue=np.full(n, -1),
                       patient=np.array([f"p{i}" for i in range(n)]), laterality=np.array(["L"] * n),
                       split=np.array(["train"] * 8 + ["val"] * 4))  # fmt: skip


def test_a_write_cut_short_leaves_the_earlier_runs_weights_whole(tmp_path, monkeypatch):
    """best_state.pt was saved straight into place: a full disk mid-write left a torn file in place of the earlier
    run's weights (and report.md was written the same way)."""
    run = tmp_path / "run"
    train_density(CFG, _data(), run, progress=False)
    before = (run / "best_state.pt").read_bytes()
    real_save = torch.save

    def disk_full(obj, f, *a, **k):  # half the bytes reach the file, then the disk is full
        import io

        buffer = io.BytesIO()
        real_save(obj, buffer, *a, **k)
        data = buffer.getvalue()
        if isinstance(f, (str, Path)):
            with open(f, "wb") as fh:
                fh.write(data[: len(data) // 2])
        else:
            f.write(data[: len(data) // 2])
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(density.torch, "save", disk_full)
    with pytest.raises(OSError, match="No space"):
        train_density(CFG, _data(), run, progress=False)
    assert (run / "best_state.pt").read_bytes() == before
    assert "kappa" in (run / "report.md").read_text()
    assert not [p.name for p in run.iterdir() if p.name.endswith(".tmp")]


def test_the_report_is_replaced_whole_not_rewritten_in_place(tmp_path):
    """report.md was rewritten in place (truncated, then written: a kill between leaves it empty); it is written
    aside and renamed, so a reader holding the earlier file keeps it whole."""
    run = tmp_path / "run"
    train_density(CFG, _data(), run, progress=False)
    held = {name: (run / name).stat().st_ino for name in ("report.md", "best_state.pt")}
    train_density(CFG, _data(), run, progress=False)
    assert all((run / name).stat().st_ino != ino for name, ino in held.items())


@pytest.mark.parametrize(
    "doc",
    [{"mammoview_evaluate": 1, "model": {"name": "m"}}, {"anything": "else"}],
    ids=["evaluation", "unknown"],
)
def test_a_folder_with_another_commands_metrics_is_refused_before_any_work(tmp_path, capsys, monkeypatch, doc):
    """`train-density --out` onto an evaluation's folder silently replaced its metrics.json."""
    from mammoview.cli import main

    out = tmp_path / "ev"
    out.mkdir()
    (out / "metrics.json").write_text(json.dumps(doc))
    monkeypatch.setattr(density, "load_data", lambda *a, **k: pytest.fail("read every image before refusing"))
    code = main(["train-density", "--split", str(tmp_path / "split.json"), "--out", str(out), "--quiet"])
    err = capsys.readouterr().err
    assert code != 0 and f"{out}" in err and "another command's metrics.json" in err and "--out" in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert json.loads((out / "metrics.json").read_text()) == doc
    with pytest.raises(FileExistsError, match="another command's"):
        train_density(CFG, _data(), out, progress=False)
    assert json.loads((out / "metrics.json").read_text()) == doc


def test_a_train_run_folder_is_refused_and_an_unreadable_metrics_is_named(tmp_path):
    run = tmp_path / "train-run"
    (run / "checkpoints").mkdir(parents=True)
    (run / "summary.json").write_text("{}")
    with pytest.raises(FileExistsError, match="mammoview train"):
        train_density(CFG, _data(), run, progress=False)
    assert sorted(p.name for p in run.iterdir()) == ["checkpoints", "summary.json"]
    cut = tmp_path / "cut"
    cut.mkdir()
    (cut / "metrics.json").write_text('{"val_ima')
    with pytest.raises(ValueError, match=r"metrics\.json.*choose another --out"):
        train_density(CFG, _data(), cut, progress=False)
    assert (cut / "metrics.json").read_text() == '{"val_ima'


def test_a_density_run_again_replaces_its_own_and_an_earlier_versions(tmp_path):
    """Its own folder stays usable: a run marked as train-density's, and one from before the mark."""
    run = tmp_path / "run"
    m = train_density(CFG, _data(), run, progress=False)
    assert json.loads((run / "metrics.json").read_text())[density.METRICS_KEY] == 1
    del m[density.METRICS_KEY]
    (run / "metrics.json").write_text(json.dumps(m))  # as written before the mark
    train_density(CFG, _data(), run, progress=False)
    assert density.METRICS_KEY in json.loads((run / "metrics.json").read_text())
