"""A DICOM header's pixel chain (PS3.3 C.7.6.3, C.11): bits, Modality LUT or rescale, VOI windows and LUTs, padding,
and each frame's where the frames of a multi-frame image differ (C.7.6.16.2.9-10).

Pure functions of a pydicom ``Dataset``; invalid optional values are dropped with a warning naming the tag, never a
failure (:mod:`mammoview.io.header` reads the rest of the header).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import numpy.typing as npt

from mammoview.io.chain_model import ModalityTransform, PixelChain, VoiFunction, VoiLut, VoiWindow
from mammoview.io.tags import (
    float_or_none,
    floats,
    functional_group_items,
    int_or_none,
    multi_values,
    unusable_number,
)

#: Photometric interpretations read as grey after converting colour to luma.
COLOUR_PHOTOMETRICS = frozenset({"RGB", "YBR_FULL", "YBR_FULL_422", "YBR_ICT", "YBR_RCT", "YBR_PARTIAL_420"})


def pixel_chain(ds: Any, warnings: list[str]) -> PixelChain:
    """The grayscale chain of ``ds`` (PS3.3 C.7.6.3 Image Pixel, C.11.1 Modality LUT, C.11.2 VOI LUT).

    Colour images (converted to grey by the reader) get a plain 8/16-bit MONOCHROME2
    chain.  Window, VOI LUT and rescale values are taken from the top level, else from the
    first frame's or the shared functional groups (Enhanced MG, PS3.3 C.7.6.16).
    """
    photometric = str(ds.get("PhotometricInterpretation", "") or "").strip().upper()
    bits_allocated = int(ds.get("BitsAllocated", 16) or 16)
    stored = ds.get("BitsStored")  # (a 0 is no absent value: it is said below, as any other out of range)
    bits_stored = bits_allocated if stored is None or stored == "" else int(stored)
    if not 1 <= bits_stored <= bits_allocated:
        warnings.append(f"(0028,0101) Bits Stored {bits_stored} is invalid; using Bits Allocated {bits_allocated}")
        bits_stored = bits_allocated
    signed = int(ds.get("PixelRepresentation", 0) or 0) == 1
    if photometric in COLOUR_PHOTOMETRICS:
        return PixelChain(bits_stored=bits_stored, signed=signed, photometric="MONOCHROME2")
    if photometric not in ("MONOCHROME1", "MONOCHROME2"):
        warnings.append(f"(0028,0004) Photometric Interpretation {photometric or 'missing'}: read as MONOCHROME2")
        photometric = "MONOCHROME2"
    # PS3.3 C.8.11.3 / C.11.6: INVERSE is the inversion MONOCHROME1 implies (applied once); on a MONOCHROME2 image it
    # still inverts (as pydicom's apply_presentation_lut and other viewers do): shown as stored, the tissue is dark
    shape = str(ds.get("PresentationLUTShape", "") or "").strip().upper()
    presentation_inverse = photometric == "MONOCHROME2" and shape == "INVERSE"
    if presentation_inverse:
        warnings.append("(2050,0020) Presentation LUT Shape INVERSE on a MONOCHROME2 image: shown inverted, "
                        "the minimum value white")  # fmt: skip
    modality = _modality(ds, signed, warnings)
    # the VOI LUT's input is the Modality LUT's output: its first mapped value is SS when a rescale may make that
    # negative (PS3.3 C.11.2.1.1), also for unsigned stored values (an Implicit VR file reads it as US: a first value
    # >= 2**15 that the rescaled values never reach is then a negative one)
    voi_signed = signed
    if modality.lut_data is None and not modality.is_identity:
        lo, hi = (-(2 ** (bits_stored - 1)), 2 ** (bits_stored - 1) - 1) if signed else (0, 2**bits_stored - 1)
        ends = (lo * modality.slope + modality.intercept, hi * modality.slope + modality.intercept)
        voi_signed = signed or (min(ends) < 0 and max(ends) < 2**15)
    return PixelChain(
        presentation_inverse=presentation_inverse,
        bits_stored=bits_stored,
        signed=signed,
        photometric=photometric,
        modality=modality,
        windows=_windows(ds, warnings),
        voi_luts=_voi_luts(ds, voi_signed, warnings),
        padding_value=_stored_bits(int_or_none(ds.get("PixelPaddingValue")), signed, bits_allocated),
        padding_range_limit=_stored_bits(int_or_none(ds.get("PixelPaddingRangeLimit")), signed, bits_allocated),
    )


#: The per-frame attributes each frame of a multi-frame image is read with, its own where the frames differ
FRAME_TRANSFORMS = frozenset({"RescaleSlope", "RescaleIntercept", "WindowCenter", "WindowWidth"})


def frame_chains(
    ds: Any, chain: PixelChain, frames: int, differ: list[str], warnings: list[str]
) -> tuple[PixelChain, ...]:
    """Each frame's pixel chain, where the frames of a multi-frame image (a tomosynthesis volume) are rescaled or
    windowed differently; ``()`` where every frame has ``chain`` (frame 1's, :func:`pixel_chain`).

    An Enhanced or Breast Tomosynthesis image may give each frame its own Pixel Value Transformation (0028,9145)
    (Rescale Slope and Intercept, PS3.3 C.7.6.16.2.9) and Frame VOI LUT (0028,9132) (Window Center and Width,
    C.7.6.16.2.10) in its Per-Frame Functional Groups Sequence (5200,9230): a frame's values are those of its own
    rescale, its default window its own.  The rest of the chain (bits, photometric, VOI LUT Sequence, padding) is
    frame 1's; a frame with frame 1's rescale and window shares frame 1's chain object.  ``differ``: the per-frame
    attributes whose values differ between frames (:func:`mammoview.io.tags.per_frame_differences`); those of the
    chain are said in ``warnings``, with what is done.
    """
    differ = [k for k in differ if k in FRAME_TRANSFORMS] if frames > 1 else []
    if not differ:
        return ()
    photometric = str(ds.get("PhotometricInterpretation", "") or "").strip().upper()
    out = [chain]
    if photometric not in COLOUR_PHOTOMETRICS and chain.modality.lut_data is None:
        said = set(warnings)
        for frame in range(1, frames):
            frame_warnings: list[str] = []
            modality = _modality(ds, chain.signed, frame_warnings, frame)
            windows = _windows(ds, frame_warnings, frame)
            for w in frame_warnings:  # each problem once, named with the first frame that has it (frame 1's: not again)
                if w not in said:
                    said.add(w)
                    warnings.append(f"frame {frame + 1}: {w}")
            if modality.lut_data is None and (modality.slope, modality.intercept) == (
                chain.modality.slope,
                chain.modality.intercept,
            ):
                modality = chain.modality
            if windows == chain.windows:
                windows = chain.windows
            same = modality is chain.modality and windows is chain.windows
            out.append(chain if same else replace(chain, modality=modality, windows=windows))
    applied = set()
    if any(c.modality is not chain.modality for c in out):
        applied |= {"RescaleSlope", "RescaleIntercept"}
    if any(c.windows is not chain.windows for c in out):
        applied |= {"WindowCenter", "WindowWidth"}
    if own := [k for k in differ if k in applied]:
        warnings.append(f"per-frame {', '.join(own)} differ between frames: each frame is read with its own")
    if unused := [k for k in differ if k not in applied]:
        warnings.append(f"per-frame {', '.join(unused)} differ between frames but read no frame differently (a "
                        "top-level Modality LUT, rescale or window comes first)")  # fmt: skip
    return tuple(out) if applied else ()


def _stored_bits(value: int | None, signed: bool, bits_allocated: int) -> int | None:
    """A US-or-SS value of the stored pixels' type (Pixel Padding Value, PS3.3 C.7.5.1.1.2) as the stored values read:
    written with the other VR (US 63536 in a signed image, SS -1 in an unsigned one) it is the same bits, which no
    stored value would otherwise equal."""
    if value is None or bits_allocated not in (8, 16):
        return value
    span = 1 << bits_allocated
    if signed and span // 2 <= value < span:
        return value - span
    if not signed and -(span // 2) <= value < 0:
        return value + span
    return value


def _modality(ds: Any, signed: bool, warnings: list[str], frame: int = 0) -> ModalityTransform:
    """The Modality LUT (PS3.3 C.11.1) of ``ds``, its rescale of frame ``frame`` (0-based) where it is in the
    functional groups (Pixel Value Transformation, C.7.6.16.2.9)."""
    seq = ds.get("ModalityLUTSequence")
    if seq:
        item = seq[0]
        lut = _lut(ds, item, signed, "(0028,3000) Modality LUT Sequence", warnings)
        if lut is not None:
            first, data, _bits = lut
            return ModalityTransform(lut_first_mapped=first, lut_data=data, source="ModalityLUTSequence (0028,3000)")
    for where, item in [("", ds), *functional_group_items(ds, "PixelValueTransformationSequence", frame)]:
        for keyword, tag in (
            ("RescaleSlope", "(0028,1053) Rescale Slope"),
            ("RescaleIntercept", "(0028,1052) Rescale Intercept"),
        ):
            if unusable_number(item, keyword):
                warnings.append(f"{tag} {item.get(keyword)!r} is not a finite number; rescale ignored")
                return ModalityTransform()
        slope, intercept = float_or_none(item.get("RescaleSlope")), float_or_none(item.get("RescaleIntercept"))
        if slope is None and intercept is None:
            continue
        if slope == 0:
            warnings.append("(0028,1053) Rescale Slope is 0; ignored")
            break
        src = "RescaleSlope/RescaleIntercept (0028,1053)/(0028,1052)" + (f" in {where}" if where else "")
        return ModalityTransform(slope=1.0 if slope is None else slope, intercept=intercept or 0.0, source=src)
    return ModalityTransform()


def _windows(ds: Any, warnings: list[str], frame: int = 0) -> tuple[VoiWindow, ...]:
    """The windows (PS3.3 C.11.2.1.2) of ``ds``, those of frame ``frame`` (0-based) where they are in the functional
    groups (Frame VOI LUT, C.7.6.16.2.10)."""
    sources = [ds, *(item for _w, item in functional_group_items(ds, "FrameVOILUTSequence", frame))]
    for item in sources:
        if unusable_number(item, "WindowCenter") or unusable_number(item, "WindowWidth"):
            warnings.append(f"(0028,1050)/(0028,1051) Window Center {item.get('WindowCenter')!r} / Width "
                            f"{item.get('WindowWidth')!r} are not finite numbers; ignored")  # fmt: skip
            continue
        centers = floats(item.get("WindowCenter"))
        widths = floats(item.get("WindowWidth"))
        if not centers or not widths:
            continue
        if len(centers) != len(widths):
            warnings.append(f"(0028,1050)/(0028,1051) have {len(centers)} centers but {len(widths)} widths")
        # one per window, as written: an empty one keeps its place (multi_values drops it and upper-cases the rest)
        expl_value = item.get("WindowCenterWidthExplanation")
        expl_items = [] if expl_value is None else [expl_value] if isinstance(expl_value, str) else list(expl_value)
        explanations = [str(e).strip() for e in expl_items]
        name = str(item.get("VOILUTFunction", "") or "LINEAR").strip().upper()
        try:
            function = VoiFunction(name)
        except ValueError:
            warnings.append(f"(0028,1056) VOI LUT Function {name!r} is not LINEAR/LINEAR_EXACT/SIGMOID; using LINEAR")
            function = VoiFunction.LINEAR
        out: list[VoiWindow] = []
        for i, (c, w) in enumerate(zip(centers, widths, strict=False)):
            expl = explanations[i] if i < len(explanations) else ""
            try:
                out.append(VoiWindow(c, w, function, expl))
            except ValueError as exc:
                warnings.append(f"{exc}; window {i + 1} ({c:g}/{w:g}) ignored")
        return tuple(out)
    return ()


def _voi_luts(ds: Any, signed: bool, warnings: list[str]) -> tuple[VoiLut, ...]:
    """The VOI LUT Sequence (0028,3010) of the top level, else of the first frame's or the shared Frame VOI LUT
    Sequence (0028,9132) item (the Frame VOI LUT With LUT macro of Enhanced images, PS3.3 C.7.6.16.2.10b)."""
    for where, item in [("", ds), *functional_group_items(ds, "FrameVOILUTSequence")]:
        if not (sequence := item.get("VOILUTSequence")):
            continue
        out: list[VoiLut] = []
        for i, lut_item in enumerate(sequence):
            name = f"(0028,3010) VOI LUT Sequence item {i + 1}" + (f" in {where}" if where else "")
            lut = _lut(ds, lut_item, signed, name, warnings, voi=True)
            if lut is not None:
                first, data, bits = lut
                expl = str(lut_item.get("LUTExplanation", "") or "")
                out.append(VoiLut(first_mapped=first, data=data, output_bits=bits, explanation=expl))
        return tuple(out)
    return ()


def _lut(
    ds: Any, item: Any, signed: bool, where: str, warnings: list[str], voi: bool = False
) -> tuple[int, npt.NDArray[np.integer], int] | None:
    """(first mapped value, table, bits per entry) from a LUT Descriptor (0028,3002) and LUT Data (0028,3006).

    ``voi``: a VOI LUT, whose output spans the display's grey range; one whose data leave two or more of its
    descriptor's top bits unused (12-bit data declared 16 bits, as some CR writers do) is read with the bits its
    data need, as Cornerstone and Horos read it (dicom-rs#825): read as declared it showed the image black.
    """
    desc = item.get("LUTDescriptor")
    if item.get("LUTData") is None or desc is None or len(desc) != 3:  # (an empty LUT Data element reads as None)
        warnings.append(f"{where}: (0028,3002) LUT Descriptor or (0028,3006) LUT Data missing; ignored")
        return None
    entries, first, bits = int(desc[0]) or 65536, int(desc[1]), int(desc[2])  # 0 entries means 2**16
    if signed and first >= 2**15:  # descriptor read as US although the image is signed (C.11.1.1.1)
        first -= 2**16
    value = item["LUTData"].value
    if isinstance(value, bytes):
        # OW: 16-bit words in the dataset's byte order (as pydicom's apply_voi/apply_modality_lut read them)
        data = np.frombuffer(value, dtype="<u2" if _little_endian(ds) else ">u2")
    else:
        # (one US value reads as a number, not a list)
        data = np.atleast_1d(np.asarray(multi_values(value) if isinstance(value, str) else value, dtype=np.int64))
    if data.size < 2:  # none, or one grey for every pixel: no table
        warnings.append(f"{where}: LUT Data has {data.size} of {entries} entries; ignored")
        return None
    if data.size < entries:
        warnings.append(f"{where}: LUT Data has {data.size} of {entries} entries; using those present")
    data = data[:entries]
    top = int(data.max())
    if not 1 <= bits <= 16:
        fixed = 8 if top < 256 else 16
        warnings.append(f"{where}: (0028,3002) LUT Descriptor gives {bits} bits per entry; read as {fixed}")
        bits = fixed
    elif top >= 2 ** (bits + 1):  # clearly wider data, e.g. 16-bit data declared 12: read with the bits they need
        fixed = min(max(top.bit_length(), 8), 16)
        warnings.append(f"{where}: LUT Data reach {top}, above the {bits} bits of its descriptor; read as {fixed} "
                        "bits")  # fmt: skip
        bits = fixed
    elif top > 2**bits - 1:  # a few entries a step too high: those are the brightest value (voi clips them)
        warnings.append(f"{where}: LUT Data reach {top}, above the {bits} bits of its descriptor; shown as the "
                        "brightest value")  # fmt: skip
    elif voi and bits > 8 and 0 < top < 2 ** (bits - 2):
        fixed = max(top.bit_length(), 8)
        warnings.append(f"{where}: LUT Data reach only {top}, far below the {bits} bits of its descriptor; read as "
                        f"{fixed} bits, so that the table's top is white")  # fmt: skip
        bits = fixed
    return first, data.astype(np.uint8 if bits == 8 and top < 256 else np.uint16), bits


def _little_endian(ds: Any) -> bool:
    enc = getattr(ds, "original_encoding", (None, None))
    if enc and enc[1] is not None:
        return bool(enc[1])
    meta = getattr(ds, "file_meta", None)
    ts = meta.get("TransferSyntaxUID") if meta is not None else None
    return not (ts is not None and str(ts) == "1.2.840.10008.1.2.2")  # Explicit VR Big Endian
