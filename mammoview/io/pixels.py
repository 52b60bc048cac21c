"""The grayscale pixel chain as pure functions: stored values -> presentation values.

The order is fixed by the standard (PS3.3 C.11, "Grayscale transformation sequence",
and PS3.4 N.2.1.1) and by :class:`~mammoview.io.chain_model.PixelChain`:

1. Modality LUT (PS3.3 C.11.1): Modality LUT Sequence (0028,3000) or Rescale Slope
   (0028,1053) / Rescale Intercept (0028,1052);
2. VOI LUT (PS3.3 C.11.2): a window (0028,1050)/(0028,1051) with VOI LUT Function
   (0028,1056) LINEAR, LINEAR_EXACT or SIGMOID (C.11.2.1.2, C.11.2.1.3), or one item of
   the VOI LUT Sequence (0028,3010) (C.11.2.1.1); its output is normalised to [0, 1];
3. MONOCHROME1 inversion (PS3.3 C.7.6.3.1.2: the minimum value is white), so that
   tissue is bright in every presentation image;
4. Pixel padding (PS3.3 C.7.5.1.1.2): stored values equal to Pixel Padding Value
   (0028,0120), or within it and Pixel Padding Range Limit (0028,0121), become 0.

Functions take ``(arr, chain-or-parameters)`` and return a new array, like pydicom's
``pixels/processing.py``.  :func:`to_presentation` (CAD, training) and
:func:`display_lut` (the viewer) share one implementation, :func:`chain_table`,
evaluated on the <= 65536 possible stored values rather than on the image, so a
12-Mpx 16-bit mammogram is never copied to float64.
"""

from __future__ import annotations

from typing import Any, Literal, TypeAlias, cast

import numpy as np
import numpy.typing as npt

from mammoview.io.chain_model import PixelChain, VoiLut, VoiWindow
from mammoview.io.model import ImageInfo
from mammoview.io.voi import apply_voi_lut_item, apply_window
from mammoview.io.windows import otsu_threshold, tissue_range, window_from_range

__all__ = [
    "apply_inversion",
    "apply_modality",
    "apply_voi",
    "apply_voi_lut_item",
    "apply_window",
    "chain_table",
    "default_window",
    "display_lut",
    "modality_range",
    "otsu_threshold",
    "padding_mask",
    "resolve_voi",
    "stored_value_range",
    "tissue_window",
    "to_presentation",
    "value_step",
    "window_from_range",
    "window_presets",
]

FloatArray: TypeAlias = npt.NDArray[np.floating]
VoiChoice: TypeAlias = VoiWindow | VoiLut | Literal["default"] | None

#: Rows processed at once when gathering through a table (bounds the index temporary).
_CHUNK_ROWS = 512
#: Pixels sampled when estimating a window from the data.
_SAMPLE_PIXELS = 262_144


def stored_value_range(chain: PixelChain) -> tuple[int, int]:
    """Smallest and largest value representable with Bits Stored (0028,0101) and Pixel Representation (0028,0103)."""
    if chain.signed:
        return -(2 ** (chain.bits_stored - 1)), 2 ** (chain.bits_stored - 1) - 1
    return 0, 2**chain.bits_stored - 1


def modality_range(chain: PixelChain) -> tuple[float, float]:
    """Output range of the Modality LUT over the Bits Stored range (PS3.3 C.11.1.1.1).

    A Modality LUT Sequence outputs unsigned values of the descriptor's bit depth;
    a rescale maps the stored range through ``slope * x + intercept``.
    """
    m = chain.modality
    if m.lut_data is not None:
        return 0.0, float(2 ** _lut_bits(m.lut_data) - 1)
    lo, hi = stored_value_range(chain)
    a, b = lo * m.slope + m.intercept, hi * m.slope + m.intercept
    return (min(a, b), max(a, b))


def value_step(chain: PixelChain) -> float:
    """One stored value's step in modality units: the rescale's slope (a float image's 1/65535 of its range), 1 for
    a Modality LUT (integer outputs)."""
    m = chain.modality
    return 1.0 if m.lut_data is not None or not m.slope else abs(float(m.slope))


