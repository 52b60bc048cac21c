"""Bad input found by fuzzing: each is a LoadError naming the file or a warning saying what is missing, never a
silently wrong image; a volume cut off after some frames shows the frames it has."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from pydicom.encaps import encapsulate
from pydicom.uid import RLELossless

from mammoview.io import LoadError, read_image, read_info
from tests.io.conftest import MakeFile
from tests.io.test_bad_input import assert_one_line
from tests.synthetic import mammo_dataset, synthetic_breast, write_dataset


@pytest.mark.parametrize("keep", [30, 0.3, 0.9], ids=["cut-in-its-header", "a-third", "nine-tenths"])
def test_a_truncated_bmp_is_refused_not_filled_with_black(write_raster: MakeFile, keep: float) -> None:
    """Pillow refuses a truncated BMP; the SimpleITK fallback then read it with the missing rows zero (a breast
    half black, or a whole black 'image' from a file cut in its header), with no word of it."""
    path = write_raster("cut.bmp", synthetic_breast(200, 150, max_value=255, dtype=np.uint8))
    data = path.read_bytes()
    path.write_bytes(data[: keep if isinstance(keep, int) else int(len(data) * keep)])
    with pytest.raises(LoadError) as exc:
        read_image(path)
    assert_one_line(exc.value, path, "truncated")


def test_a_bmp_of_zero_rows_is_refused_at_its_header(write_raster: MakeFile) -> None:
    """A BMP cut inside its info header was listed by `mammoview info` as '0 rows x 150 columns'."""
    path = write_raster("cut.bmp", synthetic_breast(200, 150, max_value=255, dtype=np.uint8))
    path.write_bytes(path.read_bytes()[:20])
    with pytest.raises(LoadError) as exc:
        read_info(path)
    assert_one_line(exc.value, path)


def test_encapsulated_pixel_data_with_fewer_frames_than_number_of_frames_shows_the_frames_it_has(
    tmp_path: Path,
) -> None:
    """The volume opened as 'frame 1 of 1000' and every slice step put up a dialog with pydicom's 'There aren't
    enough offsets in the Basic Offset Table for 2 frames': its two frames are shown, the rest said missing."""
    from mammoview.io.reader import decode_frame

    frames = [synthetic_breast(64, 48, seed=k) for k in range(2)]
    ds = mammo_dataset(frames[0])
    ds.NumberOfFrames = 2
    ds.compress(RLELossless, np.stack(frames), encoding_plugin="pydicom")
    ds.NumberOfFrames = 1000  # the file holds 2
    path = write_dataset(ds, tmp_path / "volume.dcm")
    info = read_info(path)
    assert info.frames == 2 and any("2 fragment(s)" in w and "NumberOfFrames is 1000" in w for w in info.warnings)
    image = read_image(path)
    np.testing.assert_array_equal(image.stored, frames[0])
    np.testing.assert_array_equal(decode_frame(image, 1).stored, frames[1])


@pytest.mark.parametrize("kept", [1, 3])
def test_a_native_volume_cut_off_shows_its_complete_frames(tmp_path: Path, kept: int) -> None:
    """An interrupted copy of a tomosynthesis volume was refused whole ('truncated'): its complete slices are shown,
    and the file is said to be cut off."""
    from mammoview.io.reader import decode_frame
    from tests.gui.test_frames import FRAMES, slice_pixels, write_tomo

    path = write_tomo(tmp_path / "LCC_tomo.dcm")
    frame_bytes = slice_pixels(0).nbytes
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - (FRAMES - kept) * frame_bytes + frame_bytes // 2])  # half a frame more
    info = read_info(path)
    assert info.frames == kept
    assert any(f"holds {kept} of its {FRAMES} frames" in w for w in info.warnings)
    image = read_image(path)
    for k in range(kept):
        np.testing.assert_array_equal(decode_frame(image, k).stored if k else image.stored, slice_pixels(k))
    path.write_bytes(data[: len(data) - FRAMES * frame_bytes + 10])  # not one whole frame: refused
    with pytest.raises(LoadError, match="truncated"):
        read_info(path)


def test_a_frame_split_over_several_fragments_still_reads(tmp_path: Path) -> None:
    """The frame count is checked against the fragments, of which a frame may have several (JPEG 2000)."""
    from pydicom.encaps import generate_frames
    from pydicom.uid import JPEG2000Lossless

    px = synthetic_breast(64, 48)
    ds = mammo_dataset(px)
    ds.compress(JPEG2000Lossless, px)
    (frame,) = generate_frames(ds.PixelData, number_of_frames=1)
    ds.PixelData = encapsulate([frame], fragments_per_frame=3)
    ds.NumberOfFrames = 1
    path = write_dataset(ds, tmp_path / "fragments.dcm")
    assert read_info(path).frames == 1
    np.testing.assert_array_equal(read_image(path).stored, px)


