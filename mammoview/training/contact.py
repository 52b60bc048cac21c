"""Contact sheets: a grid of random patches per class with their labels, to check them by eye."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt

from mammoview.training.figures import save_png


def pick_for_sheet(
    sources: Sequence[str], n: int, rng: np.random.Generator, min_per_source: int = 8
) -> npt.NDArray[np.int64]:
    """Up to ``n`` random indices, every source represented (``min_per_source`` each when it has them)."""
    src = np.asarray(sources, dtype=object)
    names = sorted(set(src.tolist()))
    chosen: list[int] = []
    for s in names:
        idx = np.flatnonzero(src == s)
        k = min(idx.size, max(min_per_source, round(n * idx.size / max(1, src.size))))
        chosen.extend(rng.choice(idx, size=k, replace=False).tolist())
    chosen = chosen[:n] if len(chosen) <= n else rng.choice(chosen, size=n, replace=False).tolist()
    return np.asarray(sorted(chosen), dtype=np.int64)


def contact_sheet(
    patches: Sequence[npt.NDArray[np.uint8]],
    titles: Sequence[str],
    path: Path,
    *,
    boxes: Sequence[tuple[float, float, float, float] | None] | None = None,
    heading: str = "",
    ncols: int = 8,
) -> Path:
    """Write a PNG grid of patches (first channel, fixed grey levels), each with its title.

    Parameters
    ----------
    patches : sequence of uint8 arrays (P, P)
        Quantised patches (0..255 shown as black..white; no per-patch stretching, so
        brightness differences stay visible).
    titles : sequence of str
        One short line per patch.
    boxes : sequence of (x0, y0, x1, y1) or None, optional
        Lesion outline in patch pixels, drawn in yellow.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.patches import Rectangle

    n = len(patches)
    nrows = max(1, -(-n // ncols))
    fig = Figure(figsize=(ncols * 1.6, nrows * 1.75 + 0.4), dpi=90)
    FigureCanvasAgg(fig)
    if heading:
        fig.suptitle(heading, fontsize=10)
    for k in range(nrows * ncols):
        ax = fig.add_subplot(nrows, ncols, k + 1)
        ax.set_axis_off()
        if k >= n:
            continue
        img = patches[k]
        ax.imshow(img, cmap="gray", vmin=0, vmax=255, interpolation="nearest")
        ax.set_title(titles[k], fontsize=6)
        if boxes is not None and boxes[k] is not None:
            x0, y0, x1, y1 = boxes[k]  # type: ignore[misc]
            ax.add_patch(Rectangle((x0 - 0.5, y0 - 0.5), x1 - x0, y1 - y0, fill=False, ec="yellow", lw=0.8))
            ax.set_xlim(-0.5, img.shape[1] - 0.5)
            ax.set_ylim(img.shape[0] - 0.5, -0.5)
    fig.tight_layout()
    return save_png(fig, path)