def apply_modality(arr: npt.NDArray[np.generic], chain: PixelChain) -> npt.NDArray[np.generic]:
    """Apply the Modality LUT (PS3.3 C.11.1) to stored values.

    Parameters
    ----------
    arr : numpy.ndarray
        Stored pixel values (integers).
    chain : PixelChain
        The parsed chain; ``chain.modality`` holds a LUT or a rescale.

    Returns
    -------
    numpy.ndarray
        For a Modality LUT Sequence, the LUT's integer output (values below the first
        mapped value take the first entry, values past the end the last, C.11.1.1);
        for a non-identity rescale, ``float64`` ``arr * slope + intercept``; for an
        identity transform, ``arr`` itself.
    """
    m = chain.modality
    if m.lut_data is not None:
        first = m.lut_first_mapped or 0
        idx = np.clip(np.asarray(arr, dtype=np.int64) - first, 0, len(m.lut_data) - 1)
        return m.lut_data[idx]
    if m.is_identity:
        return arr
    out = np.asarray(arr, dtype=np.float64) * m.slope
    out += m.intercept
    return out


def apply_voi(
    arr: npt.ArrayLike,
    voi: VoiWindow | VoiLut | PixelChain | None,
    value_range: tuple[float, float] | None = None,
) -> npt.NDArray[np.float64]:
    """Apply the VOI transform (PS3.3 C.11.2) to modality values, output in [0, 1].

    Parameters
    ----------
    arr : array_like
        Modality output values (after :func:`apply_modality`).
    voi : VoiWindow, VoiLut, PixelChain or None
        A window or VOI LUT item; a :class:`PixelChain` uses its default (first
        window, else first VOI LUT); ``None`` (or a chain without either) maps
        ``value_range`` linearly onto [0, 1].
    value_range : (float, float), optional
        Range for the linear fallback; the min and max of ``arr`` when omitted.

    Returns
    -------
    numpy.ndarray
        ``float64`` values in [0, 1].
    """
    x = np.asarray(arr)
    resolved = resolve_voi(voi, "default") if isinstance(voi, PixelChain) else voi
    if isinstance(resolved, VoiWindow):
        return apply_window(x, resolved)
    if isinstance(resolved, VoiLut):
        return apply_voi_lut_item(x, resolved)
    if value_range is None:
        value_range = (float(x.min()), float(x.max())) if x.size else (0.0, 1.0)
    lo, hi = value_range
    if hi <= lo:
        return (np.asarray(x, dtype=np.float64) > lo).astype(np.float64)
    out = (np.asarray(x, dtype=np.float64) - lo) / (hi - lo)
    np.clip(out, 0.0, 1.0, out=out)
    return out


def apply_inversion(arr: FloatArray, chain: PixelChain) -> FloatArray:
    """Invert [0, 1] VOI output for MONOCHROME1 (PS3.3 C.7.6.3.1.2), so tissue is bright.

    Mammography "For Presentation" MONOCHROME1 images carry Presentation LUT Shape
    (2050,0020) INVERSE, which states the same inversion; it is not applied twice.
    """
    return 1.0 - arr if chain.inverted else arr


def padding_mask(stored: npt.ArrayLike, chain: PixelChain) -> npt.NDArray[np.bool_]:
    """Pixels that are padding, tested on STORED values (PS3.3 C.7.5.1.1.2).

    Pixel Padding Value (0028,0120) alone marks one value; with Pixel Padding Range
    Limit (0028,0121) every value between the two (inclusive, either order) is padding.
    """
    s = np.asarray(stored)
    if chain.padding_value is None:
        return np.zeros(s.shape, dtype=bool)
    if chain.padding_range_limit is None:
        return np.asarray(s == chain.padding_value)
    lo, hi = sorted((chain.padding_value, chain.padding_range_limit))
    return np.asarray((s >= lo) & (s <= hi))


def resolve_voi(source: PixelChain | VoiWindow | VoiLut | None, voi: VoiChoice) -> VoiWindow | VoiLut | None:
    """The VOI actually used: ``"default"`` = first window, else first VOI LUT, else None (full range)."""
    if voi != "default":
        return voi
    if isinstance(source, PixelChain):
        if source.windows:
            return source.windows[0]
        if source.voi_luts:
            return source.voi_luts[0]
        return None
    return source


