"""Raster images (PNG, JPEG, PGM, TIFF, BMP) as mammograms: header, pixels, names.

Pillow (a scikit-image dependency, imported in a few ms) reads PNG/JPEG/TIFF/BMP lazily,
so the header costs no decode; PGM/PPM are parsed here because Pillow rescales a
PGM's ``maxval`` to the full 16-bit range and SimpleITK has no PNM reader.  SimpleITK
is the fallback for files Pillow cannot open.  A raster has no spacing unless the
``--pixel-spacing`` option gives one, and its view comes only from its name.  A PNG
whose last row decodes black (or an interlaced one) has its image data counted: Pillow
fills rows missing from a stream that ends early with zeros, without a word.
"""

from __future__ import annotations

import importlib
import os
import re
import struct
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from mammoview.io import views
from mammoview.io.chain_model import PixelChain
from mammoview.io.dicom import luma, unreadable
from mammoview.io.header_model import PixelSpacing
from mammoview.io.model import ImageInfo, LoadError

#: Formats where Pillow may lack a codec (TIFF compressions, odd BMPs): SimpleITK tries next.
#: Not PNG/JPEG: Pillow reads them fully, and libpng would print its own errors to stderr.
_SITK_FALLBACK = frozenset({"TIFF", "BMP"})
_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "PNG"),
    (b"\xff\xd8\xff", "JPEG"),
    (b"II*\x00", "TIFF"),
    (b"MM\x00*", "TIFF"),
    (b"BM", "BMP"),
    (b"P5", "PGM"),
    (b"P2", "PGM"),
    (b"P6", "PPM"),
    (b"P3", "PPM"),
)


def raster_format(head: bytes) -> str | None:
    """The raster format named by a file's first bytes, or None."""
    for magic, fmt in _MAGIC:
        if head.startswith(magic):
            return fmt
    return None


def read_raster_info(path: Path, fmt: str, pixel_spacing: PixelSpacing | None = None) -> ImageInfo:
    """Header of a raster image (size, bit depth, colour) without decoding it.

    Raises
    ------
    LoadError
        The file cannot be parsed as ``fmt``.
    """
    warnings: list[str] = []
    if fmt in ("PGM", "PPM"):
        rows, cols, maxval, channels, _offset, _ascii = _pnm_header(path)
        bits, signed, colour = max(1, int(maxval).bit_length()), False, channels > 1
    else:
        rows, cols, bits, signed, colour, orientation = _pillow_header(path, fmt)
        if orientation != 1:  # every other viewer shows the picture turned: so is it read (its size too)
            warnings.append(f"EXIF Orientation {orientation}: read {_TURNS[orientation][1]}, as the file asks "
                            "(positions are given in the picture so turned)")  # fmt: skip
    if rows <= 0 or cols <= 0:
        raise LoadError(path, f"corrupt {fmt} header: {rows} rows x {cols} columns")
    if colour:
        warnings.append("colour image: converted to grey (luma)")
    laterality, projection = views.decide(None, path)
    warnings.extend(views.conflicts(None, path=path))  # a file name and its folder naming other sides
    desc = f"{fmt} {bits}-bit {'colour' if colour else 'grey'}"
    return ImageInfo(
        path=path,
        file_format=fmt,
        rows=rows,
        columns=cols,
        laterality=laterality,
        projection=projection,
        spacing=pixel_spacing,
        photometric="RGB" if colour else "MONOCHROME2",
        transfer_syntax=desc,
        chain=PixelChain(bits_stored=bits, signed=signed, photometric="MONOCHROME2"),
        warnings=tuple(warnings),
    )


def read_raster_pixels(info: ImageInfo) -> npt.NDArray[np.generic]:
    """Stored values (uint8/uint16, float for float TIFF), 2-D; colour becomes grey luma.

    Raises
    ------
    LoadError
        Decoding failed, or the image data do not hold the image the header gives (a truncated PNG).
    """
    path = info.path
    arr, orientation = (
        (_pnm_pixels(path), 1) if info.file_format in ("PGM", "PPM") else _pillow_pixels(path, info.file_format)
    )
    # rows a stream that ended early left out are zero (the last one, or scattered through an interlaced image): only
    # then is the data counted, which costs 40-65 % of the decode (2 of the 192 mini-MIAS images end in a black row)
    suspect = info.file_format == "PNG" and (_png_interlaced(path) or not arr[-1].any())
    if suspect and (problem := png_data_problem(path)) is not None:
        raise LoadError(path, problem)
    if orientation != 1:  # turned only now: the check above looks at the last rows as stored, where a cut leaves them
        arr = np.ascontiguousarray(_TURNS[orientation][0](arr))
    if arr.ndim == 3:
        arr = luma(arr)
    if arr.shape != (info.rows, info.columns):
        raise LoadError(path, f"decoded {arr.shape} pixels, header says {info.rows} x {info.columns}")
    return arr


