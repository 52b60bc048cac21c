"""An image made ready for display: pyramid + preset statistics, built in the loader thread.

Everything expensive the viewer needs per image (min/max of 12 Mpx, the box-averaged
levels, the tissue statistics behind the window presets) happens here, once, off
the GUI thread.  Pure numpy; no Qt.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from mammoview.gui.pyramid import PixelPyramid, build_pyramid
from mammoview.gui.window_level import ImageStats, image_stats
from mammoview.io import display_transform
from mammoview.io.model import MammoImage, View

#: The statistics are taken from the first level with at most this many pixels.
STATS_LEVEL_PIXELS = 300_000


@dataclass(frozen=True, eq=False)
class DisplayImage:
    """A decoded image with what the panel needs to draw it."""

    image: MammoImage
    pyramid: PixelPyramid
    stats: ImageStats

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
    sample = next((lvl for lvl in pyramid.levels if lvl.size <= STATS_LEVEL_PIXELS), pyramid.levels[-1])
    stats = image_stats(image.info.chain, sample, pyramid.value_offset, pyramid.stored_min, pyramid.stored_max)
    return DisplayImage(image=image, pyramid=pyramid, stats=stats)
