"""A JPEG 2000 mammogram's preview (its reduced-resolution levels, enlarged): the full decode's grid, type and
hanging, close to its pixels; only images it can stand in for; a clear error where it cannot be made."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.encaps import encapsulate, get_frame
from pydicom.uid import JPEG2000Lossless, RLELossless

from mammoview.gui.pyramid import halve
from mammoview.io import preview
from mammoview.io.model import LoadError
from mammoview.io.preview import codestream_precision, decode_preview, enlarge, previewable
from mammoview.io.reader import decode, read_info
from tests.gui.conftest import write_view


def compressed(path: Path, syntax=JPEG2000Lossless) -> Path:  # type: ignore[no-untyped-def]
    ds = pydicom.dcmread(path)
    ds.compress(syntax)
    ds.save_as(path)
    return path


@pytest.fixture()
def small_previews(monkeypatch: pytest.MonkeyPatch) -> None:
    """Synthetic views are ~0.15 Mpx: previewed here as a full-field view would be."""
    monkeypatch.setattr(preview, "PREVIEW_MIN_PIXELS", 0)


def test_a_preview_has_the_full_decodes_grid_type_and_hanging_and_is_its_blurred_picture(tmp_path, small_previews):
    info = read_info(compressed(write_view(tmp_path, "RMLO.dcm", "RMLO")))  # 12 bits stored in 16
    assert previewable(info) and info.chain.bits_stored == 12
    quick, full = decode_preview(info), decode(info)
    assert quick.shape == full.shape and quick.stored.dtype == full.stored.dtype == np.uint16
    assert quick.display == full.display and quick.info == full.info
    assert not quick.stored.flags.writeable
    # each 4 x 4 block is one sample of the codestream's level 2: the full image's quarter-size average, blurred
    # (a 12-bit codestream that Pillow scaled to 16 bits would be 16 times too bright)
    assert np.array_equal(quick.stored[::4, ::4].repeat(4, 0).repeat(4, 1)[: full.shape[0], : full.shape[1]],
                          quick.stored)  # fmt: skip
    box = halve(halve(full.stored)).astype(float)
    coarse = quick.stored[::4, ::4][: box.shape[0], : box.shape[1]].astype(float)
    assert np.abs(coarse - box).mean() < 0.02 * full.stored.max()
    assert np.abs(quick.stored.astype(float) - full.stored).mean() > 0  # not the full picture


def test_only_large_single_frame_unsigned_greyscale_jpeg2000_dicom_is_previewed(tmp_path):
    j2k = read_info(compressed(write_view(tmp_path, "RCC.dcm", "RCC")))
    assert not previewable(j2k)  # 0.14 Mpx: decoded in full as fast
    big = replace(j2k, rows=2000, columns=1500)
    assert previewable(big)
    assert not previewable(replace(big, frames=40))  # a tomosynthesis volume: its slices are decoded one by one
    assert not previewable(replace(big, chain=replace(big.chain, signed=True)))
    assert not previewable(replace(big, photometric="YBR_RCT"))
    rle = read_info(compressed(write_view(tmp_path / "rle", "RCC.dcm", "RCC"), RLELossless))
    assert not previewable(replace(rle, rows=2000, columns=1500))
    assert decode_preview(j2k).shape == (j2k.rows, j2k.columns)  # made when asked for all the same
    with pytest.raises(LoadError, match="no preview"):
        decode_preview(rle)


def test_a_codestream_that_does_not_decode_is_a_load_error_naming_the_file(tmp_path, small_previews):
    path = compressed(write_view(tmp_path, "LCC.dcm", "LCC"))
    ds = pydicom.dcmread(path)
    frame = get_frame(ds.PixelData, 0, number_of_frames=1)
    assert codestream_precision(frame) == 12
    ds.PixelData = encapsulate([frame[: len(frame) // 2]])
    ds.save_as(path)
    with pytest.raises(LoadError, match=r"LCC\.dcm.*no preview"):
        decode_preview(read_info(path))
    assert codestream_precision(b"\xff\x4f\xff\x51\x00") is None and codestream_precision(b"not one") is None


def test_enlarge_repeats_each_sample_and_cuts_the_last_row_and_column_to_the_stored_grid():
    coarse = np.arange(6, dtype=np.uint16).reshape(2, 3)
    out = enlarge(coarse, 4, (7, 10))
    assert out.shape == (7, 10)
    assert out[0, 0] == 0 and out[3, 3] == 0 and out[4, 4] == 4 and out[6, 9] == 5
    with pytest.raises(ValueError, match="expected"):
        enlarge(coarse, 4, (9, 10))  # ceil(9 / 4) = 3 rows needed


def test_a_signed_codestream_in_an_image_said_unsigned_is_not_previewed(tmp_path, small_previews):
    """Pillow offsets a signed codestream's samples by half their range where pydicom keeps their bits as coded
    (the header's Pixel Representation 0): the preview was another picture than the full decode (its mean 951
    against 2559 here), and the window taken from it stayed after the swap."""
    path = write_view(tmp_path, "LCC.dcm", "LCC")
    ds = pydicom.dcmread(path)
    ds.PixelRepresentation = 1
    ds.PixelData = (ds.pixel_array.astype(np.int16) - 2048).tobytes()
    ds.compress(JPEG2000Lossless)  # a signed codestream ...
    ds.PixelRepresentation = 0  # ... in a file that says its pixels are unsigned
    ds.save_as(path)
    info = read_info(path)
    assert previewable(info)
    full = decode(info)
    try:
        quick = decode_preview(info)
    except LoadError as err:
        assert "no preview" in str(err)
        return
    box = halve(halve(full.stored)).astype(float)
    coarse = quick.stored[::4, ::4][: box.shape[0], : box.shape[1]].astype(float)
    assert np.abs(coarse - box).mean() < 0.02 * full.stored.max()  # else the picture it stands in for


@pytest.mark.parametrize("shape", [(481, 300), (480, 301), (481, 301), (483, 302)])
def test_a_side_of_four_times_n_plus_one_pixels_is_previewed_too(tmp_path, small_previews, shape):
    """OpenJPEG's level 2 of 4n + 1 samples holds n + 1 of them; Pillow 10-12 sized it n (rounded), and its decode
    failed ("broken data stream"): such views (about 4 in 9 of arbitrary sizes) got no preview."""
    from tests.synthetic import mammo_dataset, synthetic_breast, write_dataset

    pixels = synthetic_breast(*shape, chest_wall="left", seed=5)
    path = compressed(write_dataset(mammo_dataset(pixels, "R", "CC", study_uid="1.2.3.4"), tmp_path / "RCC.dcm"))
    info = read_info(path)
    quick, full = decode_preview(info), decode(info)
    assert quick.shape == full.shape == shape
    box = halve(halve(full.stored)).astype(float)
    coarse = quick.stored[::4, ::4][: box.shape[0], : box.shape[1]].astype(float)
    assert np.abs(coarse - box).mean() < 0.02 * full.stored.max()
