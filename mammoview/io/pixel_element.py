"""A DICOM file's Pixel Data element, checked in place where a header read with ``stop_before_pixels`` stopped.

Present, not float, native length or encapsulated items complete (PS3.5 A.4), written as the transfer syntax says: a
truncated file, one without pixels or one whose transfer syntax is wrong is reported at scan time, before any decode;
a volume cut off after some frames keeps the frames that are there.
"""

from __future__ import annotations

import os
import struct
from pathlib import Path
from typing import Any, BinaryIO

from pydicom.datadict import tag_for_keyword
from pydicom.filereader import read_dataset, read_preamble
from pydicom.uid import (
    UID,
    DeflatedExplicitVRLittleEndian,
    JPEGLSTransferSyntaxes,
    JPEGTransferSyntaxes,
)

from mammoview.io.model import LoadError

_PIXEL_DATA = 0x7FE00010
_FLOAT_PIXEL_DATA = (0x7FE00008, 0x7FE00009)
_ITEM, _SEQ_DELIM = 0xFFFEE000, 0xFFFEE0DD
#: codestreams that end with an end-of-image marker (FFD9), and whose decoder (libjpeg) fills in what is cut off
_EOI_SYNTAXES = frozenset([*JPEGTransferSyntaxes, *JPEGLSTransferSyntaxes])
_EOI, _TAIL_BYTES = b"\xff\xd9", 16

#: the most zero bytes after the image data taken as padding (a real file had 19 kB; more is a wrong header)
MAX_PADDING_BYTES = 1 << 20


def int_attr(path: Path, ds: Any, keyword: str, default: int) -> int:
    """An integer attribute (``default`` when absent or empty); a clear LoadError naming the tag when it is not one."""
    try:
        value = ds.get(keyword, default)  # pydicom converts an IS here: 'inf' raises OverflowError
        return int(value or default)
    except (TypeError, ValueError, OverflowError):
        raw = ds.get_item(tag_for_keyword(keyword)) if keyword in ds else None
        value = raw.value if raw is not None else None  # as stored (bytes): converting it failed
        tag = tag_for_keyword(keyword) or 0
        raise LoadError(path, f"({tag >> 16:04X},{tag & 0xFFFF:04X}) {keyword} {value!r} is not an integer") from None


