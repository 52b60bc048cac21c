"""An image made ready for display: pyramid + preset statistics, built in the loader thread.

Everything expensive the viewer needs per image (min/max of 12 Mpx, the box-averaged
levels, the tissue statistics behind the window presets) happens here, once, off
the GUI thread.  Pure numpy; no Qt.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from mammoview.gui.pyramid import PixelPyramid, build_pyramid
from mammoview.gui.window_level import ImageStats, image_stats
from mammoview.io import display_transform
from mammoview.io.model import MammoImage, View
from mammoview.io.pixels import padding_mask

#: The statistics are taken from the first level with at most this many pixels.
STATS_LEVEL_PIXELS = 300_000


@dataclass(frozen=True, eq=False)
class DisplayImage:
    """A decoded image with what the panel needs to draw it."""

    image: MammoImage
    pyramid: PixelPyramid
    stats: ImageStats
    #: drawn from a preview (:mod:`mammoview.io.preview`: reduced resolution, enlarged); the full image follows
    preview: bool = False

    @property
    def view(self) -> View | None:
        return self.image.view

    def with_view(self, view: View) -> DisplayImage:
        """The same pixels assigned to ``view`` by the reader, with the flips recomputed for it."""
        image = self.image.with_info(self.image.info.with_view(view))
        image = replace(image, display=display_transform(image))
        return replace(self, image=image)


def prepare_display(image: MammoImage) -> DisplayImage:
    """Pyramid and preset statistics of ``image`` (call from a worker thread)."""
    pyramid = build_pyramid(image.stored)
    chain = image.info.chain
    if chain.padding_value is None:
        sample = next((lvl for lvl in pyramid.levels if lvl.size <= STATS_LEVEL_PIXELS), pyramid.levels[-1])
        stats = image_stats(chain, sample, pyramid.value_offset, pyramid.stored_min, pyramid.stored_max)
        return DisplayImage(image=image, pyramid=pyramid, stats=stats)
    # Pixel Padding Value: the box averages blend the padding into its neighbours, where the padding mask no longer
    # finds it, so the statistics take a strided sample of the stored values, and the range of the values that are
    # no padding (a padding value far outside the data would otherwise stretch "Full range" and the drag step)
    stored = image.stored
    step = max(1, math.ceil(math.sqrt(stored.size / STATS_LEVEL_PIXELS)))
    keep = ~padding_mask(stored, chain)
    lo, hi = pyramid.stored_min, pyramid.stored_max
    if keep.any():
        lo, hi = int(np.min(stored, where=keep, initial=hi)), int(np.max(stored, where=keep, initial=lo))
    stats = image_stats(chain, stored[::step, ::step], 0, lo, hi)
    return DisplayImage(image=image, pyramid=pyramid, stats=stats)
