"""A quick first picture of a JPEG 2000 mammogram: its reduced-resolution layers, decoded in a tenth of the time.

A JPEG 2000 codestream holds its image as wavelet resolution levels, so a decoder can stop ``reduce`` levels
short of the full size (ISO/IEC 15444-1, annex F; OpenJPEG's ``cp_reduce``): Pillow (already a dependency
through scikit-image) decodes a 4736 x 2624 full-field view at a quarter of each side (``reduce=2``) in ~0.1 s,
against ~1.1-1.5 s for the whole image (holding the interpreter lock meanwhile: the viewer runs it in its load
helper processes, :func:`reduced_levels` there, :func:`preview_image` here).  A viewer opening a
study that a PACS exported in JPEG 2000 shows these pixels first, enlarged to the stored grid, and swaps in the
full decode when it lands (``mammoview.gui.loader``): the reader sees the study in about a second instead of
3.4-5.4 (``benchmarks/bench_load.py --recompress j2k``), and every coordinate (marks, measurements, overlays) is already
the stored grid's.

A preview is never what the CAD reads or an export shows: the viewer waits for the full pixels for those.
Only what the preview can stand in for exactly is previewed: a single-frame, single-sample, unsigned DICOM
image in one of the two JPEG 2000 transfer syntaxes (1.2.840.10008.1.2.4.90 / .91), large enough to gain.
"""

from __future__ import annotations

import io
from dataclasses import replace

import numpy as np
import numpy.typing as npt
import pydicom
from pydicom.encaps import get_frame
from pydicom.uid import JPEG2000, JPEG2000Lossless

from mammoview.io.model import ImageInfo, LoadError, MammoImage
from mammoview.io.orientation import display_transform

#: resolution levels left out of the preview: 2 = a quarter of each side, 1/16 of the pixels
PREVIEW_REDUCE = 2

#: images with fewer pixels decode in full fast enough (~0.1 s for 1.5 Mpx): not previewed
PREVIEW_MIN_PIXELS = 2_000_000

_SYNTAXES = frozenset({JPEG2000Lossless.name, JPEG2000.name})


def previewable(info: ImageInfo) -> bool:
    """Whether the viewer shows ``info`` first as a preview: :func:`decode_preview` can make one, and the image is
    large enough to gain from it."""
    return reducible(info) and info.rows * info.columns >= PREVIEW_MIN_PIXELS


def reducible(info: ImageInfo) -> bool:
    """Whether :func:`decode_preview` can give ``info``'s first picture (see the module's text)."""
    return (info.file_format == "DICOM" and info.transfer_syntax in _SYNTAXES and info.frames == 1
            and info.photometric in ("MONOCHROME1", "MONOCHROME2") and not info.chain.signed
            and info.chain.bits_stored <= 16)  # fmt: skip


def decode_preview(info: ImageInfo, reduce: int = PREVIEW_REDUCE) -> MammoImage:
    """The image of ``info`` from its codestream's coarser levels, enlarged (each pixel repeated) to the stored
    grid: the same shape, type and display transform as :func:`mammoview.io.decode` gives, blurred.

    Raises
    ------
    LoadError
        Not previewable, or the reduced decode failed (the full decode may still work, or say why not).
    """
    return preview_image(info, reduced_levels(info, reduce), reduce)


def reduced_levels(info: ImageInfo, reduce: int = PREVIEW_REDUCE) -> npt.NDArray[np.generic]:
    """The stored values of ``info``'s codestream ``reduce`` resolution levels short of the full size (the part of
    :func:`decode_preview` that holds the interpreter lock, ~0.1 s a full-field view: the viewer runs it in a
    helper process).  Raises LoadError as :func:`decode_preview` does."""
    if not reducible(info):
        raise LoadError(info.path, "no preview: not a single-frame greyscale JPEG 2000 DICOM image")
    if (changed := info.changed_on_disk()) is not None:  # (the full decode, asked for next, says it)
        raise LoadError(info.path, f"no preview: {changed}")
    from PIL import Image

    try:
        ds = pydicom.dcmread(info.path, force=True)
        bits, samples = int(ds.get("BitsAllocated", 0)), int(ds.get("SamplesPerPixel", 1))
        frame = get_frame(ds.PixelData, 0, number_of_frames=1)
        with Image.open(io.BytesIO(frame)) as im:
            im.reduce = reduce  # type: ignore[method-assign,assignment]  # OpenJPEG decodes only the levels it leaves
            im._size = pillow_size(im.size, reduce)
            im.load()
            coarse = np.asarray(im)
    except Exception as exc:  # whatever Pillow or pydicom raise on a codestream they cannot read
        raise LoadError(info.path, f"no preview ({type(exc).__name__}: {exc})") from None
    precision = codestream_precision(frame)
    if bits not in (8, 16) or samples != 1 or precision is None or not 0 < precision <= bits:
        raise LoadError(info.path, f"no preview: {bits} bits allocated, {samples} samples per pixel, codestream "
                                   f"precision {precision}")  # fmt: skip
    if coarse.ndim != 2 or coarse.dtype not in (np.uint8, np.uint16):
        raise LoadError(info.path, f"no preview: the reduced decode gave {coarse.dtype} {coarse.shape}")
    if codestream_signed(frame):  # Pillow offsets signed samples by half their range, pydicom keeps their bits
        raise LoadError(info.path, "no preview: the codestream's samples are signed, the header's unsigned")
    # Pillow scales samples to its mode's range (a 12-bit codestream in "I;16" comes back shifted up by 4 bits,
    # its Jpeg2KDecode.c j2ku_gray_i): shifted back, as pydicom's decoders give the samples as coded
    coarse = coarse >> (8 * coarse.dtype.itemsize - precision)
    if precision > info.chain.bits_stored and int(coarse.max()) >= 1 << info.chain.bits_stored:
        # values beyond Bits Stored: the full decode brings them into its range (mammoview.io.stored_bits), which
        # the reduced levels, averages of them, cannot follow; no preview that would differ from that decode
        raise LoadError(info.path, f"no preview: codestream precision {precision}, values beyond the "
                                   f"{info.chain.bits_stored} bits stored")  # fmt: skip
    return coarse.astype(np.uint8 if bits == 8 else np.uint16, copy=False)  # pydicom's type for the full decode


