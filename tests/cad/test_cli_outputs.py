"""what `detect` / `classify` write, and odd inputs among their arguments."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from mammoview.cli import main
from tests.cad import test_cli

models_dir, study_dir = test_cli.models_dir, test_cli.study_dir  # the CLI tests' fixtures


@pytest.mark.parametrize("command", ["detect", "classify"])
def test_an_output_that_cannot_be_written_is_refused_before_any_work(command, models_dir, study_dir, tmp_path,
                                                                     capsys, monkeypatch):  # fmt: skip
    """--json under a path that cannot hold it (here a file where its folder should be; likewise a read-only or
    missing mount) was only found after the whole batch: every result of a long run lost, and the error named a
    temporary file the user never asked for ('.d.json.9ionkd5f.tmp')."""
    import mammoview.cad.patches as patches
    import mammoview.cad.pipeline as pipeline

    fail = lambda *a, **k: pytest.fail("analysed before the output was checked")  # noqa: E731
    monkeypatch.setattr(pipeline, "analyse_image", fail)
    monkeypatch.setattr(patches, "classify_patch", fail)
    blocker = tmp_path / "blocker"
    blocker.write_text("a file where the output's folder should be")
    code = main([command, str(study_dir / "lcc.dcm"), "--json", str(blocker / "d.json"), "--quiet"])
    err = capsys.readouterr().err
    assert code == 1 and str(blocker / "d.json") in err and ".tmp" not in err


def test_heatmaps_of_an_earlier_run_inside_the_scanned_folder_are_not_read_as_mammograms(models_dir, study_dir,
                                                                                        tmp_path):  # fmt: skip
    """`detect STUDY --heatmaps STUDY/heat` run twice: the second run analysed the first run's colour overlay PNGs
    as mammograms (a CAD 'image' entry with findings per overlay, more with every run)."""
    (study_dir / "broken.dcm").unlink()
    heat = study_dir / "heat"
    for run in (1, 2):
        out = tmp_path / f"d{run}.json"
        assert main(["detect", str(study_dir), "--json", str(out), "--heatmaps", str(heat), "--quiet"]) == 0
    names = sorted(Path(e["path"]).name for e in json.loads(out.read_text())["images"])
    assert names == ["lcc.dcm", "rcc.dcm"], names


@pytest.mark.parametrize("command", ["detect", "classify"])
def test_a_symlink_loop_among_the_arguments_is_one_error_and_the_others_run(command, models_dir, study_dir,
                                                                           tmp_path, capsys):  # fmt: skip
    """`detect a.dcm loop --json OUT` (a link to itself, e.g. among `detect /data/*`) ended the whole run with
    'error: Symlink loop from ...' and no JSON: Path.resolve raises RuntimeError on a loop (Python < 3.13)."""
    loop = tmp_path / "loop.dcm"
    os.symlink(loop.name, loop)
    out = tmp_path / "d.json"
    code = main([command, str(study_dir / "lcc.dcm"), str(loop), "--json", str(out), "--quiet"])
    assert out.exists(), capsys.readouterr().err
    entries = json.loads(out.read_text())["images" if command == "detect" else "patches"]
    by_name = {Path(e["path"]).name: e for e in entries}
    assert code == 1 and "error" in by_name["loop.dcm"] and "error" not in by_name["lcc.dcm"]


def test_a_subfolder_that_cannot_be_listed_is_reported_not_silently_skipped(tmp_path, monkeypatch):
    """os.walk drops a folder it cannot list (no permission, a stale network mount) without a word: its images
    were silently missing from `detect`'s JSON (and from a study opened in the viewer)."""
    from mammoview.io import scan_paths
    from tests.synthetic import mammo_dataset, synthetic_breast, write_dataset

    study = tmp_path / "study"
    write_dataset(mammo_dataset(synthetic_breast(300, 200, seed=1), "L", "CC"), study / "lcc.dcm")
    write_dataset(mammo_dataset(synthetic_breast(300, 200, seed=2), "R", "CC"), study / "locked" / "rcc.dcm")
    real = os.scandir

    def scandir(path="."):  # what `chmod 000 study/locked` gives a user who is not root
        if Path(path).name == "locked":
            raise PermissionError(13, "Permission denied", str(path))
        return real(path)

    monkeypatch.setattr(os, "scandir", scandir)
    scan = scan_paths([study])
    assert [p.name for p in (i.path for i in scan.images)] == ["lcc.dcm"]
    assert [e.path.name for e in scan.errors] == ["locked"], "the unreadable folder is not mentioned"


def test_heatmap_files_are_whole_or_absent(tmp_path, monkeypatch) -> None:
    """A full disk while ``--heatmaps`` writes an image's overlay leaves no half-written PNG or map under its name."""
    import errno

    import numpy as np

    from mammoview.cad.render import write_heatmap_files
    from mammoview.cad.types import Heatmap, heat_levels

    heat = Heatmap("abnormal", heat_levels(np.full((4, 3), 0.9, np.float32)), 0.0, 0.0, 16.0, 16.0)
    pres = np.random.default_rng(0).random((64, 48)).astype(np.float32)
    png, npy, grid = write_heatmap_files(tmp_path / "ok", "a", pres, heat)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and np.load(npy).shape == (4, 3) and grid.is_file()

    def full(fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(OSError, match="No space"):
        write_heatmap_files(tmp_path / "full", "a", pres, heat)
    assert sorted(p.name for p in (tmp_path / "full").iterdir()) == []
