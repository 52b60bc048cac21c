"""Resolution pyramid of stored pixel values, built once per image off the GUI thread.

A 12-Mpx mammogram shown in a 600-px panel is drawn at ~1/8 scale.  Letting Qt
sample the full image at that scale is both slow (the whole image goes through
the LUT on every window/level change) and lossy (nearest or bilinear sampling
skips 63 of 64 pixels, so a microcalcification can vanish).  Each pyramid level
is the 2x2 *box average* of the previous one, so every stored pixel contributes
to what is drawn, and a window/level change only re-maps the small level on screen.

Levels keep an integer dtype (uint8 or uint16) because pyqtgraph's fast path
folds levels + LUT into one table lookup for exactly those types.  Level 0 is the
stored array itself (no copy) for unsigned data; signed data are shifted by
``value_offset`` once so they fit that path.  Pure numpy, no Qt.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

#: Stop halving once the larger side is below this (a level this small is never needed).
MIN_LEVEL_SIDE = 128


@dataclass(frozen=True, eq=False)
class PixelPyramid:
    """Box-averaged levels of an image's stored values.

    ``levels[k]`` has about ``1 / 2**k`` of the full resolution; its values are
    ``stored - value_offset``.  ``stored_min`` / ``stored_max`` are the true
    extremes of the full-resolution stored data (not the averaged levels).
    """

    levels: tuple[npt.NDArray[np.unsignedinteger], ...]
    value_offset: int
    stored_min: int
    stored_max: int

    @property
    def shown_max(self) -> int:
        """The largest stored value the levels tell apart: ``stored_max``, or 16 bits above ``value_offset`` where
        a wider range (32-bit data) was clipped there."""
        return min(self.stored_max, self.value_offset + 65535)

    @property
    def full_shape(self) -> tuple[int, int]:
        return (int(self.levels[0].shape[0]), int(self.levels[0].shape[1]))

    def level_for_scale(self, device_pixels_per_stored_pixel: float) -> int:
        """The coarsest level that still has at least one pixel per screen pixel.

        Choosing a level no coarser than the screen keeps every detail the
        screen can show; anything finer only costs time.
        """
        if device_pixels_per_stored_pixel <= 0:
            return len(self.levels) - 1
        factor = 1.0 / device_pixels_per_stored_pixel
        k = int(np.floor(np.log2(factor))) if factor >= 1.0 else 0
        return max(0, min(k, len(self.levels) - 1))


def halve(arr: npt.NDArray[np.unsignedinteger]) -> npt.NDArray[np.unsignedinteger]:
    """2x2 box average (rounded), dropping a trailing odd row/column.

    Sums in uint32 so nothing overflows; the strided slices avoid a reshape copy.
    """
    h, w = (arr.shape[0] // 2) * 2, (arr.shape[1] // 2) * 2
    acc = arr[0:h:2, 0:w:2].astype(np.uint32)
    acc += arr[1:h:2, 0:w:2]
    acc += arr[0:h:2, 1:w:2]
    acc += arr[1:h:2, 1:w:2]
    acc += 2
    acc >>= 2
    return acc.astype(arr.dtype)


def build_pyramid(stored: npt.NDArray[np.generic], min_side: int = MIN_LEVEL_SIDE) -> PixelPyramid:
    """Build the pyramid of a 2-D integer (or float) stored array.

    Unsigned 8/16-bit data are used as they are; anything else (signed, 32-bit,
    float) is shifted to start at 0 and stored as uint16, clipping a range wider
    than 16 bits (such data are not mammograms in practice, but must not crash).
    """
    if stored.ndim != 2 or stored.size == 0:
        raise ValueError(f"expected a non-empty 2-D array, got shape {stored.shape}")
    lo, hi = int(np.min(stored)), int(np.max(stored))
    if stored.dtype in (np.uint8, np.uint16):
        base: npt.NDArray[np.unsignedinteger] = stored  # type: ignore[assignment]
        offset = 0
    else:
        offset = lo
        shifted = np.clip(stored.astype(np.int64) - offset, 0, 65535)
        base = shifted.astype(np.uint16)
    levels = [base]
    while max(levels[-1].shape) >= 2 * min_side and min(levels[-1].shape) >= 4:
        levels.append(halve(levels[-1]))
    return PixelPyramid(levels=tuple(levels), value_offset=offset, stored_min=lo, stored_max=hi)
