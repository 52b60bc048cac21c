"""DICOM files: header-only info (no pixel decode) and the pixels of one frame (the first, or one asked for).

The header is read with ``stop_before_pixels``; the Pixel Data element is then checked
in place (present, not float, native length or encapsulated items complete) so a
truncated file or one without pixels is reported at scan time, before any decode
(:mod:`mammoview.io.pixel_element`).
Decoding goes through ``pydicom.pixels.pixel_array`` with the installed plugins
(pylibjpeg: RLE, JPEG, JPEG-LS, JPEG 2000), one frame at a time: a tomosynthesis volume is opened at
its first frame and the viewer decodes the others as the reader steps through them.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

import numpy as np
import numpy.typing as npt
import pydicom
from pydicom.encaps import get_frame
from pydicom.errors import InvalidDicomError
from pydicom.pixels.decoders.base import get_decoder
from pydicom.pixels.utils import pixel_array
from pydicom.uid import (
    UID,
    DeflatedExplicitVRLittleEndian,
    HTJ2KLossless,
    HTJ2KLosslessRPCL,
    JPEG2000Lossless,
    JPEGLSLossless,
    RLELossless,
)

from mammoview.io import chain as chain_header
from mammoview.io import header, rle_size, views
from mammoview.io.header_model import PixelSpacing
from mammoview.io.model import ImageInfo, LoadError, NotAnImage
from mammoview.io.pixel_element import check_pixel_element, codestream_kind, int_attr
from mammoview.io.stored_bits import fit_to_bits_stored
from mammoview.io.tags import per_frame_differences

#: the codestreams whose values beyond Bits Stored cannot be a lossy overshoot (ImageInfo.transfer_syntax: names)
LOSSLESS_CODED = frozenset(u.name for u in (JPEG2000Lossless, HTJ2KLossless, HTJ2KLosslessRPCL, JPEGLSLossless))


def has_dicom_preamble(head: bytes) -> bool:
    """PS3.10 7.1: 128-byte preamble followed by "DICM"."""
    return len(head) >= 132 and head[128:132] == b"DICM"


def read_dicom_info(path: Path, pixel_spacing: PixelSpacing | None = None) -> ImageInfo:
    """Header of a DICOM image, without decoding pixels.

    Parameters
    ----------
    path : Path
        The file.
    pixel_spacing : PixelSpacing, optional
        Used only when the file has neither Pixel Spacing nor Imager Pixel Spacing.

    Raises
    ------
    LoadError
        Not DICOM, corrupt or truncated, no (or float) pixel data, unsupported transfer
        syntax or photometric interpretation.
    """
    warnings: list[str] = []
    with open(path, "rb") as fp:
        preamble = has_dicom_preamble(fp.read(132))
        fp.seek(0)
        try:
            ds = pydicom.dcmread(fp, stop_before_pixels=True, force=not preamble)
        except InvalidDicomError as exc:
            raise LoadError(path, f"not an image file: not DICOM ({one_line(exc)})") from None
        except Exception as exc:  # pydicom raises many types for damaged headers
            raise LoadError(path, f"corrupt DICOM header ({type(exc).__name__}: {one_line(exc)})") from None
        if not preamble and ("Rows" not in ds or "Columns" not in ds):
            raise LoadError(path, "not an image file (not DICOM: no DICM prefix or Rows/Columns; not PNG/JPEG/TIFF)")
        if kind := header.non_image_object(ds):
            raise NotAnImage(path, f"not an image: a DICOM {kind} (SOP Class {ds.SOPClassUID})")
        if _is_dicomdir(ds):
            raise NotAnImage(path, f"not an image: a DICOMDIR, the index of a CD, DVD or USB export; open the "
                                   f"folder {path.parent} to read the images it lists")  # fmt: skip
        ts = _transfer_syntax(ds)
        complete = check_pixel_element(path, fp, ds, ts, warnings)
    rows, cols = int_attr(path, ds, "Rows", 0), int_attr(path, ds, "Columns", 0)
    if rows <= 0 or cols <= 0:
        raise LoadError(path, f"(0028,0010)/(0028,0011) Rows x Columns is {rows} x {cols}")
    _check_decodable(path, ts)
    photometric = str(ds.get("PhotometricInterpretation", "") or "").strip().upper()
    samples = int_attr(path, ds, "SamplesPerPixel", 1)
    if photometric.startswith("PALETTE") or photometric in ("ARGB", "CMYK", "HSV"):
        raise LoadError(path, f"(0028,0004) Photometric Interpretation {photometric} is not supported for mammograms")
    if photometric in chain_header.COLOUR_PHOTOMETRICS or samples > 1:
        warnings.append(f"colour image ({photometric}, {samples} samples): converted to grey (luma)")
    # a multi-frame image (a tomosynthesis volume) is no problem of its file: it opens at its first frame, the
    # viewer steps through the others, it hangs behind the 2-D view of its slot and the CAD says it does not run on it
    frames = int_attr(path, ds, "NumberOfFrames", 1) if complete is None else complete
    differ = per_frame_differences(ds) if frames > 1 else []
    # (a rescale or window that differs between frames is read per frame: chain.frame_chains says it)
    if geometry := [k for k in differ if k not in chain_header.FRAME_TRANSFORMS]:
        warnings.append(f"per-frame {', '.join(geometry)} differ between frames: frame 1's are used for every frame")
    modality = str(ds.get("Modality", "") or "").strip().upper()
    if modality != "MG":
        warnings.append(f"(0008,0060) Modality is {modality or 'missing'}, not MG: not a mammogram?")
    meta = header.image_meta(ds)
    if meta.for_processing:
        warnings.append(
            "raw detector image (FOR PROCESSING), not meant for reading: shown as stored, and the CAD "
            "(trained on images for presentation) is unreliable on it; open the FOR PRESENTATION image"
        )
    if meta.close_up:
        warnings.append(
            f"diagnostic close-up: {meta.close_up}; hung behind any whole-breast view of its side and "
            "projection, and the CAD (trained on whole-breast screening views) does not run on it"
        )
    try:
        chain = chain_header.pixel_chain(ds, warnings)
    except (TypeError, ValueError) as exc:  # e.g. Bits Allocated '16A'
        raise LoadError(path, f"invalid Image Pixel attribute ({one_line(exc)})") from None
    frame_chains = chain_header.frame_chains(ds, chain, frames, differ, warnings)
    spacing = header.pixel_spacing(ds, warnings)
    if spacing is None and pixel_spacing is not None:
        spacing = pixel_spacing
    named = [
        ("PatientID (0010,0020)", str(ds.get("PatientID", "") or "")),
        ("PatientName (0010,0010)", str(ds.get("PatientName", "") or "")),
    ]
    laterality, projection = views.decide(ds, path, named)
    warnings.extend(views.conflicts(ds, named, path))
    return ImageInfo(
        path=path,
        file_format="DICOM",
        rows=rows,
        columns=cols,
        laterality=laterality,
        projection=projection,
        spacing=spacing,
        photometric=photometric or "MONOCHROME2",
        transfer_syntax=ts.name if ts.is_transfer_syntax else str(ts),
        chain=chain,
        orientation=header.orientation(ds),
        meta=meta,
        warnings=tuple(warnings),
        frames=frames,
        frame_chains=frame_chains,
    )


#: what a decoder may raise that is no error of the file: passed on, never turned into a LoadError
NOT_ERRORS = (KeyboardInterrupt, SystemExit, GeneratorExit)


def read_dicom_pixels(info: ImageInfo, frame: int = 0) -> npt.NDArray[np.generic]:
    """Stored values of ``frame`` (0-based; the first by default), 2-D, in the file's integer type (colour -> grey
    luma).  Only that frame is decoded (pydicom reads one frame of native or encapsulated data).

    Raises
    ------
    LoadError
        Decoding failed (corrupt or truncated compressed data, missing plugin...), or no such frame.
    """
    if not 0 <= frame < info.frames:
        raise LoadError(info.path, f"no frame {frame + 1}: the image has {info.frames}")
    index = frame if info.frames > 1 else None
    # what the header reader corrected (an invalid Bits Stored, an unknown monochrome Photometric
    # Interpretation, each named in the warnings) is what the decoder is told, else it refuses the file
    fixed: dict[str, Any] = {} if info.photometric in chain_header.COLOUR_PHOTOMETRICS else {
        "bits_stored": info.chain.bits_stored, "photometric_interpretation": info.chain.photometric}  # fmt: skip
    fixed["number_of_frames"] = info.frames  # the file's, or the complete frames of a volume cut off after some
    encoded: Callable[[], bytes] = lambda: _file_frame(info.path, frame, info.frames)  # noqa: E731
    try:
        with open(info.path, "rb") as f:
            preamble = has_dicom_preamble(f.read(132))
        if preamble and info.transfer_syntax != DeflatedExplicitVRLittleEndian.name:
            arr = pixel_array(os.fspath(info.path), index=index, **fixed)
        else:  # a legacy file without File Meta (read whole, with the encoding pydicom guessed), or a deflated one
            ds = pydicom.dcmread(info.path, force=True)  # (dcmread inflates the data set; a path is read as stored)
            _transfer_syntax(ds)
            encoded = lambda: get_frame(ds.PixelData, frame, number_of_frames=info.frames)  # noqa: E731
            arr = pixel_array(ds, index=index, **fixed)
    except LoadError:
        raise
    except BaseException as exc:  # ValueError, RuntimeError, NotImplementedError... and a decoder written in Rust
        if isinstance(exc, NOT_ERRORS):  # panics on some corrupt data (pyo3's PanicException is no Exception)
            raise
        if (err := unreadable(info.path, exc)) is not None:
            raise err from None
        _check_codestream(info, encoded)  # (only now: a file the decoder reads is never refused by a guess)
        if info.transfer_syntax == RLELossless.name:  # a wrong Rows/Columns is said as such (pylibjpeg-rle, the
            _check_rle_size(info, encoded)  # decoder used, panics on it); measured only then: +33 % decode time
        raise LoadError(info.path, f"cannot decode pixel data ({type(exc).__name__}: {one_line(exc)})") from None
    if arr.ndim == 3:
        arr = luma(arr)
    elif (fitted := fit_to_bits_stored(arr, info.chain.bits_stored, info.transfer_syntax in LOSSLESS_CODED))[1]:
        # (JPEG 2000 / JPEG-LS samples of a larger precision: pydicom masks native and other data itself, silently)
        arr, changed, how = fitted
        bits = info.chain.bits_stored
        what = ("clamped to its range (a lossy codestream's overshoot)" if how == "clamped"
                else f"kept to their low {bits} bits as PS3.5 8.1.1 says")  # fmt: skip
        warnings.warn(f"(0028,0101) Bits Stored {bits}: {changed} decoded pixel values lie outside it; {what} (if the "
                      "image looks wrong, Bits Stored may be)", stacklevel=1)  # fmt: skip
    if arr.shape != (info.rows, info.columns):
        raise LoadError(info.path, f"decoded {arr.shape} pixels, header says {info.rows} x {info.columns}")
    return arr


def _check_codestream(info: ImageInfo, encoded_frame: Callable[[], bytes]) -> None:
    """A LoadError when a frame that failed to decode is data of another encoding than (0002,0010) Transfer Syntax
    UID says (a converter that re-encoded the pixels and kept the old UID): the decoder's own words had been the
    message ("No matching JPEG 2000 format found")."""
    said = info.transfer_syntax
    expected = next((kind for kind in ("JPEG 2000", "RLE", "JPEG") if kind in said), None)
    if expected is None:
        return
    try:
        found = codestream_kind(encoded_frame()[:64])
    except (OSError, ValueError, KeyError, IndexError, TypeError):  # encapsulation the decoder reports itself
        return
    if found is not None and found != expected:
        raise LoadError(info.path, f"Pixel Data holds {found} data, but (0002,0010) Transfer Syntax UID {said} says "
                                   f"{expected}: its transfer syntax is wrong")  # fmt: skip


def _check_rle_size(info: ImageInfo, encoded_frame: Callable[[], bytes]) -> None:
    """A LoadError when the RLE segments of ``encoded_frame()`` do not hold the header's Rows x Columns pixels (see
    :mod:`mammoview.io.rle_size`).  Encapsulation or runs that cannot be read are left to the decoder to report."""
    try:
        problem = rle_size.size_problem(encoded_frame(), info.rows, info.columns)
    except BaseException as exc:  # (pylibjpeg-rle panics on some damaged runs: no Exception)
        if isinstance(exc, NOT_ERRORS):
            raise
        return
    if problem is not None:
        raise LoadError(info.path, problem)


def _file_frame(path: Path, index: int, frames: int) -> bytes:
    """The encoded bytes of frame ``index`` of a file's encapsulated Pixel Data."""
    with open(path, "rb") as fp:
        pydicom.dcmread(fp, stop_before_pixels=True)
        fp.seek(12, os.SEEK_CUR)  # (7FE0,0010), OB, 2 reserved bytes, undefined length: explicit VR (PS3.5 A.4)
        return get_frame(fp, index, number_of_frames=frames)


