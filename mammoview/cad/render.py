"""Heatmap pictures for ``detect --heatmaps``: a jet-like colour map blended over the grey image.

The GUI draws heatmaps itself (uint8 + lookup table); this is only for files on disk.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt

from mammoview.cad.types import Heatmap

#: Longest side of the written picture (stored pixels are block-sampled down to it).
MAX_SIDE = 2048


def jet(values: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    """Jet-like RGB in [0, 1] for values in [0, 1] (blue -> cyan -> yellow -> red)."""
    v = np.clip(values, 0.0, 1.0)[..., None]
    centres = np.array([0.75, 0.5, 0.25], dtype=np.float32)  # r, g, b peaks
    rgb: npt.NDArray[np.float32] = np.clip(1.5 - np.abs(4.0 * (v - centres)), 0.0, 1.0).astype(np.float32)
    return rgb


def sample_heatmap(heatmap: Heatmap, rows: int, cols: int, factor: int) -> npt.NDArray[np.float32]:
    """Heatmap values [0, 1] at the centres of a ``factor``-downsampled stored grid (nearest cell)."""
    out_r, out_c = -(-rows // factor), -(-cols // factor)
    ys = (np.arange(out_r) + 0.5) * factor
    xs = (np.arange(out_c) + 0.5) * factor
    i = np.floor((ys - heatmap.y0) / heatmap.scale_y).astype(int)
    j = np.floor((xs - heatmap.x0) / heatmap.scale_x).astype(int)
    h, w = heatmap.data.shape
    vi, vj = (i >= 0) & (i < h), (j >= 0) & (j < w)
    out = np.zeros((out_r, out_c), dtype=np.float32)
    out[np.ix_(vi, vj)] = heatmap.as_float()[np.ix_(i[vi], j[vj])]
    return out


def overlay(presentation: npt.NDArray[np.float32], heatmap: Heatmap, alpha: float = 0.5) -> npt.NDArray[np.uint8]:
    """RGB uint8 picture: grey presentation image with the heatmap blended where it is > 0."""
    rows, cols = presentation.shape
    factor = max(1, -(-max(rows, cols) // MAX_SIDE))
    r, c = (rows // factor) * factor, (cols // factor) * factor
    grey = presentation[:r, :c].reshape(r // factor, factor, c // factor, factor).mean(axis=(1, 3))
    grey = np.pad(grey, ((0, -(-rows // factor) - grey.shape[0]), (0, -(-cols // factor) - grey.shape[1])))
    heat = sample_heatmap(heatmap, rows, cols, factor)
    a = (alpha * np.clip((heat - 0.05) * 4.0, 0.0, 1.0))[..., None]  # faint values stay see-through
    rgb = (1.0 - a) * grey[..., None] + a * jet(heat)
    out: npt.NDArray[np.uint8] = np.clip(np.rint(rgb * 255.0), 0, 255).astype(np.uint8)
    return out


def write_heatmap_files(
    out_dir: Path, stem: str, presentation: npt.NDArray[np.float32], heatmap: Heatmap
) -> tuple[Path, Path]:
    """Write ``<stem>.png`` (overlay) and ``<stem>.npy`` (the heatmap as float32 [0, 1]); return both paths."""
    from matplotlib.image import imsave  # only the CLI writes pictures; keep import-time light

    out_dir.mkdir(parents=True, exist_ok=True)
    png, npy = out_dir / f"{stem}.png", out_dir / f"{stem}.npy"
    imsave(png, overlay(presentation, heatmap))
    np.save(npy, heatmap.as_float())
    return png, npy
