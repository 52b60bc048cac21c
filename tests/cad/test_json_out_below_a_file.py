"""``--json OUT`` whose folder is a file (``--json scan.dcm/out.json``, a typo for ``scan_dcm/``, or a dead link
in the folder's place) was refused with mkdir's own words, 'cannot be written there: File exists', which names no
file that exists; it now says which part of the path is a file, as --sr and --heatmaps do."""

from __future__ import annotations

from pathlib import Path

import pytest

from mammoview.cli.output import check_json_out


@pytest.mark.parametrize("depth", [1, 2])
def test_a_file_in_the_place_of_the_outputs_folder_is_named(tmp_path: Path, depth: int) -> None:
    blocker = tmp_path / "lcc.dcm"
    blocker.write_bytes(b"DICM")
    out = blocker.joinpath(*["sub"] * (depth - 1), "out.json")
    with pytest.raises(ValueError) as err:
        check_json_out(out)
    assert str(err.value) == f"--json {out}: {blocker} is a file, not a folder: give a file in a folder"
    assert blocker.read_bytes() == b"DICM"


def test_a_dead_link_in_the_place_of_the_outputs_folder_is_named(tmp_path: Path) -> None:
    link = tmp_path / "results"
    link.symlink_to(tmp_path / "unmounted")
    with pytest.raises(ValueError, match=f"{link} is a link to {tmp_path / 'unmounted'}, which is missing"):
        check_json_out(link / "out.json")
