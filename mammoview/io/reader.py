"""One file in, typed values out: :func:`read_info` (header) and :func:`read_image` (pixels).

Every problem becomes a :class:`LoadError` naming the file with a one-line reason; the
warnings that pydicom, Pillow or numpy raise while reading are routed to that file's
``ImageInfo.warnings`` (per thread, so :func:`mammoview.io.load_study` can decode in a
pool) instead of escaping to the console.
"""

from __future__ import annotations

import math
import threading
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any, TextIO, TypeVar

import numpy as np
import numpy.typing as npt

from mammoview.io import dicom, raster
from mammoview.io.chain_model import ModalityTransform
from mammoview.io.header_model import PixelSpacing
from mammoview.io.model import DisplayTransform, ImageInfo, LoadError, MammoImage, NotAnImage, StudyInfo
from mammoview.io.orientation import display_transform

_T = TypeVar("_T")
SpacingOption = float | tuple[float, float] | PixelSpacing | None

#: Names tried as DICOM even without the "DICM" prefix (legacy files), besides no suffix.
DICOM_SUFFIXES = frozenset({".dcm", ".dicom", ".dic", ".ima", ".dc3"})
#: Suffixes of the raster formats read: such a file whose bytes announce none of them is a damaged image
RASTER_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".jpe", ".tif", ".tiff", ".pgm", ".ppm", ".pnm", ".bmp"})
SPACING_OPTION_SOURCE = "--pixel-spacing option"


def spacing_option(value: SpacingOption) -> PixelSpacing | None:
    """The ``pixel_spacing`` argument as a :class:`PixelSpacing` (a tuple is (row_mm, col_mm)).

    Raises
    ------
    ValueError
        Not positive, or not one or two numbers.
    """
    if value is None or isinstance(value, PixelSpacing):
        return value
    if isinstance(value, (int, float)):
        return PixelSpacing(float(value), float(value), SPACING_OPTION_SOURCE)
    row, col = value
    return PixelSpacing(float(row), float(col), SPACING_OPTION_SOURCE)


def parse_spacing(text: str) -> float | tuple[float, float]:
    """``"0.2"`` -> 0.2, ``"0.29,0.18"`` (or ``0.29x0.18``, or DICOM's own ``0.29\\0.18`` as a header dump shows
    PixelSpacing) -> (0.29, 0.18) (row, column), all > 0.

    Raises
    ------
    ValueError
        Not one or two positive numbers; the message says what is expected.
    """
    try:
        values = [float(v) for v in text.replace("x", ",").replace("\\", ",").split(",")]
    except ValueError:
        raise ValueError(f"not a number or ROW,COL pair: {text!r}") from None
    if len(values) not in (1, 2) or not all(v > 0 and math.isfinite(v) for v in values):
        raise ValueError(f"pixel spacing must be MM or ROW,COL with finite values > 0, got {text!r}")
    return values[0] if len(values) == 1 else (values[0], values[1])


def format_spacing(pixel_spacing: SpacingOption, sep: str = ",") -> str:
    """What :func:`parse_spacing` reads back: ``"0.2"``, ``"0.29,0.177"`` (``sep`` between row and column); ``""``
    for None."""
    sp = spacing_option(pixel_spacing)
    if sp is None:
        return ""
    return f"{sp.row_mm:g}" if sp.row_mm == sp.col_mm else f"{sp.row_mm:g}{sep}{sp.col_mm:g}"


def with_spacing(study: StudyInfo, pixel_spacing: SpacingOption) -> StudyInfo:
    """``study`` with ``pixel_spacing`` for the images whose files carry none (as if scanned with it).

    Images with their own spacing keep it; an earlier option's spacing is replaced (``None``:
    no spacing, the CAD guesses again).
    """
    given = spacing_option(pixel_spacing)
    images = tuple(
        _respaced(i, given) if i.spacing is None or i.spacing.source == SPACING_OPTION_SOURCE else i
        for i in study.images
    )
    return replace(study, images=images) if images != study.images else study


