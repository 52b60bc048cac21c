"""`detect STUDY --heatmaps STUDY` (heatmaps written beside the images, e.g. `detect . --heatmaps .` in a
study's folder) analysed nothing: every mammogram of the scanned folder lies under the --heatmaps folder, and
_not_our_outputs drops every file under it that was not named on the command line."""

from __future__ import annotations

import json
from pathlib import Path

from mammoview.cli import main
from tests.cad import test_cli

models_dir, study_dir = test_cli.models_dir, test_cli.study_dir


def test_heatmaps_written_into_the_scanned_folder_itself_leave_its_mammograms_analysed(models_dir, study_dir,
                                                                                       tmp_path):  # fmt: skip
    (study_dir / "broken.dcm").unlink()
    out = tmp_path / "d.json"
    main(["detect", str(study_dir), "--json", str(out), "--heatmaps", str(study_dir), "--quiet"])
    names = sorted(Path(e["path"]).name for e in json.loads(out.read_text())["images"])
    assert names == ["lcc.dcm", "rcc.dcm"], names


def test_heatmaps_in_a_parent_of_the_scanned_folder_leave_its_mammograms_analysed(models_dir, study_dir,
                                                                                  tmp_path):  # fmt: skip
    (study_dir / "broken.dcm").unlink()
    out = tmp_path / "d.json"
    main(["detect", str(study_dir), "--json", str(out), "--heatmaps", str(study_dir.parent), "--quiet"])
    names = sorted(Path(e["path"]).name for e in json.loads(out.read_text())["images"])
    assert names == ["lcc.dcm", "rcc.dcm"], names
