"""The heatmap colour map: a 256-entry RGBA lookup table for uint8 probability maps. No Qt.

The colours are the jet-like ramp of :func:`mammoview.cad.render.jet` (blue -> cyan ->
yellow -> red), so ``detect --heatmaps`` pictures and the viewer agree.  Entry 0 and
every entry below the reader's threshold are fully transparent: a probability map
covers the whole breast, and painting low values would tint normal tissue.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from mammoview.cad.render import jet

#: Values this far above the threshold reach full alpha; a soft edge avoids hard contours
#: at the threshold that could be mistaken for lesion borders.
RAMP = 0.08


def heat_lut(threshold: float = 0.0) -> npt.NDArray[np.uint8]:
    """(256, 4) RGBA table for heatmap values 0..255 (= probability 0..1).

    Parameters
    ----------
    threshold
        Probabilities below it are transparent (0 is always transparent).
    """
    values = np.arange(256, dtype=np.float32) / 255.0
    rgb = jet(values)
    thr = float(np.clip(threshold, 0.0, 1.0))
    alpha = np.clip((values - thr) / RAMP + 0.35, 0.0, 1.0)
    alpha[values < thr] = 0.0
    alpha[0] = 0.0
    lut = np.empty((256, 4), dtype=np.uint8)
    lut[:, :3] = np.rint(rgb * 255.0).astype(np.uint8)
    lut[:, 3] = np.rint(alpha * 255.0).astype(np.uint8)
    return lut


def colorbar_rgba(width: int, height: int, threshold: float = 0.0) -> npt.NDArray[np.uint8]:
    """A horizontal colour bar (``height`` x ``width`` x 4, RGBA) of :func:`heat_lut`, 0 on the left."""
    lut = heat_lut(threshold)
    idx = np.rint(np.linspace(0, 255, max(width, 1))).astype(int)
    row = lut[idx]
    return np.ascontiguousarray(np.broadcast_to(row[None], (max(height, 1), row.shape[0], 4)))
