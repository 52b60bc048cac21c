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


def test_a_dead_link_named_by_itself_is_said_as_in_its_folder(write_dcm: MakeFile, tmp_path: Path) -> None:
    """Named by itself (`mammoview info LINK`, File ▸ Open files) a link that leads nowhere was 'no such file', though
    it is there to see: it is said as in its folder, the link to a missing file or a link loop."""
    write_dcm("study/a.dcm")
    gone, loop = tmp_path / "study" / "gone.dcm", tmp_path / "study" / "loop.dcm"
    gone.symlink_to(tmp_path / "archive" / "gone.dcm")
    loop.symlink_to(loop)
    in_folder = {e.path.name: e.reason for e in scan_paths(tmp_path / "study").errors}
    alone = {e.path.name: e.reason for e in scan_paths([gone, loop]).errors}
    assert alone == in_folder
    assert "archive/gone.dcm, which is missing" in alone["gone.dcm"] and "symbolic link loop" in alone["loop.dcm"]
