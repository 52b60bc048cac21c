"""The CAD reads every view upright, as the hanging protocol shows it, and answers on the stored grid.

The networks learned from films stored the way they hang (an MLO view's pectoral muscle at the top) and are not
invariant to an up-down flip: on the demo views a copy turned upside down moved the detector's score by 0.2-1.2 in
log-odds and, on one view, put another finding first (``models/analysis/flip_consistency.py``).  A view whose Patient
Orientation says it is stored upside down (the display flips it vertically: :func:`mammoview.io.display_transform`)
is therefore read turned upright, and every result (findings, contours, heatmaps, nipple, and the findings cut again
at another threshold) is turned back onto the stored grid, so the detect JSON, the SR and the viewer's overlays keep
their coordinates.  A left-right mirror needs no turn: the test-time flip pass reads both sides alike.

Coordinates are continuous (stored pixel ``i`` covers ``[i, i + 1)``), so a row coordinate ``y`` of an image ``rows``
high turns to ``rows - y``, and a box's top and bottom swap.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from mammoview.cad.resample import FloatArray
from mammoview.cad.types import Finding, FindingSource, Heatmap, ImageCadResult
from mammoview.io.model import MammoImage


def is_upside_down(image: MammoImage) -> bool:
    """The view is stored upside down from its hanging (a quarter turn is not turned: shown as stored)."""
    return image.display.flip_vertical and not image.display.quarter_turn


def turned_upright(image: MammoImage, presentation: FloatArray | None = None) -> tuple[MammoImage, FloatArray | None]:
    """``image`` (and its presentation values, when given) turned upside down: the upright view of an image
    :func:`is_upside_down` says is stored head down, with a display that no longer flips it."""
    upright = replace(image, stored=np.ascontiguousarray(image.stored[::-1]),
                      display=replace(image.display, flip_vertical=False))  # fmt: skip
    return upright, None if presentation is None else np.ascontiguousarray(presentation[::-1])


def on_stored_grid(result: ImageCadResult) -> ImageCadResult:
    """The result of the upright view turned back onto the grid of the image stored upside down."""
    rows = result.height
    return replace(
        result,
        findings=tuple(_finding(f, rows) for f in result.findings),
        heatmaps={name: _heatmap(h, rows) for name, h in result.heatmaps.items()},
        source=None if result.source is None else TurnedSource(result.source, rows),
        nipple=None if result.nipple is None else (result.nipple[0], rows - result.nipple[1]),
    )


@dataclass(frozen=True)
class TurnedSource:
    """Findings cut again at another threshold (:class:`~mammoview.cad.types.FindingSource`), turned back."""

    upright: FindingSource
    rows: int

    def findings(self, threshold: float) -> tuple[Finding, ...]:
        return tuple(_finding(f, self.rows) for f in self.upright.findings(threshold))


def _finding(f: Finding, rows: int) -> Finding:
    x0, y0, x1, y1 = f.bbox
    contour = np.c_[f.contour[:, 0], rows - f.contour[:, 1]] if len(f.contour) else f.contour
    return replace(f, center=(f.center[0], rows - f.center[1]), bbox=(x0, rows - y1, x1, rows - y0), contour=contour)


def _heatmap(h: Heatmap, rows: int) -> Heatmap:
    top = rows - (h.y0 + h.data.shape[0] * h.scale_y)
    return replace(h, data=np.ascontiguousarray(h.data[::-1]), y0=top)
