"""A link that leads nowhere is said once, however often the scan meets it (a folder and its sub-folder both named,
the same folder twice, or the link also named by itself), as an image met twice is read once."""

from __future__ import annotations

from pathlib import Path

from mammoview.io import scan_paths
from tests.io.conftest import MakeFile


def test_a_dead_link_met_twice_is_one_error(write_dcm: MakeFile, tmp_path: Path) -> None:
    a = write_dcm("study/sub/a.dcm")
    gone = a.parent / "gone.dcm"
    gone.symlink_to(tmp_path / "archive" / "gone.dcm")
    study = a.parent.parent
    for paths in ([study, a.parent], [study, study], [study, gone], [gone, study]):
        result = scan_paths(paths)
        assert [i.path for i in result.images] == [a], paths
        assert [e.path.name for e in result.errors] == ["gone.dcm"], (paths, result.errors)
