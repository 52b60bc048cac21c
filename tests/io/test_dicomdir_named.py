"""A DICOMDIR (the index a CD, DVD or USB export carries) named by itself -- `mammoview view /media/cd/DICOMDIR`,
or picked in the open dialog -- was said to have 'no Pixel Data (7FE0,0010): not an image, or the file is
truncated', as if damaged. It is said for what it is, with the folder to open instead."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from pydicom.data import get_testdata_file

from mammoview.io import NotAnImage, read_info


def test_a_dicomdir_is_said_to_be_an_index_not_a_damaged_image(tmp_path: Path) -> None:
    source = get_testdata_file("DICOMDIR")
    assert source is not None
    path = tmp_path / "cd" / "DICOMDIR"
    path.parent.mkdir()
    shutil.copy(source, path)
    with pytest.raises(NotAnImage) as err:
        read_info(path)
    reason = err.value.reason
    assert "DICOMDIR" in reason and str(path.parent) in reason and "truncated" not in reason
