"""A file whose (0002,0010) Transfer Syntax UID does not say how it is written (a converter that re-labelled a file,
or re-encoded its pixels and kept the old UID) is refused at the header, saying so.  Uncompressed pixels under a
compressed syntax failed at decode with "Found unexpected tag (FFFF,FFFF) instead of (FFFE,E000) when parsing the Basic
Offset Table item"; compressed fragments under an uncompressed one as 'truncated: Pixel Data has 11680 of 19200 bytes'
(the file is whole) or, undefined in length, "cannot reshape array of size ..."; a data set written in implicit VR
under an explicit VR syntax as 'truncated: Pixel Data has 19196 of 19200 bytes'; one written in the other byte order
(little endian under Explicit VR Big Endian, or the reverse) as 'no Pixel Data (7FE0,0010)'.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pydicom
import pytest
from pydicom.data import get_testdata_file
from pydicom.filebase import DicomBytesIO
from pydicom.filewriter import write_file_meta_info
from pydicom.uid import (
    ExplicitVRBigEndian,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
    JPEG2000Lossless,
    JPEGLosslessSV1,
    RLELossless,
)

from mammoview.io import LoadError, read_image, read_info
from tests.io.conftest import MakeFile
from tests.synthetic import mammo_dataset, synthetic_breast, write_dataset


def relabelled(path: Path, syntax: str) -> Path:
    """``path`` with ``syntax`` in its File Meta, the data set's bytes as they are: the mislabelled file a converter
    leaves (pydicom refuses to write one)."""
    data = path.read_bytes()
    meta = pydicom.dcmread(path, stop_before_pixels=True).file_meta
    meta.TransferSyntaxUID = syntax
    out = DicomBytesIO()
    out.is_little_endian, out.is_implicit_VR = True, False
    write_file_meta_info(out, meta)
    body = data[144 + int.from_bytes(data[140:144], "little") :]  # after the preamble and File Meta group
    path.write_bytes(data[:132] + out.getvalue() + body)
    return path


def rle_file(tmp_path: Path) -> Path:
    pixels = synthetic_breast(120, 80)
    ds = mammo_dataset(pixels)
    ds.compress(RLELossless, pixels)
    return write_dataset(ds, tmp_path / "rle.dcm")


def reason(path: Path) -> str:
    with pytest.raises(LoadError) as exc:
        read_info(path)
    assert "transfer syntax is wrong" in exc.value.reason and "truncated" not in exc.value.reason, exc.value.reason
    return exc.value.reason


def test_uncompressed_pixels_under_a_compressed_syntax_are_said(write_dcm: MakeFile) -> None:
    said = reason(relabelled(write_dcm("native.dcm"), RLELossless))
    assert "(0002,0010) Transfer Syntax UID RLE Lossless" in said and "not encapsulated" in said


@pytest.mark.parametrize("length", ["undefined", "defined"])
def test_compressed_fragments_under_an_uncompressed_syntax_are_said(tmp_path: Path, length: str) -> None:
    path = rle_file(tmp_path)
    if length == "undefined":  # as encoded, only the UID changed
        relabelled(path, ExplicitVRLittleEndian)
    else:  # written again as uncompressed: the fragments become one value of defined length
        ds = pydicom.dcmread(path)
        ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
        write_dataset(ds, path)
    said = reason(path)
    assert "encapsulated" in said and "(0002,0010) Transfer Syntax UID Explicit VR Little Endian" in said


def test_implicit_vr_under_an_explicit_vr_syntax_is_said(tmp_path: Path) -> None:
    ds = mammo_dataset(synthetic_breast(120, 80))
    ds.file_meta.TransferSyntaxUID = ImplicitVRLittleEndian
    said = reason(relabelled(write_dataset(ds, tmp_path / "implicit.dcm"), ExplicitVRLittleEndian))
    assert "written in implicit VR" in said and "Explicit VR Little Endian says explicit VR" in said


def test_explicit_vr_under_an_implicit_vr_syntax_is_said(tmp_path: Path) -> None:
    """Read as implicit VR, Pixel Data's "OW" and its two reserved bytes made a length of 22351 ('truncated')."""
    said = reason(
        relabelled(write_dataset(mammo_dataset(synthetic_breast(120, 80)), tmp_path / "x.dcm"), ImplicitVRLittleEndian)
    )
    assert "written in explicit VR" in said and "Implicit VR Little Endian says implicit VR" in said


@pytest.mark.parametrize("syntax", [JPEG2000Lossless, JPEGLosslessSV1])
def test_rle_fragments_under_another_compressed_syntax_are_said_at_decode(tmp_path: Path, syntax: str) -> None:
    """Encapsulated either way, so the header passes; the decoder's own words had been the message ("Error decoding
    the J2K data: failed to read the header", a JPEG decoder's)."""
    path = relabelled(rle_file(tmp_path), syntax)
    with pytest.raises(LoadError) as exc:
        read_image(path)
    said = exc.value.reason
    assert "Pixel Data holds RLE data" in said and "its transfer syntax is wrong" in said, said


def test_files_labelled_as_written_still_read(write_dcm: MakeFile, tmp_path: Path) -> None:
    implicit = write_dcm(
        "implicit.dcm", edit=lambda ds: setattr(ds.file_meta, "TransferSyntaxUID", ImplicitVRLittleEndian)
    )
    for path in (write_dcm("native.dcm"), implicit, rle_file(tmp_path)):
        assert read_image(path).stored.shape == (120, 80)


@pytest.mark.parametrize(
    ("source", "syntax", "words"),
    [
        ("MR_small.dcm", ExplicitVRBigEndian, "written in little endian, but (0002,0010) Transfer Syntax UID Explicit "
         "VR Big Endian says big endian"),
        ("MR_small_bigendian.dcm", ExplicitVRLittleEndian, "written in big endian, but (0002,0010) Transfer Syntax UID "
         "Explicit VR Little Endian says little endian"),
        ("MR_small_implicit.dcm", ExplicitVRBigEndian, "written in implicit VR little endian, but (0002,0010) Transfer "
         "Syntax UID Explicit VR Big Endian says explicit VR big endian"),
    ],
    ids=["little-under-big", "big-under-little", "implicit-little-under-big"],
)  # fmt: skip
def test_data_in_the_other_byte_order_are_said(tmp_path: Path, source: str, syntax: str, words: str) -> None:
    """Read in the wrong byte order every tag and length is garbage and Pixel Data is never met: it had been 'no Pixel
    Data (7FE0,0010): not an image, or the file is truncated' (pydicom's own files, re-labelled)."""
    path = tmp_path / source
    shutil.copyfile(get_testdata_file(source), path)
    assert words in reason(relabelled(path, syntax))