def _respaced(info: ImageInfo, spacing: PixelSpacing | None) -> ImageInfo:
    """``info`` with ``spacing``, and the warning about its size in mm for that spacing (not the last one's)."""
    before = info.extent_problem()
    new = replace(info, spacing=spacing)
    warnings = tuple(w for w in new.warnings if w != before)
    if (problem := new.extent_problem()) is not None:
        warnings += (problem,)
    return replace(new, warnings=warnings) if warnings != info.warnings else new


def sniff(path: Path) -> str | None:
    """The format a file's first bytes announce: "DICOM", "PNG", "JPEG", "TIFF", "PGM"..., or None."""
    with open(path, "rb") as f:
        head = f.read(132)
    if dicom.has_dicom_preamble(head):
        return "DICOM"
    fmt = raster.raster_format(head)
    if fmt is not None:
        return fmt
    if (path.suffix.lower() in DICOM_SUFFIXES or not path.suffix) and _starts_like_dicom(head):
        return "DICOM"  # maybe a DICOM file without preamble; read_dicom_info decides
    return None


def _may_be_an_image(path: Path) -> bool:
    """Whether a file whose bytes announce no format is named like an image, so a damaged one: a DICOM or raster
    suffix, none (DICOM files often have none), or a number (files named by their UID, ``1.2.840.113619.2.55.3``).
    Any other name (``notes.dat``) is no image."""
    suffix = path.suffix.lower()
    return not suffix or suffix in DICOM_SUFFIXES or suffix in RASTER_SUFFIXES or suffix[1:].isdecimal()


def _starts_like_dicom(head: bytes) -> bool:
    """Whether a file without the DICM preamble begins with a data element as legacy (ACR-NEMA style) files do: the
    group of File Meta (0002) or of identification (0008), in either byte order.  Anything else (a README without an
    extension, a file of zeros) is no image, said at once instead of parsed as DICOM to its end."""
    return len(head) >= 8 and head[:2] in (b"\x02\x00", b"\x08\x00", b"\x00\x02", b"\x00\x08")


def read_info(path: str | Path, pixel_spacing: SpacingOption = None) -> ImageInfo:
    """Header of one image file, without decoding its pixels.

    Parameters
    ----------
    path : str or Path
        A DICOM, PNG, JPEG, PGM, TIFF or BMP file.
    pixel_spacing : float or (row_mm, col_mm), optional
        Spacing for files that carry none (rasters, DICOMs without spacing tags);
        reported with the source "--pixel-spacing option".

    Returns
    -------
    ImageInfo

    Raises
    ------
    LoadError
        For any problem, with a one-line reason.
    """
    p = Path(path)
    spacing = spacing_option(pixel_spacing)
    with captured_warnings() as caught:
        info = _guarded(p, lambda: _read_info(p, spacing))
    if (problem := info.extent_problem()) is not None:  # a spacing in the wrong unit, a typo: said, not silent
        caught.append(problem)
    return _with_warnings(info, caught)


def read_image(path: str | Path, pixel_spacing: SpacingOption = None) -> MammoImage:
    """Header and pixels of one image file, with its display transform.

    Parameters
    ----------
    path : str or Path
        The file.
    pixel_spacing : float or (row_mm, col_mm), optional
        See :func:`read_info`.

    Returns
    -------
    MammoImage
        ``stored`` keeps the file's integer type; ``display`` is set.

    Raises
    ------
    LoadError
        For any problem, with a one-line reason.
    """
    return decode(read_info(path, pixel_spacing))


def decode(info: ImageInfo) -> MammoImage:
    """Decode the pixels of a file whose header was read, and compute its display transform.

    Raises
    ------
    LoadError
        Decoding failed.
    """
    return _checked(info, lambda: _decode(info))


def decode_frame(image: MammoImage, frame: int) -> MammoImage:
    """Another frame of a multi-frame DICOM image (a tomosynthesis slice): the same header and display
    transform (every slice of a volume hangs the same way), the pixels of ``frame`` (0-based), read with that
    frame's own rescale and window where the frames differ (``ImageInfo.frame_chains``: the Pixel Value
    Transformation and Frame VOI LUT of the Per-Frame Functional Groups, PS3.3 C.7.6.16.2.9-10).

    Raises
    ------
    LoadError
        Not a multi-frame DICOM image, no such frame, or the frame cannot be decoded.
    """
    info = image.info
    if info.file_format != "DICOM" or info.frames < 2:
        raise LoadError(info.path, "a single image: it has no other frames")
    if 0 <= frame < len(info.frame_chains) and info.frame_chains[frame] is not info.chain:
        info = replace(info, chain=info.frame_chains[frame])

    return _checked(info, lambda: MammoImage(info, _pixels(info, frame), image.display, frame))