def pillow_size(size: tuple[int, int], reduce: int) -> tuple[int, int]:
    """The full size to give a Pillow JPEG 2000 image before loading it at ``reduce``, so that the size it
    computes for that level is OpenJPEG's, ceil(N / 2**reduce) (ISO/IEC 15444-1 B.5).

    Pillow (10 to 12 at least, ``Jpeg2KImageFile.load``) rounds, int((N + 2**reduce / 2) / 2**reduce): at
    ``reduce`` 2 a side of 4n + 1 samples became n, OpenJPEG decoded n + 1, and the load failed ("broken data
    stream"). Sides where the rounding falls short get what brings it up to the ceiling; the others are kept, so
    a Pillow that computes the ceiling itself gets the same.
    """
    power, adjust = 1 << reduce, (1 << reduce) >> 1

    def side(n: int) -> int:
        want = -(-n // power)
        return next(m for m in range(n, n + power) if int((m + adjust) / power) == want)

    return side(size[0]), side(size[1])


def preview_outcome(info: ImageInfo, reduce: int = PREVIEW_REDUCE) -> npt.NDArray[np.generic] | LoadError:
    """:func:`reduced_levels` for a helper process: a LoadError is returned (one raised there would not pickle)."""
    try:
        return reduced_levels(info, reduce)
    except LoadError as err:
        return err


def preview_image(info: ImageInfo, coarse: npt.NDArray[np.generic], reduce: int = PREVIEW_REDUCE) -> MammoImage:
    """:func:`reduced_levels`' ``coarse`` samples enlarged to ``info``'s stored grid, with its display transform."""
    try:
        stored = enlarge(coarse, 2**reduce, (info.rows, info.columns))
    except ValueError as exc:
        raise LoadError(info.path, f"no preview: {exc}") from None
    image = MammoImage(info, stored)
    return replace(image, display=display_transform(image))


def codestream_precision(data: bytes) -> int | None:
    """Bits per sample of the first component of a JPEG 2000 codestream (a JP2 file's too), from its SIZ marker
    segment (ISO/IEC 15444-1 A.5.1: Ssiz, bit depth - 1 in its low 7 bits); None where there is none."""
    ssiz = _ssiz(data)
    return None if ssiz is None else (ssiz & 0x7F) + 1


def codestream_signed(data: bytes) -> bool:
    """Whether the first component's samples are signed (Ssiz's high bit; see :func:`codestream_precision`)."""
    ssiz = _ssiz(data)
    return ssiz is not None and bool(ssiz & 0x80)


def _ssiz(data: bytes) -> int | None:
    start = data.find(b"\xff\x4f\xff\x51")  # SOC then SIZ: where the codestream begins
    ssiz = start + 42  # SOC, SIZ, Lsiz, Rsiz, 8 four-byte sizes and offsets, Csiz
    if start < 0 or len(data) <= ssiz:
        return None
    return data[ssiz]


def enlarge(coarse: npt.NDArray[np.generic], factor: int, shape: tuple[int, int]) -> npt.NDArray[np.generic]:
    """``coarse`` with each pixel repeated ``factor`` x ``factor`` times, cut to ``shape``.

    JPEG 2000's level r of an image of N samples holds ceil(N / 2**r) of them, so the repeated grid covers the
    stored one and its last row/column is cut; a decode of another size is an error.
    """
    rows, cols = shape
    need = (-(-rows // factor), -(-cols // factor))
    if coarse.shape != need:
        raise ValueError(f"reduced decode {coarse.shape}, expected {need} for {rows} x {cols} at 1/{factor}")
    return np.repeat(np.repeat(coarse, factor, axis=0)[:rows], factor, axis=1)[:, :cols]


__all__ = [
    "PREVIEW_MIN_PIXELS",
    "PREVIEW_REDUCE",
    "codestream_precision",
    "codestream_signed",
    "decode_preview",
    "enlarge",
    "pillow_size",
    "preview_image",
    "preview_outcome",
    "previewable",
    "reduced_levels",
    "reducible",
]