def luma(rgb: npt.NDArray[np.generic]) -> npt.NDArray[np.generic]:
    """ITU-R BT.601 luma of an (rows, cols, >=3) image, in the input's integer type (alpha dropped)."""
    if rgb.shape[-1] < 3:
        return np.ascontiguousarray(rgb[..., 0])
    # float32 holds 16-bit samples exactly; 32-bit ones need float64 (in float32 white rounded to 2**32 and its cast
    # wrapped round to black)
    work: type[np.floating] = np.float32 if rgb.dtype.itemsize <= 2 else np.float64
    r, g, b = (rgb[..., i].astype(work) for i in range(3))
    y = 0.299 * r + 0.587 * g + 0.114 * b
    out: npt.NDArray[np.generic]
    if rgb.dtype.kind in "ui":
        info = np.iinfo(cast(Any, rgb.dtype))
        out = np.clip(np.rint(y), info.min, info.max).astype(rgb.dtype)
    else:
        out = y.astype(rgb.dtype)
    return out


def _transfer_syntax(ds: Any) -> UID:
    meta = getattr(ds, "file_meta", None)
    uid = meta.get("TransferSyntaxUID") if meta is not None else None
    if uid is None:  # no file meta (legacy or forced read): pydicom guessed the encoding
        implicit, little = getattr(ds, "original_encoding", (True, True))
        uid = "1.2.840.10008.1.2" if implicit else "1.2.840.10008.1.2.1" if little else "1.2.840.10008.1.2.2"
        ds.file_meta = pydicom.dataset.FileMetaDataset()
        ds.file_meta.TransferSyntaxUID = uid
    return UID(str(uid))


