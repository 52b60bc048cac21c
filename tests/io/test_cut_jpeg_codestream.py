"""A JPEG, JPEG-LS or JPEG lossless codestream cut short inside its fragment (the encapsulation itself whole: a writer
that stopped mid-frame) decoded without a word, pylibjpeg filling the missing rows with black or garbage: a mammogram
shown and analysed with its lower part gone.  Each frame's codestream must end with its end-of-image marker (FFD9)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from pydicom import dcmread
from pydicom.data import get_testdata_file
from pydicom.encaps import encapsulate, generate_frames

from mammoview.io import LoadError, read_image, read_info
from mammoview.io.reader import decode_frame
from tests.io.test_bad_input import assert_one_line


def _source(request: pytest.FixtureRequest, name: str) -> Path:
    if name.startswith(("JPEG-LL", "emri_")):  # pydicom-data's (test extra)
        return Path(request.getfixturevalue("pydicom_data")) / name
    return Path(str(get_testdata_file(name)))  # shipped with pydicom


def _cut(ds, frames: list[bytes], index: int) -> list[bytes]:  # type: ignore[no-untyped-def]
    keep = len(frames[index]) * 3 // 5 // 2 * 2  # (an even length, as a fragment's)
    return [f[:keep] if i == index else f for i, f in enumerate(frames)]


@pytest.mark.parametrize("name", ["MR_small_jpeg_ls_lossless.dcm", "SC_rgb_jpeg_dcmtk.dcm", "JPEG-LL.dcm"],
                         ids=["jpeg-ls", "jpeg-baseline", "jpeg-lossless"])  # fmt: skip
def test_a_cut_codestream_is_refused_not_shown_with_its_rows_missing(
    request: pytest.FixtureRequest, tmp_path: Path, name: str
) -> None:
    source = _source(request, name)
    assert read_image(source).stored.size  # the whole file reads
    ds = dcmread(source)
    frames = list(generate_frames(ds.PixelData, number_of_frames=1))
    ds.PixelData = encapsulate(_cut(ds, frames, 0))
    path = tmp_path / name
    ds.save_as(path)
    with pytest.raises(LoadError) as exc:
        read_info(path)
    assert_one_line(exc.value, path, "truncated")


def test_a_volume_whose_last_frame_is_cut_shows_the_frames_before_it(
    request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    source = _source(request, "emri_small_jpeg_ls_lossless.dcm")  # 10 frames of JPEG-LS
    whole = read_image(source)
    ds = dcmread(source)
    frames = list(generate_frames(ds.PixelData, number_of_frames=10))
    ds.PixelData = encapsulate(_cut(ds, frames, 9))
    path = tmp_path / "volume.dcm"
    ds.save_as(path)
    info = read_info(path)
    assert info.frames == 9 and any("truncated" in w for w in info.warnings), info.warnings
    image = read_image(path)
    np.testing.assert_array_equal(decode_frame(image, 8).stored, decode_frame(whole, 8).stored)
