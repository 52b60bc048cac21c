"""Pixel Data one row longer than Rows x Columns: zeros are padding (accepted), a row of data is a wrong Rows."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.data import get_testdata_file

from mammoview.io import LoadError, read_image, read_info


def _mr_small_with(tmp_path: Path, extra: bytes) -> Path:
    """pydicom's MR_small.dcm (64 x 64, 16 bits, native) with ``extra`` bytes after its pixels."""
    ds = pydicom.dcmread(get_testdata_file("MR_small.dcm"))
    ds.PixelData = ds.PixelData + extra
    path = tmp_path / "mr_small.dcm"
    ds.save_as(path)
    return path


def test_a_whole_extra_row_of_data_is_refused_naming_rows(tmp_path: Path) -> None:
    """One row (64 x 2 bytes) of non-zero data after the image is no padding (PS3.5 8.1.1 pads an odd length with
    one NULL byte): the header's Rows is wrong.  It was read silently with that row dropped, while two such rows
    were refused."""
    ds = pydicom.dcmread(get_testdata_file("MR_small.dcm"))
    last_row = ds.PixelData[-64 * 2 :]
    path = _mr_small_with(tmp_path, last_row)
    with pytest.raises(LoadError) as exc:
        read_info(path)
    assert "(0028,0010) Rows 64" in exc.value.reason and "1 row(s) more" in exc.value.reason, exc.value.reason


def test_two_extra_rows_of_data_name_rows_too(tmp_path: Path) -> None:
    ds = pydicom.dcmread(get_testdata_file("MR_small.dcm"))
    path = _mr_small_with(tmp_path, ds.PixelData[-2 * 64 * 2 :])
    with pytest.raises(LoadError) as exc:
        read_info(path)
    assert "2 row(s) more" in exc.value.reason and "(0028,0010) Rows 64" in exc.value.reason, exc.value.reason


def test_one_row_of_zeros_stays_padding(tmp_path: Path) -> None:
    path = _mr_small_with(tmp_path, bytes(64 * 2))
    info = read_info(path)
    assert any("128 bytes of zero padding" in w for w in info.warnings), info.warnings
    expected = pydicom.dcmread(get_testdata_file("MR_small.dcm")).pixel_array
    np.testing.assert_array_equal(read_image(path).stored, expected)


@pytest.mark.parametrize(
    ("extra", "words"), [(b"\x07" * 10, "10 bytes after"), (bytes(6), "6 bytes of zero padding")], ids=["data", "zeros"]
)
def test_bytes_short_of_a_row_are_named_and_the_image_shown(tmp_path: Path, extra: bytes, words: str) -> None:
    """Trailing bytes fewer than a row (vendors write some) were read without a word, where a row of zeros or more is
    named as padding: said the same way, with their count, and the image shown as the header describes it."""
    info = read_info(_mr_small_with(tmp_path, extra))
    assert any(f"Pixel Data has {words}" in w and "the 8192 the header describes" in w for w in info.warnings), (
        info.warnings
    )
    expected = pydicom.dcmread(get_testdata_file("MR_small.dcm")).pixel_array
    np.testing.assert_array_equal(read_image(info.path).stored, expected)


def test_the_one_pad_byte_of_an_odd_length_is_no_extra_byte(tmp_path: Path) -> None:
    """PS3.5 8.1.1 pads an odd length to even with one byte: the file is as it should be, nothing is said."""
    ds = pydicom.dcmread(get_testdata_file("MR_small.dcm"))
    ds.Rows, ds.Columns = 63, 63  # 63 x 63 x 1 byte: 3969 bytes, odd (written as 3970)
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 8, 8, 7, 0
    ds.PixelData = (bytes(range(1, 256)) * 16)[:3969]
    path = tmp_path / "odd.dcm"
    ds.save_as(path)
    assert len(pydicom.dcmread(path).PixelData) == 3970
    info = read_info(path)
    assert not any("Pixel Data has" in w for w in info.warnings), info.warnings
    assert read_image(path).stored.shape == (63, 63)