def _check_decodable(path: Path, ts: UID) -> None:
    try:
        decoder = get_decoder(ts)
    except NotImplementedError:
        raise LoadError(path, f"unsupported transfer syntax {ts.name} ({ts}): no pixel data decoder") from None
    if not decoder.is_available:
        missing = "; ".join(decoder.missing_dependencies)
        raise LoadError(path, f"unsupported transfer syntax {ts.name}: decoder plugins missing ({missing})")


#: Media Storage Directory Storage (PS3.10 7.2, PS3.3 F.2): a DICOMDIR's SOP Class, given in its File Meta only
_DICOMDIR_CLASS = "1.2.840.10008.1.3.10"


def _is_dicomdir(ds: Any) -> bool:
    """Whether ``ds`` is a DICOMDIR (any file name): its File Meta's class, or its Directory Record Sequence."""
    meta = getattr(ds, "file_meta", None)
    media_class = str(meta.get("MediaStorageSOPClassUID", "") or "").strip() if meta is not None else ""
    return media_class == _DICOMDIR_CLASS or "DirectoryRecordSequence" in ds


def unreadable(path: Path, exc: BaseException) -> LoadError | None:
    """'cannot read: Permission denied' (or: No such file or directory, Input/output error...) for an error of the
    file itself, as a header read says it; None for any other.  Such an error has its errno, which the OSErrors
    that Pillow and pydicom raise for the data ('image file is truncated') have not."""
    if isinstance(exc, OSError) and exc.errno is not None:
        return LoadError(path, f"cannot read: {exc.strerror or exc}")
    return None


def one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text[:200] + ("..." if len(text) > 200 else "")
