"""The heatmap colour map (:func:`mammoview.cad.render.heat_lut`) as the viewer shows it. No Qt.

The maps' levels are linear in the log-odds of the probability
(:func:`mammoview.cad.types.heat_levels`), so the colours follow how sure the CAD is
where its scores live (p 0.78 to 0.9999 spans cyan to red) instead of painting
everything above p 0.97 one red.  The table is the one ``detect --heatmaps`` pictures
use (blue -> cyan -> yellow -> red), so they and the viewer agree.  Level 0 and every
level below the reader's threshold are fully transparent: a probability map covers the
whole breast, and painting low values would tint normal tissue.  Here: the legend's
colour bar and the threshold's read-out.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from mammoview.cad.render import heat_lut, threshold_level

#: Probabilities labelled under the colour bar.
TICKS = (0.5, 0.99, 0.9999)


def bar_position(probability: float) -> float:
    """Where ``probability`` lies on the colour bar, 0 (left) to 1 (right)."""
    return threshold_level(probability) / 255.0


def colorbar_rgba(width: int, height: int, threshold: float = 0.0) -> npt.NDArray[np.uint8]:
    """A horizontal colour bar (``height`` x ``width`` x 4, RGBA) of :func:`heat_lut`, level 0 on the left."""
    lut = heat_lut(threshold)
    idx = np.rint(np.linspace(0, 255, max(width, 1))).astype(int)
    row = lut[idx]
    return np.ascontiguousarray(np.broadcast_to(row[None], (max(height, 1), row.shape[0], 4)))


def format_probability(p: float) -> str:
    """``p`` with the decimals that tell values near 1 apart (0.78, 0.997, 0.99990)."""
    if p < 0.99 or p >= 1.0:
        return f"{p:.2f}"
    nines = int(np.floor(-np.log10(1.0 - p) - 1e-6))  # 0.997 -> 2, 0.9999 -> 3
    return f"{p:.{min(nines + 1, 6)}f}"
