"""The image item of a panel: stored values + explicit levels + the display LUT, at the right pyramid level.

The item always covers the full stored grid ``[0, columns] x [0, rows]`` in its
parent's coordinates, whichever pyramid level it currently holds, so overlays and
the panel's flips never need to know about levels.  pyqtgraph folds ``levels`` and
``lut`` into one table and applies it with a single gather to uint8 (its fast
path for uint8/uint16 data); levels are chosen so that this is exactly
``lut[stored - offset]`` (see :meth:`StoredImageItem.set_display`).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pyqtgraph as pg
from PySide6 import QtCore

from mammoview.gui.pyramid import PixelPyramid

#: pyqtgraph only folds levels into a LUT with more than 256 entries (fewer are applied
#: per pixel in float); short LUTs are padded to this length.
_MIN_LUT_LENGTH = 257


class StoredImageItem(pg.ImageItem):  # type: ignore[misc]  # pyqtgraph is untyped
    """A pg.ImageItem showing one level of a :class:`PixelPyramid` through an 8-bit display LUT.

    ``sigPainted`` fires after the first paint following a content change (used to
    measure time-to-display and by tests waiting for a frame).
    """

    sigPainted = QtCore.Signal()

    def __init__(self) -> None:
        super().__init__(axisOrder="row-major")
        self.pyramid: PixelPyramid | None = None
        self.level_index = 0
        self._lut_offset = 0
        self._lut: npt.NDArray[np.uint8] = np.zeros(_MIN_LUT_LENGTH, np.uint8)
        self._fresh = False

    # -- content -----------------------------------------------------------------------
    def set_pyramid(
        self, pyramid: PixelPyramid | None, level: int, lut_offset: int, lut: npt.NDArray[np.uint8]
    ) -> None:
        """Show ``pyramid`` at ``level`` through ``lut`` (``None`` clears the item)."""
        self.pyramid = pyramid
        if pyramid is None:
            self.clear()
            return
        self._lut_offset, self._lut = lut_offset, self._padded(lut)
        self._show_level(max(0, min(level, len(pyramid.levels) - 1)))

    def set_display(self, lut_offset: int, lut: npt.NDArray[np.uint8]) -> None:
        """Change the display LUT (window/level, inversion); only the shown level is re-mapped."""
        if self.pyramid is None:
            return
        self._lut_offset, self._lut = lut_offset, self._padded(lut)
        self.setLookupTable(self._lut, update=False)
        self.setLevels(self._levels())

    def set_level(self, level: int) -> None:
        """Switch to another pyramid level if it differs from the current one."""
        if self.pyramid is None:
            return
        level = max(0, min(level, len(self.pyramid.levels) - 1))
        if level != self.level_index:
            self._show_level(level)

    def display_lookup(self) -> tuple[int, npt.NDArray[np.uint8]]:
        """The current ``(offset, lut)``: ``lut[stored - offset]`` is the shown value."""
        return self._lut_offset, self._lut

    def shown_array(self) -> npt.NDArray[np.unsignedinteger] | None:
        """The array currently on the item (a pyramid level; level 0 is the stored data)."""
        return self.image  # type: ignore[no-any-return]

    # -- internals ---------------------------------------------------------------------
    def _levels(self) -> tuple[float, float]:
        # Level data hold ``stored - value_offset``; pyqtgraph maps v to LUT index
        # floor((v - lo) * n / (hi - lo)), which is v - lo exactly when hi - lo == n.
        assert self.pyramid is not None
        lo = self._lut_offset - self.pyramid.value_offset
        return (float(lo), float(lo + len(self._lut)))

    def _show_level(self, level: int) -> None:
        assert self.pyramid is not None
        self.level_index = level
        data = self.pyramid.levels[level]
        self.setImage(data, autoLevels=False, levels=self._levels(), lut=self._lut)
        rows, cols = self.pyramid.full_shape
        # Stretch the level over the full grid (a halved odd side loses < 1 screen pixel).
        self.setRect(QtCore.QRectF(0.0, 0.0, float(cols), float(rows)))
        self._fresh = True

    @staticmethod
    def _padded(lut: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
        if len(lut) >= _MIN_LUT_LENGTH:
            return lut
        return np.concatenate([lut, np.full(_MIN_LUT_LENGTH - len(lut), lut[-1] if len(lut) else 0, np.uint8)])

    def paint(self, painter, *args) -> None:  # type: ignore[no-untyped-def]
        super().paint(painter, *args)
        if self._fresh and self.image is not None:
            self._fresh = False
            self.sigPainted.emit()
