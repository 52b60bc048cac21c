"""Decoded values beyond Bits Stored (0028,0101) in compressed data: masked as uncompressed data are (PS3.5 8.1.1)
when bits above the value were coded, clamped when a lossy codestream overshot the range; said either way.

pydicom masks the bits above Bits Stored in native data but gives JPEG 2000 and JPEG-LS samples as coded: a
codestream of 16-bit precision in a file that says 12 bits stored decoded to values up to 65535, drawn off the end
of every 12-bit table, and nothing was said.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from pydicom.uid import JPEG2000, JPEG2000Lossless, JPEGLSLossless

from mammoview.io import read_image
from mammoview.io.model import LoadError
from mammoview.io.preview import reduced_levels
from mammoview.io.stored_bits import fit_to_bits_stored
from tests.synthetic import mammo_dataset, synthetic_breast, write_dataset


def twelve_bits_with_high_bits(seed: int = 7) -> tuple[np.ndarray, np.ndarray]:
    """(12-bit breast values, the same with junk in bits 12-15 of every other row: what the encoder is given)."""
    low = synthetic_breast(256, 192, seed=seed, max_value=4095)
    junk = low.copy()
    junk[::2] |= np.uint16(0xA000)
    return low, junk


def file_of(
    values: np.ndarray, tmp_path: Path, syntax: object | None, coded_bits: int = 16, labelled: object | None = None
) -> Path:
    """A file of ``values`` coded with ``coded_bits`` of precision whose header says 12 bits stored (and, given
    ``labelled``, that transfer syntax: a JPEG 2000 codestream coded losslessly is valid under either UID)."""
    ds = mammo_dataset(values)
    ds.BitsStored, ds.HighBit = coded_bits, coded_bits - 1  # the encoder codes what it is given
    ds.PixelData = values.tobytes()
    if syntax is not None:
        ds.compress(syntax, values)
    if labelled is not None:
        ds.file_meta.TransferSyntaxUID = labelled
    ds.BitsStored, ds.HighBit = 12, 11  # ... and the header says 12
    name = "native" if syntax is None else str(syntax).replace(".", "_")
    return write_dataset(ds, tmp_path / f"{name}_{coded_bits}.dcm")


@pytest.mark.parametrize("syntax", [None, JPEG2000Lossless, JPEGLSLossless], ids=["native", "j2k", "jpeg-ls"])
def test_values_beyond_bits_stored_are_masked_in_every_encoding(tmp_path: Path, syntax: object | None) -> None:
    low, junk = twelve_bits_with_high_bits()
    image = read_image(file_of(junk, tmp_path, syntax))
    assert image.info.chain.bits_stored == 12
    assert np.array_equal(image.stored, low)  # the native file (pydicom) and the compressed ones alike
    said = [w for w in image.info.warnings if "(0028,0101) Bits Stored 12" in w]
    if syntax is None:
        assert said == []  # pydicom masked it; nothing the reader did differently
    else:
        assert len(said) == 1 and f"{np.count_nonzero(junk != low)} decoded pixel values" in said[0], said
        assert "kept to their low 12 bits" in said[0]


def test_a_lossy_overshoot_past_bits_stored_is_clamped_not_wrapped_to_black(tmp_path: Path) -> None:
    """A 12-bit image coded at 16-bit precision whose decode runs a few counts past 4095 at its brightest pixels (a
    lossy codestream's overshoot; coded losslessly here so the values are known): masking would make them 0-4, black
    spots where the image is whitest; they read 4095, and the reader says so. (Labelled JPEG 2000, which may be
    lossy: a lossless-only codestream cannot overshoot, next test.)"""
    low, _ = twelve_bits_with_high_bits()
    over = low.copy()
    over[100:104, 50:60] = np.uint16(4095 + 3)
    image = read_image(file_of(over, tmp_path, JPEG2000Lossless, labelled=JPEG2000))
    assert np.array_equal(image.stored, np.minimum(over, 4095))
    said = [w for w in image.info.warnings if "(0028,0101) Bits Stored 12" in w]
    assert len(said) == 1 and "40 decoded pixel values" in said[0] and "clamped" in said[0], said


@pytest.mark.parametrize("syntax", [JPEG2000Lossless, JPEGLSLossless], ids=["j2k", "jpeg-ls"])
def test_an_overlay_bit_on_dark_pixels_of_lossless_data_is_masked_not_clamped(tmp_path: Path, syntax: object) -> None:
    """An old file's overlay (bit 12) drawn over the black background only: values 4096 + 0..99, a few counts past
    the range as a lossy overshoot is. Coded lossless, they cannot be one: masked to the dark pixels they hold, as
    the native file reads, not clamped to the range's white (a white overlay burnt into the image)."""
    low, _ = twelve_bits_with_high_bits()
    low[:20, :40] = np.arange(40, dtype=np.uint16)  # the background's dark values
    overlaid = low.copy()
    overlaid[5:15, 5:35] |= np.uint16(1 << 12)
    image = read_image(file_of(overlaid, tmp_path, syntax))
    assert np.array_equal(image.stored, low)
    said = [w for w in image.info.warnings if "(0028,0101) Bits Stored 12" in w]
    assert len(said) == 1 and "kept to their low 12 bits" in said[0], said


def test_no_jpeg2000_preview_of_a_codestream_more_precise_than_bits_stored(tmp_path: Path) -> None:
    """Its reduced levels average the bits above Bits Stored with the value's (values about 0x5000 here): no low bits
    of those are the full decode's, so the viewer waits for that instead of showing a different picture first."""
    low, junk = twelve_bits_with_high_bits()
    info = read_image(file_of(junk, tmp_path, JPEG2000Lossless)).info
    with pytest.raises(LoadError, match=r"no preview: codestream precision 16, values beyond the 12 bits stored"):
        reduced_levels(info, 1)
    coded_as_stored = read_image(file_of(low, tmp_path, JPEG2000Lossless, coded_bits=12)).info
    assert reduced_levels(coded_as_stored, 1).shape == (128, 96)  # the usual file is still previewed
    # so is a codestream more precise than Bits Stored whose values fit it (some encoders code 12-bit data at 16)
    coded_wider = read_image(file_of(low, tmp_path, JPEG2000Lossless, coded_bits=16)).info
    assert reduced_levels(coded_wider, 1).shape == (128, 96)


def test_signed_values_are_sign_extended_from_bits_stored() -> None:
    arr = np.array([-2048, 2047, 0x0800, -1, 0x1FFF], dtype=np.int16)
    masked, changed, how = fit_to_bits_stored(arr, 12)
    assert masked.dtype == np.int16 and masked.tolist() == [-2048, 2047, -2048, -1, -1] and changed == 2
    assert how == "masked"
    same, none, how = fit_to_bits_stored(np.array([0, 4095], dtype=np.uint16), 12)
    assert none == 0 and how == "" and same.tolist() == [0, 4095]
    clamped, changed, how = fit_to_bits_stored(np.array([-2050, 2049, 5], dtype=np.int16), 12)
    assert clamped.tolist() == [-2048, 2047, 5] and changed == 2 and how == "clamped"
