"""A JPEG (or PNG, TIFF) whose EXIF Orientation (0x0112) asks for a turn -- a camera's or a phone's picture of a
film, an export that stores the sensor's rows -- opened as its rows lie in the file: every other viewer shows it
turned, mammoview on its side (and the CAD read a breast lying on its side). It is now read turned as the file asks
(its size too, at the header), with a warning that says so."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from mammoview.io import read_image, read_info

#: EXIF Orientation -> where the stored top-left corner is shown (row half, column half): 6 turns the picture a
#: quarter clockwise, 8 a quarter anticlockwise, 3 half round (EXIF 2.3, Orientation)
CORNER = {1: (0, 0), 3: (1, 1), 6: (0, 1), 8: (1, 0)}


def _picture(path: Path, orientation: int) -> None:
    arr = np.full((120, 80), 30, np.uint8)
    arr[:60, :40] = 220  # the stored top-left quarter bright
    exif = Image.Exif()
    exif[0x0112] = orientation
    Image.fromarray(arr).save(path, exif=exif)


def _bright_quarter(stored: np.ndarray) -> tuple[int, int]:
    h, w = stored.shape[0] // 2, stored.shape[1] // 2
    means = {(r, c): stored[r * h : (r + 1) * h, c * w : (c + 1) * w].mean() for r in (0, 1) for c in (0, 1)}
    return max(means, key=lambda k: means[k])


@pytest.mark.parametrize("suffix", [".jpg", ".png"])
@pytest.mark.parametrize("orientation", [1, 3, 6, 8])
def test_the_picture_is_read_turned_as_its_exif_orientation_asks(tmp_path: Path, suffix: str,
                                                                 orientation: int) -> None:  # fmt: skip
    path = tmp_path / f"photo{suffix}"
    _picture(path, orientation)
    info = read_info(path)
    image = read_image(path)
    turned = orientation in (6, 8)
    assert (info.rows, info.columns) == ((80, 120) if turned else (120, 80))
    assert image.stored.shape == (info.rows, info.columns)
    assert _bright_quarter(np.asarray(image.stored)) == CORNER[orientation]
    said = [w for w in info.warnings if "EXIF Orientation" in w]
    assert said == ([] if orientation == 1 else [said[0]]) and (
        orientation == 1 or f"Orientation {orientation}" in said[0]
    )


@pytest.mark.parametrize("orientation", range(1, 9))
def test_every_orientation_turns_as_pillows_exif_transpose(tmp_path: Path, orientation: int) -> None:
    from PIL import ImageOps

    path = tmp_path / "photo.png"
    arr = np.arange(12 * 7, dtype=np.uint8).reshape(12, 7)  # every pixel its own value: any wrong turn shows
    exif = Image.Exif()
    exif[0x0112] = orientation
    Image.fromarray(arr).save(path, exif=exif)
    with Image.open(path) as im:
        want = np.asarray(ImageOps.exif_transpose(im))
    assert np.array_equal(read_image(path).stored, want)
