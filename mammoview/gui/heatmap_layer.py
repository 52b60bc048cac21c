"""The heatmap of one panel: its own ImageItem with uint8 data, a 256-entry RGBA LUT and item opacity.

Per STYLE.md there is no float or NaN overlay (pyqtgraph's slow path): the engine's
uint8 :class:`~mammoview.cad.types.Heatmap` is shown as is, its coarse grid stretched
over the stored image with ``setRect`` (the panel's smooth pixmap transform blends the
cells), and the threshold lives in the LUT's alpha channel, so moving the threshold
slider only swaps a 1 KB table.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg

from mammoview.cad.render import heat_lut
from mammoview.cad.types import Heatmap

#: Map names in menu order (the engine's ``ImageCadResult.heatmaps`` keys).
MAP_NAMES = ("abnormal", "mass", "calcification", "malignant")
HEATMAP_Z = 10


class HeatmapLayer:
    """One ImageItem showing one of an image's class maps."""

    def __init__(self, heatmaps: dict[str, Heatmap]) -> None:
        self.heatmaps = heatmaps
        self.item = pg.ImageItem(axisOrder="row-major")
        self.item.setFlag(self.item.GraphicsItemFlag.ItemIsMovable, False)
        self.map_name: str | None = None
        self._threshold: float | None = None

    def show_map(self, name: str) -> bool:
        """Show map ``name``; False (and an empty item) when the result has no such map."""
        if name == self.map_name:
            return name in self.heatmaps
        self.map_name = name
        hm = self.heatmaps.get(name)
        if hm is None:
            self.item.setImage(np.zeros((1, 1), np.uint8), levels=(0, 255), autoLevels=False)
            return False
        self.item.setImage(np.ascontiguousarray(hm.data), levels=(0, 255), autoLevels=False)
        self.item.setRect(*hm.rect)
        return True

    def set_threshold(self, threshold: float) -> None:
        if threshold != self._threshold:
            self._threshold = threshold
            self.item.setLookupTable(heat_lut(threshold))

    def set_opacity(self, opacity: float) -> None:
        self.item.setOpacity(float(np.clip(opacity, 0.0, 1.0)))