def chain_table(
    chain: PixelChain,
    values: npt.NDArray[np.integer],
    voi: VoiChoice = "default",
    value_range: tuple[float, float] | None = None,
) -> npt.NDArray[np.float32]:
    """The whole chain evaluated on the stored ``values``: modality -> VOI -> inversion -> padding 0.

    ``value_range`` is the modality-output range used when there is no window or VOI
    LUT (see :func:`apply_voi`); by default the range over the non-padding ``values``.
    """
    resolved = resolve_voi(chain, voi)
    pad = padding_mask(values, chain)
    modal = apply_modality(values, chain)
    if resolved is None and value_range is None:
        kept = np.asarray(modal)[~pad]
        value_range = (float(kept.min()), float(kept.max())) if kept.size else modality_range(chain)
    out = apply_inversion(apply_voi(modal, resolved, value_range), chain)
    out = np.where(pad, 0.0, out)
    return out.astype(np.float32)


def to_presentation(
    stored: npt.NDArray[np.generic], chain: PixelChain, voi: VoiChoice = "default"
) -> npt.NDArray[np.float32]:
    """Stored values -> ``float32`` presentation values in [0, 1], tissue bright.

    Modality LUT -> VOI (``"default"``: the first window, else the first VOI LUT, else
    the full range of the modality output over the values present, padding excluded)
    -> MONOCHROME1 inversion -> padding set to 0.  This is what CAD and training
    consume, for 8-bit JPEG/PNG/PGM and 16-bit DICOM alike.

    Parameters
    ----------
    stored : numpy.ndarray
        Stored pixel values as decoded (any integer type; floats are accepted).
    chain : PixelChain
        Parsed chain of the image.
    voi : VoiWindow, VoiLut, None or "default"
        The VOI to apply; ``None`` maps the full range of the values present.

    Returns
    -------
    numpy.ndarray
        ``float32`` array of ``stored.shape``.
    """
    arr = np.asarray(stored)
    if not arr.dtype.isnative:  # the table lookup reinterprets the bytes: they must be native order
        arr = arr.astype(arr.dtype.newbyteorder("="))
    if arr.dtype.kind in "ui" and arr.dtype.itemsize <= 2:
        unsigned = np.dtype(f"u{arr.dtype.itemsize}")
        # Every representable value, in the order of its unsigned bit pattern, so the
        # image can index the table through a zero-copy unsigned view.
        values = np.arange(2 ** (8 * arr.dtype.itemsize), dtype=np.int64).astype(unsigned).view(arr.dtype)
        value_range = None
        if resolve_voi(chain, voi) is None:
            value_range = _present_modality_range(arr, chain)
        table = chain_table(chain, values, voi, value_range)
        return _gather(table, arr.view(unsigned))
    # Wide or float data (rare for mammograms): compute directly in float32-sized chunks.
    resolved = resolve_voi(chain, voi)
    pad = padding_mask(arr, chain)
    modal = apply_modality(arr, chain)
    value_range = None
    if resolved is None:
        kept = np.asarray(modal)[~pad]
        value_range = (float(kept.min()), float(kept.max())) if kept.size else modality_range(chain)
    out = apply_inversion(apply_voi(modal, resolved, value_range), chain)
    out[pad] = 0.0
    return out.astype(np.float32)


def display_lut(
    chain: PixelChain, voi: VoiChoice, stored_min: int, stored_max: int
) -> tuple[int, npt.NDArray[np.uint8]]:
    """An 8-bit lookup table for the whole chain over ``stored_min..stored_max``.

    ``lut[stored - offset]`` is the display value of a stored value (modality -> VOI ->
    MONOCHROME1 inversion -> padding 0).  The viewer keeps the 16-bit stored image and
    only rebuilds this (<= 65536 entries, about a millisecond) when the window moves.

    Parameters
    ----------
    chain : PixelChain
        Parsed chain of the image.
    voi : VoiWindow, VoiLut, None or "default"
        The VOI to apply; ``None`` (or ``"default"`` without one in the file) maps the
        modality output of ``stored_min..stored_max`` (padding excluded) linearly.
    stored_min, stored_max : int
        Range of the stored values (e.g. the image's min and max).

    Returns
    -------
    offset : int
        ``stored_min``.
    lut : numpy.ndarray
        ``uint8`` table of ``stored_max - stored_min + 1`` entries.
    """
    lo, hi = int(stored_min), int(stored_max)
    if hi < lo:
        raise ValueError(f"stored_max ({hi}) < stored_min ({lo})")
    values = np.arange(lo, hi + 1, dtype=np.int64)
    table = chain_table(chain, values, voi)
    lut = np.rint(table * np.float32(255.0)).astype(np.uint8)
    return lo, lut


