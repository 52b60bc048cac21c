"""Decoded pixel values beyond Bits Stored (0028,0101): brought into its range, and said.

Bits Allocated holds Bits Stored bits of each value (High Bit = Bits Stored - 1 here); the bits above are not part
of the value (PS3.5 8.1.1; old files kept overlays there).  pydicom masks them in native and most encapsulated data
(its ``correct_unused_bits``), but gives JPEG 2000 and JPEG-LS samples as coded: a codestream whose precision is
larger than Bits Stored can decode to values the header says cannot be.  Two causes, told apart by how far out the
values are:

- **a lossy codestream's overshoot**: a 12-bit image coded at 16-bit precision decodes a few counts past 4095 at the
  brightest pixels (the 9/7 wavelet does not stay inside the range, and only the codestream's precision bounds it).
  Masking would turn those pixels, calcifications among them, black (4097 -> 1); they are **clamped** to the range;
- **bits above the value** (an encoder given native words with overlay or other bits above Bits Stored): values far
  out of range; they are **masked** to their low Bits Stored bits, as the native file reads (PS3.5 8.1.1).

A lossless transfer syntax (JPEG 2000 / HTJ2K "Lossless Only", JPEG-LS Lossless) cannot overshoot: its values are
the encoder's input, so any beyond the range are bits above the value, masked however near they lie (an overlay bit
on a dark pixel, 100 + 4096, is 100, not the range's white 4095).

:func:`fit_to_bits_stored` does either; the reader warns with the count, for the header may be what is wrong.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

#: How far past the range (a share of it) values still read as a lossy codestream's overshoot: 1/16 (256 of 4096).
OVERSHOOT_SHARE = 1 / 16


def fit_to_bits_stored(
    arr: npt.NDArray[np.generic], bits_stored: int, lossless: bool = False
) -> tuple[npt.NDArray[np.generic], int, str]:
    """``arr`` inside the range of ``bits_stored`` bits, how many values that changed and how (``"clamped"``,
    ``"masked"``, or ``""`` with ``arr`` itself when every value was inside).  Out-of-range values all within
    :data:`OVERSHOOT_SHARE` of the range past its ends are clamped, unless the data were coded ``lossless``;
    otherwise every value keeps its low
    ``bits_stored`` bits, sign-extended for a signed integer type (two's complement, as Pixel Representation 1 stores
    them, PS3.5 8.1.1)."""
    bits = 8 * arr.dtype.itemsize
    if arr.dtype.kind not in "ui" or not 0 < bits_stored < bits or arr.size == 0:
        return arr, 0, ""
    signed = arr.dtype.kind == "i"
    lo, hi = (-(1 << (bits_stored - 1)), (1 << (bits_stored - 1)) - 1) if signed else (0, (1 << bits_stored) - 1)
    low, high = int(arr.min()), int(arr.max())
    if lo <= low and high <= hi:  # the usual case: two passes, no copy
        return arr, 0, ""
    margin = int((1 << bits_stored) * OVERSHOOT_SHARE)
    if not lossless and lo - margin <= low and high <= hi + margin:
        fitted = np.clip(arr, lo, hi).astype(arr.dtype, copy=False)
        how = "clamped"
    else:
        shift = bits - bits_stored
        # (pydicom's own correction: up then down; the signed type's right shift brings the sign bit back down)
        fitted = np.right_shift(np.left_shift(arr, shift), shift)
        how = "masked"
    return fitted, int(np.count_nonzero(fitted != arr)), how