def decode_outcome(
    info: ImageInfo,
) -> tuple[npt.NDArray[np.generic], ImageInfo, DisplayTransform] | LoadError:
    """:func:`decode`'s pixels, info and display transform for a helper process: the outcome is returned, a
    LoadError too (a dataclass image would come back without its read-only pixels)."""
    try:
        image = decode(info)
    except LoadError as err:
        return err
    return np.asarray(image.stored), image.info, image.display


def frame_outcome(info: ImageInfo, frame: int) -> tuple[npt.NDArray[np.generic], ImageInfo] | LoadError:
    """:func:`decode_frame`'s pixels and info (with the decoder's warnings) for a helper process: the outcome is
    returned, a LoadError too (one raised there would not come back: it does not pickle)."""
    try:
        image = decode_frame(MammoImage(info, np.zeros((1, 1), np.uint8)), frame)
    except LoadError as err:
        return err
    return np.asarray(image.stored), image.info


#: Images larger than this are refused at the header: mammograms are at most ~40 Mpx (a 24 x 30 cm film
#: digitised at 43.5 um); the viewer holds ~10 bytes per pixel (stored, presentation, display).
MAX_IMAGE_PIXELS = 150_000_000


def _read_info(path: Path, spacing: PixelSpacing | None) -> ImageInfo:
    if not path.exists():
        raise LoadError(path, "no such file")
    if path.is_dir():
        raise LoadError(path, "is a folder, not a file")
    if not path.is_file():  # a pipe, socket or device: reading it could wait forever or never end
        raise LoadError(path, "is not a regular file (a pipe, socket or device)")
    st = path.stat()  # before the header is read: a file rewritten from here on is not decoded with it
    fmt = sniff(path)
    if fmt is None:
        reason = "not an image (neither DICOM nor PNG/JPEG/PGM/TIFF)"
        if st.st_size == 0:  # a copy that never got its bytes (a full disk, a stopped transfer): say so
            reason = "an empty file (0 bytes), not an image"
        if not _may_be_an_image(path):  # inside a folder skipped as a note is (10,000 `.dat` files were 10,000 errors)
            raise NotAnImage(path, reason)
        raise LoadError(path, reason)
    info = dicom.read_dicom_info(path, spacing) if fmt == "DICOM" else raster.read_raster_info(path, fmt, spacing)
    info = replace(info, stamp=(st.st_size, st.st_mtime_ns))
    pixels = info.rows * info.columns
    if pixels > MAX_IMAGE_PIXELS:  # refused before decoding: the viewer would need several GB for it
        raise LoadError(
            path,
            f"{info.rows} x {info.columns} px ({pixels / 1e6:.0f} Mpx) is far larger than a mammogram (the largest "
            f"are ~40 Mpx); not read (decoded for display it would take ~{pixels * 10 / 2**30:.0f} GB)",
        )
    return info


def _decode(info: ImageInfo) -> MammoImage:
    stored = _pixels(info)
    if stored.dtype.kind == "f":
        stored, info = _float_as_steps(info, stored)
    image = MammoImage(info, stored)
    return replace(image, display=display_transform(image))


def _float_as_steps(info: ImageInfo, stored: npt.NDArray[np.generic]) -> tuple[npt.NDArray[np.uint16], ImageInfo]:
    """A floating-point image (a float TIFF, e.g. normalised to [0, 1]) as 65536 steps over its range, with a
    rescale that gives its values back: the viewer draws integer levels (a float image was truncated to a few
    integers there: a black picture) and the CAD reads the same picture as the viewer shows."""
    lo, hi = float(np.min(stored)), float(np.max(stored))
    step = (hi - lo) / 65535.0 if hi > lo else 1.0
    steps = np.empty(stored.shape, dtype=np.uint16)
    for r in range(0, stored.shape[0], 512):  # in row chunks: no full-size float64 temporary
        chunk = (np.asarray(stored[r : r + 512], dtype=np.float64) - lo) / step
        steps[r : r + 512] = np.clip(np.rint(chunk), 0, 65535)
    source = f"floating-point pixels {lo:g} to {hi:g}, read as 65536 steps"
    chain = replace(info.chain, bits_stored=16, signed=False,
                    modality=ModalityTransform(slope=step, intercept=lo, source=source))  # fmt: skip
    warning = f"floating-point pixels ({lo:g} to {hi:g}): read as 65536 steps of {step:g}"
    return steps, replace(info, chain=chain, warnings=(*info.warnings, warning))


