"""The size an RLE Lossless frame really has, against the header's Rows x Columns (PS3.5 Annex G).

An RLE frame is a header of segment offsets followed by its segments, one per byte of each sample (a 16-bit grey
image has two): each segment decodes to one byte per pixel, Rows x Columns bytes (G.2, G.3.1).  A header whose Rows
or Columns is wrong was decoded cropped or sheared (pydicom's decoder, with only a warning about "padding"), or not
at all (pylibjpeg-rle, the decoder used, panics, or every decoder fails with a message about segment lengths): when
a decode fails, the segments' decoded length tells whether that was the cause (:mod:`mammoview.io.dicom`; measured
only then, as it costs a third of a good file's decode time).
"""

from __future__ import annotations

import struct

from rle.rle import decode_segment  # pylibjpeg-rle (Rust): a segment of a 40 Mpx image in some 0.1 s

#: the RLE header: the number of segments, then 15 offsets (PS3.5 G.5)
_HEADER = struct.Struct("<16L")


def size_problem(frame: bytes, rows: int, columns: int) -> str | None:
    """Why an RLE frame's segments do not hold ``rows`` x ``columns`` pixels, or None.

    Every segment decoding to the same length other than rows x columns (by a row or more: a writer may pad the
    last one) is a header whose Rows or Columns is wrong.  Segments that disagree among themselves, or a header
    that cannot be read, are damaged data: None, and the decoder says what it finds.  A segment whose runs cannot
    be decoded raises (ValueError, or pyo3's PanicException): damaged too, for the caller to leave to the decoder.
    """
    if len(frame) < _HEADER.size:
        return None
    count, *offsets = _HEADER.unpack_from(frame)
    starts = offsets[:count]
    if not 1 <= count <= 15 or starts != sorted(set(starts)) or starts[0] < _HEADER.size or starts[-1] >= len(frame):
        return None
    pixels = rows * columns
    bounds = list(zip(starts, [*starts[1:], len(frame)], strict=True))
    length = len(decode_segment(frame[bounds[0][0] : bounds[0][1]]))
    if pixels <= length < pixels + columns:  # the header fits (other segments unlike it are damage: the decoder's)
        return None
    if any(len(decode_segment(frame[a:b])) != length for a, b in bounds[1:]):
        return None
    return (f"(0028,0010) Rows x (0028,0011) Columns is {rows} x {columns} = {pixels} pixels, the RLE segments hold "
            f"{length}: the header's Rows/Columns do not match the pixel data")  # fmt: skip