def _with_raw_value(write_dcm: MakeFile, keyword: str, raw: bytes) -> Path:
    """A DICOM file whose ``keyword`` (an IS) holds ``raw`` as written, past pydicom's own checks."""
    from pydicom.datadict import tag_for_keyword

    placeholder = b"9" * len(raw)
    path = write_dcm(f"{keyword}.dcm", edit=lambda ds: setattr(ds, keyword, placeholder.decode()))
    data = path.read_bytes()
    # The value right after its own tag (and VR and length), not any run of nines: the pixel data is random and held
    # b"9999" once in a CI run.
    tag = tag_for_keyword(keyword)
    element = re.escape((tag >> 16).to_bytes(2, "little") + (tag & 0xFFFF).to_bytes(2, "little"))
    matches = list(
        re.finditer(element + rb"(?:IS[\x00-\xff]{2}|[\x00-\xff]{4})(" + re.escape(placeholder) + b")", data)
    )
    assert len(matches) == 1
    start, end = matches[0].span(1)
    path.write_bytes(data[:start] + raw + data[end:])
    return path


def test_an_instance_number_of_inf_does_not_lose_the_image(write_dcm: MakeFile) -> None:
    """pydicom converts IS 'inf' with int(float(...)): OverflowError, which refused the whole image ('OverflowError:
    cannot convert float infinity to integer'); InstanceNumber only orders duplicates ('NaN' was already ignored)."""
    path = _with_raw_value(write_dcm, "InstanceNumber", b"inf ")
    info = read_info(path)
    assert info.meta.instance_number is None


def test_a_number_of_frames_of_inf_is_named(write_dcm: MakeFile) -> None:
    path = _with_raw_value(write_dcm, "NumberOfFrames", b"inf ")
    with pytest.raises(LoadError) as exc:
        read_info(path)
    assert_one_line(exc.value, path, "(0028,0008) NumberOfFrames", "is not an integer")


@pytest.mark.parametrize("compressed", [False, True], ids=["native", "rle"])
def test_a_negative_number_of_frames_is_named_at_the_header(tmp_path: Path, compressed: bool) -> None:
    """A compressed file with NumberOfFrames -1 was read as an image of -1 frames (`mammoview info` listed it so), and
    decoding it then said 'no frame 1: the image has -1'; a native one was already refused at its header."""
    ds = mammo_dataset(synthetic_breast(64, 48, seed=1))
    if compressed:
        ds.compress(RLELossless, encoding_plugin="pydicom")
    ds.NumberOfFrames = -1
    path = write_dataset(ds, tmp_path / "frames.dcm")
    with pytest.raises(LoadError) as exc:
        read_info(path)
    assert_one_line(exc.value, path, "(0028,0008) NumberOfFrames -1 is not a count of frames")


@pytest.mark.parametrize(
    ("keyword", "value"),
    [("Rows", 70), ("Rows", 40), ("Rows", 90), ("Columns", 50), ("Columns", 70)],
    ids=["rows-short", "rows-half", "rows-over", "columns-short", "columns-over"],
)
def test_rle_whose_rows_or_columns_do_not_match_its_segments_is_refused(
    tmp_path: Path, keyword: str, value: int
) -> None:
    """Each RLE segment decodes to Rows x Columns bytes (PS3.5 G.3.1): with a header that says fewer pylibjpeg-rle,
    the decoder used, panicked ('cannot decode pixel data (PanicException: index out of bounds ...)'); with one
    that says more every plugin failed ('all available plugins').  Measured then (only then: +33 % decode time on
    every good file before), it is said as native data's mismatch is.  (pydicom's own RLE plugin, used only where
    pylibjpeg-rle, a dependency, is missing, decodes a header that says fewer cropped or sheared.)"""
    px = synthetic_breast(80, 60)
    ds = mammo_dataset(px)
    ds.compress(RLELossless, px, encoding_plugin="pydicom")
    setattr(ds, keyword, value)
    path = write_dataset(ds, tmp_path / "rle.dcm")
    with pytest.raises(LoadError) as exc:
        read_image(path)
    rows, cols = (value, 60) if keyword == "Rows" else (80, value)
    assert_one_line(exc.value, path, f"{rows} x {cols}", "4800", "Rows/Columns do not match the pixel data")


def test_rle_of_an_odd_pixel_count_still_reads(tmp_path: Path) -> None:
    """A segment of an odd Rows x Columns ends with a pad byte (PS3.5 G.3.1): no mismatch."""
    px = synthetic_breast(81, 61)
    ds = mammo_dataset(px)
    ds.compress(RLELossless, px, encoding_plugin="pydicom")
    path = write_dataset(ds, tmp_path / "odd.dcm")
    np.testing.assert_array_equal(read_image(path).stored, px)


@pytest.mark.parametrize("number_of_frames", [None, 1, 2], ids=["absent", "one", "two"])
def test_native_pixel_data_of_more_frames_than_number_of_frames_says_so(
    tmp_path: Path, number_of_frames: int | None
) -> None:
    """Five frames of pixel data under a NumberOfFrames of 1 (or none) were refused with 'Rows, Columns, Bits
    Allocated or Number of Frames is wrong', four guesses for the reader: the data hold five whole frames."""
    frames = [synthetic_breast(64, 48, seed=k) for k in range(5)]
    ds = mammo_dataset(frames[0])
    ds.PixelData = np.stack(frames).tobytes()
    if number_of_frames is not None:
        ds.NumberOfFrames = number_of_frames
    path = write_dataset(ds, tmp_path / "volume.dcm")
    with pytest.raises(LoadError) as exc:
        read_info(path)
    given = "absent (1 frame)" if number_of_frames is None else f"{number_of_frames}"
    assert_one_line(exc.value, path, "Pixel Data holds 5 frames' worth", f"(0028,0008) NumberOfFrames is {given}")
