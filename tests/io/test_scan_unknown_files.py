"""A folder holding files of no image format under names that are no image's (a device's `.dat` logs, `.bak`
copies): `mammoview detect` over a folder of 10,000 such files beside one mammogram gave 10,000 errors, 10,000 lines
on stderr and exit status 1. They are skipped as notes are; a file named like an image (a DICOM or raster suffix,
none, or a UID's number) whose bytes are no image is still a damaged image, reported."""

from __future__ import annotations

from pathlib import Path

import pytest

from mammoview.io import LoadError, read_info, scan_paths
from tests.io.conftest import MakeFile


def test_files_of_no_format_named_like_no_image_are_skipped_in_a_folder(write_dcm: MakeFile, tmp_path: Path) -> None:
    image = write_dcm("RCC.dcm")
    for k in range(3):
        (tmp_path / f"note{k}.dat").write_bytes(b"device log " * 20)
    (tmp_path / "backup.bak").write_bytes(b"\x00" * 300)
    result = scan_paths(tmp_path)
    assert [i.path for i in result.images] == [image] and result.errors == ()
    with pytest.raises(LoadError, match="not an image"):  # named by itself, it is said
        read_info(tmp_path / "note0.dat")


@pytest.mark.parametrize("name", ["broken.dcm", "scan.png", "NOSUFFIX", "1.2.840.113619.2.55.3.604", "view.TIF"])
def test_a_file_named_like_an_image_whose_bytes_are_none_is_reported_in_a_folder(
    write_dcm: MakeFile, tmp_path: Path, name: str
) -> None:
    write_dcm("RCC.dcm")
    (tmp_path / name).write_bytes(b"this is no image at all " * 20)
    result = scan_paths(tmp_path)
    assert len(result.images) == 1
    (error,) = result.errors
    assert error.path == tmp_path / name and "not an image" in str(error)
