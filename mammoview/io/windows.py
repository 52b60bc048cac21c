"""Choosing a window from data: Otsu's split, tissue percentiles, LINEAR windows from a range.

Plain numpy on modality values (no pixel chain here; :mod:`mammoview.io.pixels`
samples the image and calls these), so io stays light and the rules are testable
on their own.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from mammoview.io.chain_model import VoiFunction, VoiWindow

#: Percentiles of the tissue values a default window spans: a little of the darkest fat
#: and the brightest labels/markers is clipped so the tissue gets the contrast.
TISSUE_PERCENTILES = (0.5, 99.8)


def window_from_range(lo: float, hi: float, explanation: str = "", step: float = 1.0) -> VoiWindow:
    """The LINEAR window (PS3.3 C.11.2.1.2.1) mapping ``lo`` to black and ``hi`` to white.

    ``step``: the values' step (a rescale's slope).  Finer than 1 (a float image read as 65536 steps of its range, a
    slope below 1), a LINEAR_EXACT window (C.11.2.1.3.2): LINEAR's edges lie half a unit outside the range, which
    widened a 0-1 image's window to W 1.5 L 1.25, its tissue in the darker half of the grey scale.
    """
    lo, hi = float(lo), float(hi)
    if hi < lo:
        lo, hi = hi, lo
    if 0 < abs(step) < 1:
        return VoiWindow((lo + hi) / 2.0, max(hi - lo, abs(step)), VoiFunction.LINEAR_EXACT, explanation)
    # LINEAR: below c - 0.5 - (w-1)/2 -> 0, above c - 0.5 + (w-1)/2 -> 1.
    return VoiWindow(center=(lo + hi) / 2.0 + 0.5, width=hi - lo + 1.0, explanation=explanation)


def otsu_threshold(values: npt.NDArray[np.generic], bins: int = 256) -> float:
    """Otsu's threshold of ``values`` (numpy only, so io stays light): maximises between-class variance."""
    v = np.asarray(values, dtype=np.float64).ravel()
    hist, edges = np.histogram(v, bins=bins)
    centers = (edges[:-1] + edges[1:]) / 2.0
    w0 = np.cumsum(hist, dtype=np.float64)
    w1 = w0[-1] - w0
    m0 = np.cumsum(hist * centers)
    mu0 = np.divide(m0, w0, out=np.zeros_like(m0), where=w0 > 0)
    mu1 = np.divide(m0[-1] - m0, w1, out=np.zeros_like(m0), where=w1 > 0)
    between = w0 * w1 * (mu0 - mu1) ** 2
    return float(centers[int(np.argmax(between[:-1]))]) if bins > 1 else float(centers[0])


def tissue_range(values: npt.NDArray[np.generic], tissue_bright: bool = True) -> tuple[float, float, str]:
    """(low, high, explanation) of the tissue among modality ``values``.

    Otsu's threshold splits tissue from background; the background is the class that
    is dark after presentation (low values when ``tissue_bright``, i.e. MONOCHROME2;
    high values for MONOCHROME1).  Returns the :data:`TISSUE_PERCENTILES` of the tissue
    class, or the full range when the split is degenerate (flat or nearly empty).
    """
    v = np.asarray(values, dtype=np.float64).ravel()
    vmin, vmax = float(v.min()), float(v.max())
    if vmax <= vmin:
        return vmin, vmax, "flat image"
    t = otsu_threshold(v)
    tissue = v[v > t] if tissue_bright else v[v <= t]
    if tissue.size < 0.02 * v.size:
        return vmin, vmax, "auto: full data range"
    lo, hi = np.percentile(tissue, TISSUE_PERCENTILES)
    return float(lo), float(hi), "auto: tissue"