def check_pixel_element(path: Path, fp: BinaryIO, ds: Any, ts: UID, warnings: list[str]) -> int | None:
    """Look at the element where ``stop_before_pixels`` stopped: present, complete, not float, encoded (native or
    encapsulated, explicit or implicit VR) as the transfer syntax ``ts`` says.

    Returns the number of complete frames of a multi-frame image cut off after some (a tomosynthesis volume
    whose copy was interrupted: its slices that are there are shown, and the file is said to be truncated);
    None when the data are whole.
    """
    if ts == DeflatedExplicitVRLittleEndian:
        return None  # the body is zlib-compressed; the decoder checks it
    implicit, little = ds.original_encoding if ds.original_encoding[0] is not None else (ts.is_implicit_VR, True)
    end = "<" if little else ">"
    head = fp.read(8)
    if len(head) < 8:  # the file ends here: no pixels, or cut off just before them
        _check_byte_order(path, fp, ts, (implicit, little))
        raise LoadError(path, "no Pixel Data (7FE0,0010): not an image, or the file is truncated")
    group, elem = struct.unpack(f"{end}HH", head[:4])
    tag = group << 16 | elem
    if tag in _FLOAT_PIXEL_DATA:
        raise LoadError(path, "float pixel data (7FE0,0008/0009) is not supported")
    if tag != _PIXEL_DATA:
        _check_byte_order(path, fp, ts, (implicit, little))
        raise LoadError(path, "no Pixel Data (7FE0,0010): not an image")
    if implicit and head[4:6] in _PIXEL_VRS and head[6:8] == b"\0\0":  # (an even length never reads as "O?" / "U?")
        raise LoadError(path, f"the data set is written in explicit VR, but (0002,0010) Transfer Syntax UID {ts.name} "
                              "says implicit VR: its transfer syntax is wrong")  # fmt: skip
    if implicit:
        (length,) = struct.unpack(f"{end}I", head[4:8])
    elif not head[4:6].isalpha():  # explicit VR gives the VR here, two letters (PS3.5 7.1.2): a length is no VR
        raise LoadError(path, f"the data set is written in implicit VR, but (0002,0010) Transfer Syntax UID {ts.name} "
                              "says explicit VR: its transfer syntax is wrong")  # fmt: skip
    else:
        extra = fp.read(4)
        (length,) = struct.unpack(f"{end}I", extra) if len(extra) == 4 else (0,)
    size = os.fstat(fp.fileno()).st_size
    value_start = fp.tell()
    frames = int_attr(path, ds, "NumberOfFrames", 1)
    if frames < 1:
        raise LoadError(path, f"(0028,0008) NumberOfFrames {frames} is not a count of frames")
    # (a 0 had read as 16, ``int(0 or 16)``: its value tested for itself)
    allocated = int_attr(path, ds, "BitsAllocated", 16) if ds.get("BitsAllocated") != 0 else 0
    if "BitsAllocated" in ds and not (allocated == 1 or (allocated % 8 == 0 and 8 <= allocated <= 64)):
        raise LoadError(path, f"(0028,0100) Bits Allocated {allocated} is no size of a pixel sample (1, or 8, 16, 32 "
                              "or 64 bits, PS3.5 8.1.1): the header is damaged")  # fmt: skip
    # the encoding the transfer syntax says (None: an unknown syntax, said later as one without a decoder) against the
    # value's own: items (PS3.5 A.4), of undefined length or, written by some, of a defined one that pydicom reads
    encapsulated = ts.is_encapsulated if ts.is_transfer_syntax else None
    items = length == 0xFFFFFFFF or _starts_with_item(fp, value_start)
    if encapsulated and not items:
        raise LoadError(path, f"(0002,0010) Transfer Syntax UID {ts.name} is a compressed encoding, but Pixel Data is "
                              "not encapsulated (PS3.5 A.4): its transfer syntax is wrong")  # fmt: skip
    if encapsulated is False and length == 0xFFFFFFFF:
        raise LoadError(path, _fragments_mislabelled(ts))
    if length == 0xFFFFFFFF:
        tails: list[bytes] = []
        fragments, cut = _walk_fragments(path, fp, end, size, frames > 1, tails)
        if cut is None and ts in _EOI_SYNTAXES and (frames <= 1 or fragments == frames):
            # a codestream cut short inside its fragment: the decoder would show the missing rows black, without a word
            # (FFD9 is a marker only: the entropy-coded data never hold it)
            ends = tails[-1:] if frames <= 1 else tails
            whole = next((i for i, tail in enumerate(ends) if _EOI not in tail), len(ends))
            if whole < len(ends):
                if (found := codestream_kind(_first_fragment(fp, value_start, end))) not in (None, "JPEG"):
                    raise LoadError(path, f"Pixel Data holds {found} data, but (0002,0010) Transfer Syntax UID "
                                          f"{ts.name} says JPEG: its transfer syntax is wrong")  # fmt: skip
                why = (f"truncated: the {ts.name} codestream of frame {whole + 1} ends without its end-of-image "
                       "marker (FFD9): the file was cut short or damaged")  # fmt: skip
                if whole < 1:
                    raise LoadError(path, why)
                warnings.append(f"{why}; {whole} frame(s) shown")  # a volume: the frames before it are shown
                return whole
        if cut is not None:  # a volume whose copy was interrupted: the frames of its complete fragments are shown
            complete = min(fragments, frames)
            if complete < 1:
                raise LoadError(path, cut)
            warnings.append(f"truncated: encapsulated Pixel Data is cut off after {fragments} complete fragment(s) "
                            f"of its {frames} frames (the file is cut off); {complete} frame(s) shown")  # fmt: skip
            return complete
        if fragments < frames:  # each frame is one fragment or more (PS3.5 A.4): frames are missing
            warnings.append(f"encapsulated Pixel Data holds {fragments} fragment(s) where (0028,0008) NumberOfFrames "
                            f"is {frames}: the file is truncated or NumberOfFrames is wrong; {fragments} frame(s) "
                            "shown")  # fmt: skip
            return fragments
        return None
    rows, cols = int_attr(path, ds, "Rows", 0), int_attr(path, ds, "Columns", 0)
    bits = int_attr(path, ds, "BitsAllocated", 16)
    samples = int_attr(path, ds, "SamplesPerPixel", 1)
    if samples == 3 and str(ds.get("PhotometricInterpretation", "")).strip().upper() == "YBR_FULL_422":
        samples = 2  # two chroma values shared by each pair of pixels (PS3.3 C.7.6.3.1.2): 2 values per pixel
    expected = (rows * cols * samples * frames * bits + 7) // 8
    available = min(length, size - value_start)
    frame_bytes = (rows * cols * samples * bits + 7) // 8 if bits % 8 == 0 else 0  # (1-bit frames pack across)
    if length != expected and encapsulated is False and items:  # fragments written as one value of its length
        raise LoadError(path, _fragments_mislabelled(ts))
    if available < expected and frames > 1 and frame_bytes and available >= frame_bytes:
        complete = int(available // frame_bytes)
        warnings.append(f"truncated: Pixel Data holds {complete} of its {frames} frames (the file is cut off); "
                        f"frames {complete + 1}-{frames} are missing")  # fmt: skip
        return complete
    if available < expected and length <= size - value_start:  # all its bytes there: the header describes more
        raise LoadError(path, f"Pixel Data holds {length} bytes where {rows} rows x {cols} columns x {samples} "
                              f"sample(s) x {bits} bits x {frames} frame(s) make {expected}, and the file holds them "
                              "all: Rows, Columns, Bits Allocated or Number of Frames is wrong (or the file was "
                              "written short)")  # fmt: skip
    if available < expected:
        raise LoadError(path, f"truncated: Pixel Data has {available} of {expected} bytes")
    row_bytes = max((cols * samples * bits + 7) // 8, 2)
    excess = length - expected
    if not expected or excess <= expected % 2:  # (an odd length padded to even with one NULL byte, PS3.5 8.1.1)
        return None
    # zeros after the image are padding, which older writers add and readers should accept (PS3.5 8.1.1, 8.2:
    # the value is padded to even length with one NULL byte); anything else of a row or more is image data the header
    # does not describe (shown, it would be sheared or garbled, or, a whole row more, lose its last rows unsaid)
    if excess >= row_bytes and length > size - value_start:
        raise LoadError(path, f"truncated: Pixel Data declares {length} bytes, the file holds "
                              f"{size - value_start}")  # fmt: skip
    zeros = False
    if excess <= MAX_PADDING_BYTES:
        fp.seek(value_start + expected)
        tail = fp.read(excess)
        zeros = len(tail) == excess and not tail.strip(b"\0")
    if excess >= row_bytes and not zeros:
        if frame_bytes and length % frame_bytes == 0:  # whole frames more than the header says
            given = f"{frames}" if "NumberOfFrames" in ds else "absent (1 frame)"
            raise LoadError(path, f"Pixel Data holds {length // frame_bytes} frames' worth of bytes ({length} bytes, "
                                  f"{frame_bytes} per frame of {rows} x {cols} x {bits} bits) where (0028,0008) "
                                  f"NumberOfFrames is {given}: NumberOfFrames (or Rows, Columns, Bits Allocated) is "
                                  "wrong")  # fmt: skip
        if frames == 1 and excess % row_bytes == 0:  # whole rows more: Rows says too few
            raise LoadError(path, f"Pixel Data holds {excess // row_bytes} row(s) more than (0028,0010) Rows {rows} "
                                  f"says ({length} bytes where {rows} rows x {row_bytes} bytes make {expected}): Rows "
                                  "(or Columns, Bits Allocated) is wrong")  # fmt: skip
        raise LoadError(path, f"Pixel Data holds {length} bytes where {rows} rows x {cols} columns x {samples} "
                              f"sample(s) x {bits} bits x {frames} frame(s) make {expected}: Rows, Columns, Bits "
                              "Allocated or Number of Frames is wrong")  # fmt: skip
    # padding, or fewer than a row of data (trailing bytes some writers leave: no rows the header missed): shown, said
    what, why = ("of zero padding ", "") if zeros else ("", " (fewer than a row: no image data)")
    count = f"{excess} byte" + ("s" if excess != 1 else "")
    warnings.append(f"Pixel Data has {count} {what}after the {expected} the header describes{why}; ignored")
    return None


#: The VRs explicit VR gives Pixel Data (PS3.5 8.2), then two reserved bytes of 0: read as an implicit VR length, an
#: odd number (a value length is even).
_PIXEL_VRS = (b"OB", b"OW", b"UN")


def codestream_kind(data: bytes) -> str | None:
    """Which compressed encoding ``data``, a frame of encapsulated Pixel Data, begins as: "JPEG" (an SOI marker:
    JPEG and JPEG-LS alike), "JPEG 2000" (a codestream's SOC + SIZ markers, or a JP2 signature box), "RLE" (an RLE
    header: 1-15 segments, the first at offset 64, PS3.5 G.5); None when none of them."""
    if data[:2] == b"\xff\xd8":
        return "JPEG"
    if data[:4] == b"\xff\x4f\xff\x51" or data[:12] == b"\x00\x00\x00\x0cjP  \r\n\x87\n":
        return "JPEG 2000"
    if len(data) >= 64 and 1 <= int.from_bytes(data[:4], "little") <= 15 and data[4:8] == b"\x40\0\0\0":
        return "RLE"
    return None


def _first_fragment(fp: BinaryIO, value_start: int, end: str) -> bytes:
    """The first 64 bytes of the first fragment after the Basic Offset Table of encapsulated Pixel Data starting at
    ``value_start`` (items checked whole by :func:`_walk_fragments` before)."""
    fp.seek(value_start)
    (table,) = struct.unpack(f"{end}4xI", fp.read(8))
    fp.seek(table + 8, os.SEEK_CUR)  # (the Basic Offset Table, then the first fragment's item header)
    return fp.read(64)


def _starts_with_item(fp: BinaryIO, value_start: int) -> bool:
    """Whether the value at ``value_start`` begins with an Item tag (FFFE,E000), as encapsulated data do."""
    head = fp.read(4)
    fp.seek(value_start)
    return head == b"\xfe\xff\x00\xe0"  # (encapsulated data are always little endian, PS3.5 A.4)


def _check_byte_order(path: Path, fp: BinaryIO, ts: UID, read_as: tuple[bool, bool]) -> None:
    """A LoadError when the data set, read as (implicit VR, little endian) ``read_as`` without reaching its Pixel
    Data, is written in the other byte order (a converter that re-labelled a file Explicit VR Big Endian, or the
    reverse): read so it reaches Pixel Data.  Each tag and length read in the wrong order is garbage, which had been
    said as 'no Pixel Data'.  Only asked of a file about to be refused: the data set is read a second time."""
    said = (ts.is_implicit_VR, ts.is_little_endian) if ts.is_transfer_syntax else read_as  # (the words of the UID)
    little = not read_as[1]
    try:
        fp.seek(0)
        read_preamble(fp, force=True)
        # File Meta is explicit VR little endian whatever the syntax (PS3.10 7.1); the data set follows it
        read_dataset(fp, False, True, stop_when=lambda tag, vr, length: tag.group != 2)
        # (pydicom tells explicit from implicit VR by the first element itself; values are skipped, not read)
        read_dataset(fp, False, little, stop_when=lambda tag, vr, length: tag == _PIXEL_DATA, defer_size=1024)
        head = fp.read(8)
    except Exception:  # pydicom raises many types for bytes it cannot parse: no data set in that order either
        return
    if len(head) < 8 or struct.unpack("<HH" if little else ">HH", head[:4]) != (0x7FE0, 0x0010):
        return
    found = (head[4:6] not in _PIXEL_VRS, little)  # (implicit VR: a length there, never "O?" / "U?" when even)
    vr_too = found[0] != said[0]  # the VR is named only where it differs as well

    def words(encoding: tuple[bool, bool]) -> str:
        order = "little endian" if encoding[1] else "big endian"
        return f"{'implicit' if encoding[0] else 'explicit'} VR {order}" if vr_too else order

    raise LoadError(path, f"the data set is written in {words(found)}, but (0002,0010) Transfer Syntax UID {ts.name} "
                          f"says {words(said)}: its transfer syntax is wrong")  # fmt: skip


def _fragments_mislabelled(ts: UID) -> str:
    return (f"Pixel Data is encapsulated (compressed fragments, PS3.5 A.4), but (0002,0010) Transfer Syntax UID "
            f"{ts.name} is an uncompressed encoding: its transfer syntax is wrong")  # fmt: skip


def _walk_fragments(
    path: Path, fp: BinaryIO, end: str, size: int, may_be_cut: bool = False, tails: list[bytes] | None = None
) -> tuple[int, str | None]:
    """Encapsulated pixel data (PS3.5 A.4): items up to the sequence delimiter must all be in the file; returns the
    number of fragments (the items after the Basic Offset Table) and None, or, with ``may_be_cut`` (a multi-frame
    image: its complete frames can still be shown), the complete fragments of a file cut off and why it is.  The last
    bytes of each fragment in the file are appended to ``tails``."""
    n_items = 0

    def cut(why: str) -> tuple[int, str | None]:
        if may_be_cut and n_items >= 2:
            return n_items - 1, why
        raise LoadError(path, why)

    while True:
        head = fp.read(8)
        if len(head) < 8:
            return cut(f"truncated: encapsulated Pixel Data ends after {n_items} items")
        group, elem, length = struct.unpack(f"{end}HHI", head)
        tag = group << 16 | elem
        if tag == _SEQ_DELIM:
            if n_items < 2:
                raise LoadError(path, "encapsulated Pixel Data has no fragments")
            return n_items - 1, None
        if tag != _ITEM or length == 0xFFFFFFFF:
            raise LoadError(path, f"corrupt encapsulated Pixel Data: unexpected tag ({group:04X},{elem:04X})")
        if fp.tell() + length > size:
            return cut(f"truncated: Pixel Data fragment {n_items} runs past the end of the file")
        if tails is not None and n_items >= 1:  # (item 0 is the Basic Offset Table)
            fp.seek(length - min(length, _TAIL_BYTES), os.SEEK_CUR)
            tails.append(fp.read(min(length, _TAIL_BYTES)))
        else:
            fp.seek(length, os.SEEK_CUR)
        n_items += 1