def default_window(source: ImageInfo | PixelChain, stored: npt.NDArray[np.generic] | None = None) -> VoiWindow:
    """The window the viewer opens with.

    The first window in the file (PS3.3 C.11.2.1.2 says the first is the default);
    else a LINEAR window over the tissue in ``stored`` (see :func:`tissue_window`);
    else, without pixels, the modality output of the Bits Stored range.
    """
    chain = source.chain if isinstance(source, ImageInfo) else source
    if chain.windows:
        return chain.windows[0]
    if stored is None:
        lo, hi = modality_range(chain)
        return window_from_range(lo, hi, "bits stored range", value_step(chain))
    return tissue_window(stored, chain)


def tissue_window(stored: npt.NDArray[np.generic], chain: PixelChain) -> VoiWindow:
    """A LINEAR window over the tissue in ``stored``, ignoring padding and background.

    See :func:`mammoview.io.windows.tissue_range`; computed on a strided sample of
    the non-padding pixels' modality values.
    """
    values = _sample_modality(stored, chain)
    if values.size == 0:
        lo, hi = modality_range(chain)
        return window_from_range(lo, hi, "bits stored range", value_step(chain))
    lo, hi, why = tissue_range(values, tissue_bright=not chain.inverted)
    return window_from_range(lo, hi, why, value_step(chain))


def window_presets(
    source: ImageInfo | PixelChain, stored: npt.NDArray[np.generic] | None = None
) -> tuple[VoiWindow, ...]:
    """Windows to offer in the viewer's menu: the file's, then "auto: tissue" and "full data range"."""
    chain = source.chain if isinstance(source, ImageInfo) else source
    out: list[VoiWindow] = list(chain.windows)
    if stored is not None:
        out.append(tissue_window(stored, chain))
        values = _sample_modality(stored, chain)
        if values.size:
            out.append(
                window_from_range(float(values.min()), float(values.max()), "full data range", value_step(chain))
            )
    else:
        lo, hi = modality_range(chain)
        out.append(window_from_range(lo, hi, "bits stored range", value_step(chain)))
    unique: list[VoiWindow] = []
    for w in out:
        if all((w.center, w.width, w.function) != (u.center, u.width, u.function) for u in unique):
            unique.append(w)
    return tuple(unique)


def _sample_modality(stored: npt.NDArray[np.generic], chain: PixelChain) -> npt.NDArray[np.float64]:
    """Modality values of a strided sample of non-padding pixels."""
    arr = np.asarray(stored)
    step = max(1, int(np.sqrt(arr.size / _SAMPLE_PIXELS)))
    sample = arr[::step, ::step] if arr.ndim == 2 else arr.ravel()[::step]
    keep = ~padding_mask(sample, chain)
    return np.asarray(apply_modality(sample[keep], chain), dtype=np.float64)


def _present_modality_range(arr: npt.NDArray[np.generic], chain: PixelChain) -> tuple[float, float]:
    """Modality-output range over the stored values present (padding excluded)."""
    if chain.padding_value is None:
        lo, hi = int(arr.min()), int(arr.max())
    else:
        keep = ~padding_mask(arr, chain)
        if not keep.any():
            return modality_range(chain)
        info = np.iinfo(cast(Any, arr.dtype))
        lo = int(arr.min(where=keep, initial=info.max))
        hi = int(arr.max(where=keep, initial=info.min))
    values = np.arange(lo, hi + 1, dtype=np.int64)
    values = values[~padding_mask(values, chain)]
    modal = np.asarray(apply_modality(values, chain), dtype=np.float64)
    return float(modal.min()), float(modal.max())


def _gather(table: npt.NDArray[np.float32], index: npt.NDArray[np.unsignedinteger]) -> npt.NDArray[np.float32]:
    """``table[index]`` in row chunks, so the intp index temporary stays small."""
    out = np.empty(index.shape, dtype=np.float32)
    if index.ndim != 2:
        np.take(table, index, out=out)
        return out
    for r in range(0, index.shape[0], _CHUNK_ROWS):
        np.take(table, index[r : r + _CHUNK_ROWS], out=out[r : r + _CHUNK_ROWS])
    return out


def _lut_bits(data: npt.NDArray[np.integer]) -> int:
    """Bit depth of a Modality LUT's output: 8 or 16 from the table's dtype."""
    return 8 if np.asarray(data).dtype.itemsize == 1 else 16
