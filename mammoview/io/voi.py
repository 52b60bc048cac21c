"""The VOI LUT functions of PS3.3 C.11.2 on modality values, output normalised to [0, 1].

:func:`apply_window` covers Window Center/Width with VOI LUT Function LINEAR,
LINEAR_EXACT and SIGMOID; :func:`apply_voi_lut_item` one item of the VOI LUT
Sequence.  :mod:`mammoview.io.pixels` chains them with the other steps.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from mammoview.io.chain_model import VoiFunction, VoiLut, VoiWindow


def apply_window(arr: npt.ArrayLike, window: VoiWindow) -> npt.NDArray[np.float64]:
    """Apply a Window Center/Width pair, normalised to [0, 1].

    LINEAR (PS3.3 C.11.2.1.2.1) uses ``c - 0.5`` and ``w - 1`` so a window of width
    ``w`` spans ``w`` integer values; LINEAR_EXACT (C.11.2.1.3.2) uses ``c`` and ``w``
    as given; SIGMOID (C.11.2.1.3.1) is ``1 / (1 + exp(-4 (x - c) / w))``.  pydicom's
    ``apply_windowing`` returns ``y_min + out * (y_max - y_min)`` for the same input.

    Raises
    ------
    ValueError
        "(0028,1051) Window Width must be ..." when the width is out of range for the
        function (the :class:`VoiWindow` constructor already checks this).
    """
    x = np.asarray(arr, dtype=np.float64)
    c, w = float(window.center), float(window.width)
    if window.function is VoiFunction.SIGMOID:
        if not w > 0:
            raise ValueError("(0028,1051) Window Width must be > 0 for SIGMOID")
        return np.asarray(1.0 / (1.0 + np.exp(-4.0 * (x - c) / w)), dtype=np.float64)
    if window.function is VoiFunction.LINEAR:
        if not w >= 1:
            raise ValueError("(0028,1051) Window Width must be >= 1 for LINEAR")
        c, w = c - 0.5, w - 1.0
        if w == 0:  # width 1: a step at c (C.11.2.1.2.1's "below"/"above" cover everything)
            return (x > c).astype(np.float64)
    elif not w > 0:
        raise ValueError("(0028,1051) Window Width must be > 0 for LINEAR_EXACT")
    out = (x - c) / w
    out += 0.5
    np.clip(out, 0.0, 1.0, out=out)
    return out


def apply_voi_lut_item(arr: npt.ArrayLike, lut: VoiLut) -> npt.NDArray[np.float64]:
    """Apply one VOI LUT Sequence item (PS3.3 C.11.2.1.1), normalised to [0, 1].

    Input values below the first mapped value take the first entry, values past the
    end the last; outputs are divided by ``2**output_bits - 1`` (third LUT Descriptor
    value) and clipped to [0, 1].  Non-integer input (a fractional rescale) is rounded first.
    """
    x = np.asarray(arr)
    if x.dtype.kind == "f":
        x = np.rint(x)
    idx = np.clip(x.astype(np.int64) - lut.first_mapped, 0, len(lut.data) - 1)
    top = float(2**lut.output_bits - 1)
    # entries above the declared output bits (a LUT of 16-bit data declared 12) are the brightest value, never
    # past it: past 1 the display's 8-bit table would wrap round to black
    return np.clip(np.asarray(lut.data[idx], dtype=np.float64) / top, 0.0, 1.0)