#: EXIF Orientation (tag 0x0112) -> the numpy turn that shows the stored rows as the file asks, and its words
#: (EXIF 2.3 section 4.6.4: 6 = the 0th row is the visual right side, so the picture is turned a quarter clockwise;
#: Pillow's ImageOps.exif_transpose does the same)
_TURNS: dict[int, tuple[Callable[[npt.NDArray[Any]], npt.NDArray[Any]], str]] = {
    2: (lambda a: a[:, ::-1], "mirrored left-right"),
    3: (lambda a: a[::-1, ::-1], "turned half round"),
    4: (lambda a: a[::-1], "mirrored top-bottom"),
    5: (lambda a: a.swapaxes(0, 1), "transposed (mirrored about its top-left to bottom-right diagonal)"),
    6: (lambda a: np.rot90(a, -1), "turned a quarter clockwise"),
    7: (lambda a: a.swapaxes(0, 1)[::-1, ::-1], "transposed (mirrored about its top-right to bottom-left diagonal)"),
    8: (lambda a: np.rot90(a, 1), "turned a quarter anticlockwise"),
}


def _exif_orientation(im: Any) -> int:
    """The EXIF Orientation of an opened Pillow image: 1 (as stored) when absent, unknown or unreadable."""
    try:
        value = int(im.getexif().get(0x0112, 1))
    except Exception:  # a damaged EXIF block: the picture itself may be fine, read as stored
        return 1
    return value if value in _TURNS else 1


def _pillow_header(path: Path, fmt: str) -> tuple[int, int, int, bool, bool, int]:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as im:
            cols, rows = im.size
            mode, pil_format = im.mode, im.format
            orientation = _exif_orientation(im)
    except Image.DecompressionBombError as exc:  # Pillow refuses > 179 Mpx at open: said as the reader says it
        pixels = re.search(r"\((\d+) pixels\)", str(exc))
        size = f"{int(pixels.group(1)) / 1e6:.0f} Mpx" if pixels else "the image"
        raise LoadError(path, f"{size} is far larger than a mammogram (the largest are ~40 Mpx); not read") from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
        if (err := unreadable(path, exc)) is not None:  # (not "corrupt")
            raise err from None
        if fmt in _SITK_FALLBACK:
            _refuse_truncated(path, fmt, exc)  # SimpleITK would read the missing part as zeros, without a word
            return (*_sitk_header(path, exc), 1)
        raise LoadError(path, f"corrupt {fmt} ({_reason(exc, path)})") from None
    if mode in ("L", "P", "1", "LA", "PA"):
        bits, signed = 8, False
    elif mode.startswith("I;16"):
        bits, signed = 16, False
    elif mode == "I" and pil_format in ("PNG", "PPM"):
        bits, signed = 16, False  # Pillow's 32-bit mode for 16-bit PNG samples
    elif mode in ("I", "F"):
        bits, signed = 32, True
    else:  # RGB, RGBA, CMYK, YCbCr...
        bits, signed = 8, False
    colour = mode not in ("L", "1", "LA", "I", "F") and not mode.startswith("I;16")
    if orientation >= 5:  # a quarter turn or a transpose: the rows become the columns
        rows, cols = cols, rows
    return rows, cols, bits, signed, colour, orientation


def _pillow_pixels(path: Path, fmt: str) -> tuple[npt.NDArray[np.generic], int]:
    """The stored rows as the file holds them (not yet turned) and the EXIF Orientation that asks for a turn."""
    from PIL import Image

    try:
        with Image.open(path) as im:
            orientation = _exif_orientation(im)
            if im.mode in ("P", "PA", "CMYK", "YCbCr", "LAB", "HSV"):
                arr = np.asarray(im.convert("RGB"))
            elif im.mode == "1":
                arr = np.asarray(im.convert("L"))
            else:
                arr = np.asarray(im)
    except Exception as exc:  # truncated data raises OSError; exotic TIFFs others
        if (err := unreadable(path, exc)) is not None:  # (not "cannot decode")
            raise err from None
        _refuse_truncated(path, fmt, exc)  # said first; SimpleITK would read the missing part as zeros, without a word
        if fmt in _SITK_FALLBACK:
            try:
                return _sitk_pixels(path), 1
            except LoadError:
                pass
        raise LoadError(path, f"cannot decode {fmt} ({_reason(exc, path)})") from None
    if not arr.dtype.isnative:  # Pillow's "I;16B" (big-endian TIFF/PNM) arrives as >u2
        arr = arr.astype(arr.dtype.newbyteorder("="))
    if arr.dtype == np.int32 and arr.size and arr.min() >= 0 and arr.max() <= 65535:
        arr = arr.astype(np.uint16)  # Pillow's "I" mode for 16-bit data
    if arr.ndim == 3 and arr.shape[-1] == 2:  # grey + alpha
        arr = arr[..., 0]
    return np.ascontiguousarray(arr), orientation


