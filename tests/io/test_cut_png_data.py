"""A PNG whose image data (the zlib stream of its IDAT chunks) hold fewer rows than its header gives: a stream that
ends early but properly (a writer that stopped mid-image, then closed its stream) was decoded by Pillow without a
word, the missing rows black: a mammogram shown and analysed with its lower part gone.  The data must hold the
rows the header (IHDR) gives, no fewer (truncated) and no more (a wrong height: shown cropped)."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from mammoview.io import LoadError, read_image, read_info
from mammoview.io.raster import png_data_problem
from tests.io.conftest import MakeFile
from tests.io.test_bad_input import assert_one_line
from tests.synthetic import synthetic_breast

#: Adam7's passes: (first column, first row, column step, row step)
ADAM7 = ((0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2))


def chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png_chunks(path: Path) -> list[tuple[bytes, bytes]]:
    data, pos, out = path.read_bytes(), 8, []
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        out.append((data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]))
        pos += 12 + length
    return out


def write_png(path: Path, ihdr: bytes, raw: bytes, idat_size: int = 1 << 20) -> Path:
    """A PNG of ``ihdr`` whose image data are ``raw`` (filtered scanlines), compressed whole (a proper stream)."""
    stream = zlib.compress(raw)
    idats = [chunk(b"IDAT", stream[i : i + idat_size]) for i in range(0, len(stream), idat_size)]
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + b"".join(idats) + chunk(b"IEND", b""))
    return path


def scanlines(px: np.ndarray) -> bytes:
    """Filter type 0 (None) before each row, samples big-endian (PNG)."""
    rows = px.astype(">u2" if px.dtype.itemsize == 2 else np.uint8).reshape(px.shape[0], -1)
    return b"".join(b"\0" + row.tobytes() for row in rows)


def interlaced(px: np.ndarray) -> bytes:
    return b"".join(scanlines(px[y0::dy, x0::dx]) for x0, y0, dx, dy in ADAM7 if px[y0::dy, x0::dx].size)


def ihdr(px: np.ndarray, interlace: int = 0) -> bytes:
    depth = 16 if px.dtype.itemsize == 2 else 8
    return struct.pack(">IIBBBBB", px.shape[1], px.shape[0], depth, 0, 0, 0, interlace)


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16], ids=["8-bit", "16-bit"])
@pytest.mark.parametrize("kept_rows", [100, 1, 199])
def test_image_data_that_end_early_are_refused_as_truncated(
    write_raster: MakeFile, tmp_path: Path, dtype: type, kept_rows: int
) -> None:
    px = synthetic_breast(200, 150, max_value=255 if dtype == np.uint8 else 4095, dtype=dtype)
    whole = write_raster("whole.png", px)
    (header,) = (body for kind, body in png_chunks(whole) if kind == b"IHDR")
    path = write_png(tmp_path / "cut.png", header, scanlines(px[:kept_rows]))
    assert read_info(path).rows == 200  # the header is whole: said when the pixels are read
    with pytest.raises(LoadError) as exc:
        read_image(path)
    assert_one_line(exc.value, path, "truncated", f"after {kept_rows} of its 200 rows")


def test_image_data_with_rows_more_than_the_header_gives_are_named_by_the_count(tmp_path: Path) -> None:
    """A height too small in IHDR: Pillow decodes the rows it gives and leaves the rest out (a breast cut off).  The
    count says so; the reader runs it only where the last row decodes black (a known gap: counting every PNG cost
    40-65 % of its decode)."""
    px = synthetic_breast(200, 150, max_value=255, dtype=np.uint8)
    path = write_png(tmp_path / "tall.png", ihdr(px[:120]), scanlines(px))
    problem = png_data_problem(path)
    assert problem is not None and "(200 rows)" in problem and "height or width is wrong" in problem
    px[119] = 0  # its last row shown black: counted, and refused
    path = write_png(tmp_path / "tall-black.png", ihdr(px[:120]), scanlines(px))
    with pytest.raises(LoadError) as exc:
        read_image(path)
    assert_one_line(
        exc.value, path, "(200 rows)", "150 x 120 image its header (IHDR) gives", "height or width is wrong"
    )


def test_a_file_cut_inside_its_image_data_says_truncated(write_raster: MakeFile) -> None:
    path = write_raster("cut.png", synthetic_breast(200, 150, max_value=255, dtype=np.uint8))
    data = path.read_bytes()
    path.write_bytes(data[: len(data) * 3 // 5])
    with pytest.raises(LoadError) as exc:
        read_image(path)
    assert_one_line(exc.value, path, "truncated")
    assert exc.value.reason.startswith("truncated"), exc.value.reason


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16], ids=["8-bit", "16-bit"])
def test_interlaced_png_reads_whole_and_is_refused_cut(tmp_path: Path, dtype: type) -> None:
    """Adam7 (interlaced) data are seven reduced images, each row with its filter byte: a different size to check."""
    px = synthetic_breast(203, 151, max_value=255 if dtype == np.uint8 else 4095, dtype=dtype)
    path = write_png(tmp_path / "adam7.png", ihdr(px, interlace=1), interlaced(px), idat_size=3000)
    np.testing.assert_array_equal(read_image(path).stored, px)
    raw = interlaced(px)
    cut = write_png(tmp_path / "adam7-cut.png", ihdr(px, interlace=1), raw[: len(raw) - 151 * px.itemsize - 1])
    with pytest.raises(LoadError) as exc:
        read_image(cut)
    assert_one_line(exc.value, cut, "truncated")


def test_whole_png_of_every_colour_type_and_depth_reads(tmp_path: Path) -> None:
    """The image-data size follows the colour type and bit depth: grey, grey + alpha, RGB, RGBA, palette, 1-bit."""
    grey = synthetic_breast(37, 29, max_value=255, dtype=np.uint8)
    images = {
        "L": Image.fromarray(grey),
        "LA": Image.fromarray(np.dstack([grey, grey])),
        "RGB": Image.fromarray(np.dstack([grey] * 3)),
        "RGBA": Image.fromarray(np.dstack([grey] * 4)),
        "P": Image.fromarray(grey).convert("P"),
        "1": Image.fromarray(grey).convert("1"),
        "I;16": Image.fromarray(synthetic_breast(37, 29)),
    }
    for mode, im in images.items():
        path = tmp_path / f"{mode.replace(';', '')}.png"
        im.save(path)
        assert read_image(path).stored.shape == (37, 29), mode


def test_a_cut_jpeg_says_truncated_first(write_raster: MakeFile) -> None:
    """Pillow refuses it ('image file is truncated'): said as a truncated PNG or BMP is, not as 'cannot decode'."""
    path = write_raster("cut.jpg", synthetic_breast(200, 150, max_value=255, dtype=np.uint8))
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(LoadError) as exc:
        read_image(path)
    assert_one_line(exc.value, path)
    assert exc.value.reason.startswith("truncated JPEG"), exc.value.reason


@pytest.mark.parametrize("orientation", [3, 4, 6, 8])
def test_a_cut_png_turned_by_its_exif_orientation_is_still_refused(tmp_path: Path, orientation: int) -> None:
    """The rows a cut stream left out are the last *stored* rows: the check for them must look there, not at the
    last row of the picture as turned for its EXIF Orientation (turned, that is another edge of the image)."""
    px = synthetic_breast(200, 150, max_value=255, dtype=np.uint8)
    px[:, :] = np.maximum(px, 1)  # no black edge of its own: only the cut leaves black rows
    exif = Image.Exif()
    exif[0x0112] = orientation
    body = exif.tobytes()
    path = tmp_path / "cut-turned.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr(px)) + chunk(b"eXIf", body)
                     + chunk(b"IDAT", zlib.compress(scanlines(px[:120]))) + chunk(b"IEND", b""))  # fmt: skip
    assert any("EXIF Orientation" in w for w in read_info(path).warnings)
    with pytest.raises(LoadError) as exc:
        read_image(path)
    assert_one_line(exc.value, path, "truncated", "after 120 of its 200 rows")