def _pixels(info: ImageInfo, frame: int = 0) -> npt.NDArray[np.generic]:
    """Stored values of ``frame`` in an integer or float type (booleans as uint8)."""
    stored = dicom.read_dicom_pixels(info, frame) if info.file_format == "DICOM" else raster.read_raster_pixels(info)
    if stored.dtype.kind == "f" and not np.isfinite(stored).all():
        bad = int(np.count_nonzero(~np.isfinite(stored)))
        raise LoadError(info.path, f"{bad} pixel value(s) are NaN or infinite: not an image to show or analyse")
    return stored if stored.dtype.kind in "uif" else stored.astype(np.uint8)


def _checked(info: ImageInfo, fn: Callable[[], MammoImage]) -> MammoImage:
    """Run a decode: anything failing becomes a LoadError, and the warnings it raised go with the image."""
    if (changed := info.changed_on_disk()) is not None:
        raise LoadError(info.path, changed)
    with captured_warnings() as caught:
        image = _guarded(info.path, fn)
    return image.with_info(_with_warnings(image.info, caught)) if caught else image


def _guarded(path: Path, fn: Callable[[], _T]) -> _T:
    """Run ``fn``; anything but a LoadError becomes one (never a traceback for a bad file)."""
    try:
        return fn()
    except LoadError:
        raise
    except MemoryError:
        raise LoadError(path, "not enough memory to read the image") from None
    except OSError as exc:
        raise LoadError(path, f"cannot read: {exc.strerror or exc}") from None
    except BaseException as exc:  # any error, also a panic of a decoder written in Rust (pyo3's PanicException)
        if isinstance(exc, dicom.NOT_ERRORS):
            raise
        text = " ".join(str(exc).split())[:200]
        raise LoadError(path, f"{type(exc).__name__}: {text}") from None


def _with_warnings(info: ImageInfo, caught: list[str]) -> ImageInfo:
    new = [w for w in dict.fromkeys(caught) if w not in info.warnings]
    return replace(info, warnings=(*info.warnings, *new)) if new else info


# --- warnings, routed per thread --------------------------------------------------------

_local = threading.local()
_lock = threading.Lock()
_depth = 0
_saved: tuple[list[Any], Callable[..., Any]] | None = None


@contextmanager
def captured_warnings() -> Iterator[list[str]]:
    """Collect ``warnings.warn`` messages raised in this thread into a list.

    ``warnings.catch_warnings`` swaps process-wide state and is not thread-safe; here
    one hook is installed while any thread captures, and it files each warning under
    the thread that raised it.  Threads not capturing see the previous behaviour
    (their warnings are shown, not turned into errors, during that time).
    """
    global _depth, _saved
    bucket: list[str] = []
    outer = getattr(_local, "bucket", None)
    _local.bucket = bucket
    with _lock:
        if _depth == 0:
            _saved = (list(warnings.filters), warnings.showwarning)
            warnings.simplefilter("always")
            warnings.showwarning = _route
        _depth += 1
    try:
        yield bucket
    finally:
        _local.bucket = outer
        if outer is not None:
            outer.extend(bucket)
        with _lock:
            _depth -= 1
            if _depth == 0 and _saved is not None:
                warnings.resetwarnings()  # also invalidates the "already warned" caches
                warnings.filters = _saved[0]
                warnings.showwarning = _saved[1]
                _saved = None


def _route(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    file: TextIO | None = None,
    line: str | None = None,
) -> None:
    bucket = getattr(_local, "bucket", None)
    if bucket is not None:
        bucket.append(f"{category.__name__}: {' '.join(str(message).split())}")
    elif _saved is not None:
        _saved[1](message, category, filename, lineno, file, line)