#: samples per pixel of each PNG colour type (grey, RGB, palette, grey + alpha, RGBA)
_PNG_SAMPLES = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}
#: Adam7's seven passes: (first column, first row, column step, row step) (PNG spec. 8.2)
_ADAM7 = ((0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2))
_INFLATE_STEP = 1 << 22


def png_data_problem(path: Path) -> str | None:
    """Why a PNG's image data do not hold the image its header (IHDR) gives, or None.

    The zlib stream of the IDAT chunks is inflated and counted (not kept): each row is a filter byte and its
    samples (PNG spec. 7.2, 8.2 for interlaced images).  A stream that ends early but properly is decoded by Pillow
    without a word, the missing rows zero; one with more rows than the header gives, cropped.  A stream that
    cannot be inflated is left to Pillow to report.
    """
    inflate, inflated, header = zlib.decompressobj(), 0, b""
    with open(path, "rb") as f:
        f.seek(8)
        while not inflate.eof and len(head := f.read(8)) == 8:
            length, kind = struct.unpack(">I4s", head)
            if kind == b"IHDR":
                header = f.read(length)
            elif kind == b"IDAT":
                for start in range(0, length, _INFLATE_STEP):
                    try:
                        inflated += _inflated_size(inflate, f.read(min(_INFLATE_STEP, length - start)))
                    except zlib.error:
                        return None
            elif kind == b"IEND":
                break
            else:
                f.seek(length, os.SEEK_CUR)
            f.seek(4, os.SEEK_CUR)  # (its CRC)
    if len(header) < 13:
        return None
    cols, rows, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", header[:13])
    bits = depth * _PNG_SAMPLES.get(colour, 1)
    if interlace:
        passes = [(-(-(cols - x0) // dx), -(-(rows - y0) // dy)) for x0, y0, dx, dy in _ADAM7]
        expected = sum(h * (1 + (w * bits + 7) // 8) for w, h in passes if w > 0 and h > 0)
    else:
        expected = rows * (1 + (cols * bits + 7) // 8)
    row_bytes = 1 + (cols * bits + 7) // 8
    if inflated < expected:
        held = (f"end after {inflated // row_bytes} of its {rows} rows" if not interlace else
                f"hold {inflated} of the {expected} bytes of its {cols} x {rows} interlaced image")  # fmt: skip
        return f"truncated: the PNG's image data (IDAT) {held} (the file was cut short or damaged)"
    if inflated - expected >= row_bytes:  # (less than a row more: padding, which libpng lets pass too)
        held = f" ({inflated // row_bytes} rows)" if not interlace else ""
        return (f"the PNG's image data (IDAT) hold {inflated} bytes{held}, more than the {expected} of the {cols} x "
                f"{rows} image its header (IHDR) gives: its height or width is wrong")  # fmt: skip
    return None


def _png_interlaced(path: Path) -> bool:
    """The PNG's IHDR says Adam7 (its interlace method byte, at offset 28 after the signature and IHDR's head)."""
    with open(path, "rb") as f:
        head = f.read(29)
    return len(head) == 29 and head[12:16] == b"IHDR" and head[28] != 0


def _inflated_size(inflate: Any, data: bytes) -> int:
    """Bytes ``data`` inflate to through ``inflate`` (a zlib decompressor), at most 4 MiB held at a time."""
    size = 0
    while not inflate.eof:
        out = inflate.decompress(data, _INFLATE_STEP)
        size += len(out)
        data = inflate.unconsumed_tail
        if not data and len(out) < _INFLATE_STEP:
            break
    return size


def _refuse_truncated(path: Path, fmt: str, exc: BaseException) -> None:
    """A LoadError when Pillow's failure was a truncated file (Pillow says so; a BMP's own header gives its size),
    before the SimpleITK fallback, which reads the missing rows of a truncated BMP as zeros."""
    if "truncated" in str(exc).lower():
        raise LoadError(path, f"truncated {fmt} ({_reason(exc, path)})")
    if fmt == "BMP":
        with open(path, "rb") as f:
            head = f.read(6)
        size = os.path.getsize(path)
        declared = int.from_bytes(head[2:6], "little") if len(head) == 6 else 0
        if len(head) < 6 or size < declared:
            raise LoadError(path, f"truncated: the BMP holds {size} of the {declared or 'its header'} bytes its header "
                                  "gives")  # fmt: skip


def _sitk_header(path: Path, first_error: BaseException) -> tuple[int, int, int, bool, bool]:
    sitk: Any = importlib.import_module("SimpleITK")  # untyped; imported only when Pillow fails

    reader = sitk.ImageFileReader()
    reader.SetFileName(os.fspath(path))
    try:
        reader.ReadImageInformation()
    except RuntimeError:
        raise LoadError(path, f"not a readable image ({_reason(first_error, path)})") from None
    size = reader.GetSize()
    if len(size) != 2:
        raise LoadError(path, f"expected a 2-D image, got size {size}")
    pixel = str(sitk.GetPixelIDValueAsString(reader.GetPixelID()))
    bits = 16 if "16" in pixel else 32 if ("32" in pixel or "float" in pixel) else 8
    return (
        int(size[1]),
        int(size[0]),
        bits,
        "signed" in pixel and "unsigned" not in pixel,
        reader.GetNumberOfComponents() > 1,
    )


def _sitk_pixels(path: Path) -> npt.NDArray[np.generic]:
    sitk: Any = importlib.import_module("SimpleITK")  # untyped; imported only when Pillow fails

    try:
        arr = sitk.GetArrayFromImage(sitk.ReadImage(os.fspath(path)))
    except RuntimeError as exc:
        raise LoadError(path, f"cannot decode image ({' '.join(str(exc).split())[:160]})") from None
    return np.ascontiguousarray(arr)


def _reason(exc: BaseException, path: Path) -> str:
    """One line from an exception, without repeating the path the LoadError already names."""
    text = " ".join(str(exc).replace(f"'{path}'", "").replace(str(path), "").split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _pnm_header(path: Path) -> tuple[int, int, int, int, int, bool]:
    """Netpbm header: (rows, cols, maxval, channels, data offset, ascii)."""
    with open(path, "rb") as f:
        data = f.read(4096)
    magic = data[:2]
    tokens: list[bytes] = []
    pos = 2
    while len(tokens) < 3 and pos < len(data):
        c = data[pos : pos + 1]
        if c == b"#":
            nl = data.find(b"\n", pos)
            pos = len(data) if nl < 0 else nl + 1
        elif c in (b" ", b"\t", b"\r", b"\n"):
            pos += 1
        else:
            end = pos
            while end < len(data) and data[end : end + 1] not in (b" ", b"\t", b"\r", b"\n", b"#"):
                end += 1
            tokens.append(data[pos:end])
            pos = end
    try:
        cols, rows, maxval = (int(t) for t in tokens)
    except ValueError:
        raise LoadError(path, "corrupt PGM/PPM header") from None
    if not (rows > 0 and cols > 0 and 0 < maxval < 65536):
        raise LoadError(path, f"corrupt PGM/PPM header ({cols} x {rows}, maxval {maxval})")
    channels = 3 if magic in (b"P6", b"P3") else 1
    return rows, cols, maxval, channels, pos + 1, magic in (b"P2", b"P3")


def _pnm_pixels(path: Path) -> npt.NDArray[np.generic]:
    rows, cols, maxval, channels, offset, ascii_ = _pnm_header(path)
    dtype = np.dtype(np.uint8) if maxval < 256 else np.dtype(">u2")  # Netpbm: 16-bit samples are big-endian
    count = rows * cols * channels
    with open(path, "rb") as f:
        f.seek(offset)
        raw = f.read()
    if ascii_:
        values = np.array(raw.split(), dtype=np.int64)
        if values.size < count:
            raise LoadError(path, f"truncated: {values.size} of {count} PGM/PPM samples")
        values = values[:count]
        if values.size and (values.min() < 0 or values.max() > maxval):  # would wrap round in the integer type
            raise LoadError(path, f"PGM/PPM samples {values.min()}..{values.max()} outside 0..{maxval} (its maxval)")
        arr = values.astype(np.uint8 if maxval < 256 else np.uint16)
    else:
        if len(raw) < count * dtype.itemsize:
            raise LoadError(path, f"truncated: {len(raw)} of {count * dtype.itemsize} PGM/PPM bytes")
        arr = np.frombuffer(raw, dtype=dtype, count=count).astype(dtype.newbyteorder("="))
        if arr.size and int(arr.max()) > maxval:  # the bit depth and the window come of maxval: read as the ASCII form
            raise LoadError(path, f"PGM/PPM samples {arr.min()}..{arr.max()} outside 0..{maxval} (its maxval)")
    shape = (rows, cols, channels) if channels > 1 else (rows, cols)
    return arr.reshape(shape)
