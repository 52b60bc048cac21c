"""Heatmap pictures for ``detect --heatmaps``: a jet-like colour map blended over the grey image.

The GUI draws heatmaps itself (uint8 + lookup table); this is only for files on disk.  Both
colour the map's log-odds levels (:func:`mammoview.cad.types.heat_levels`) and leave values
below :data:`DEFAULT_THRESHOLD` transparent, so a picture looks like the viewer's default.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt

from mammoview.cad.types import Heatmap, heat_levels

#: Longest side of the written picture (stored pixels are block-sampled down to it).
MAX_SIDE = 2048
#: Heatmap probabilities below this are not painted (the viewer's default threshold): about where the shipped
#: model makes two false marks per validation image (p 0.78 with 1.3.3, 0.82 with 1.3.4, 0.86 with 1.3.7).  Below
#: it the map covers most of a dense breast.
DEFAULT_THRESHOLD = 0.80


def jet(values: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    """Jet-like RGB in [0, 1] for values in [0, 1] (blue -> cyan -> yellow -> red)."""
    v = np.clip(values, 0.0, 1.0)[..., None]
    centres = np.array([0.75, 0.5, 0.25], dtype=np.float32)  # r, g, b peaks
    rgb: npt.NDArray[np.float32] = np.clip(1.5 - np.abs(4.0 * (v - centres)), 0.0, 1.0).astype(np.float32)
    return rgb


#: Levels this far above the threshold reach full alpha (about 1.3 log-odds units); a soft
#: edge avoids hard contours at the threshold that could be mistaken for lesion borders.
RAMP = 20.0


def threshold_level(threshold: float) -> int:
    """The first heatmap level shown at probability threshold ``threshold`` (0: every level)."""
    return int(heat_levels(float(np.clip(threshold, 0.0, 1.0)))) if threshold > 0 else 0


def heat_lut(threshold: float = 0.0) -> npt.NDArray[np.uint8]:
    """(256, 4) RGBA table for the heatmap levels 0..255: jet colours, transparent below ``threshold``.

    Parameters
    ----------
    threshold
        Probabilities below it are transparent (level 0 is always transparent).
    """
    levels = np.arange(256, dtype=np.float32)
    rgb = jet(levels / 255.0)
    first = threshold_level(threshold)
    alpha = np.clip((levels - first) / RAMP + 0.35, 0.0, 1.0)
    alpha[levels < first] = 0.0
    alpha[0] = 0.0
    lut = np.empty((256, 4), dtype=np.uint8)
    lut[:, :3] = np.rint(rgb * 255.0).astype(np.uint8)
    lut[:, 3] = np.rint(alpha * 255.0).astype(np.uint8)
    return lut


def sample_heatmap(heatmap: Heatmap, rows: int, cols: int, factor: int) -> npt.NDArray[np.uint8]:
    """Heatmap levels at the centres of a ``factor``-downsampled stored grid (nearest cell, 0 outside)."""
    out_r, out_c = -(-rows // factor), -(-cols // factor)
    ys = (np.arange(out_r) + 0.5) * factor
    xs = (np.arange(out_c) + 0.5) * factor
    i = np.floor((ys - heatmap.y0) / heatmap.scale_y).astype(int)
    j = np.floor((xs - heatmap.x0) / heatmap.scale_x).astype(int)
    h, w = heatmap.data.shape
    vi, vj = (i >= 0) & (i < h), (j >= 0) & (j < w)
    out = np.zeros((out_r, out_c), dtype=np.uint8)
    out[np.ix_(vi, vj)] = heatmap.data[np.ix_(i[vi], j[vj])]
    return out


def overlay(
    presentation: npt.NDArray[np.float32], heatmap: Heatmap, alpha: float = 0.5, threshold: float = DEFAULT_THRESHOLD
) -> npt.NDArray[np.uint8]:
    """RGB uint8 picture: grey presentation image with the heatmap blended as the viewer's :func:`heat_lut`."""
    rows, cols = presentation.shape
    factor = max(1, -(-max(rows, cols) // MAX_SIDE))
    # block means, the last row and column of blocks over the pixels they have
    starts_r, starts_c = np.arange(0, rows, factor), np.arange(0, cols, factor)
    sums = np.add.reduceat(np.add.reduceat(presentation, starts_r, axis=0), starts_c, axis=1)
    grey = sums / np.outer(np.diff(starts_r, append=rows), np.diff(starts_c, append=cols))
    rgba = heat_lut(threshold)[sample_heatmap(heatmap, rows, cols, factor)].astype(np.float32) / 255.0
    a = alpha * rgba[..., 3:]
    rgb = (1.0 - a) * grey[..., None] + a * rgba[..., :3]
    out: npt.NDArray[np.uint8] = np.clip(np.rint(rgb * 255.0), 0, 255).astype(np.uint8)
    return out


def heatmap_grid(heatmap: Heatmap, image_width: int, image_height: int, cam: str = "cam") -> dict[str, object]:
    """Where ``heatmap``'s cells lie on the stored image: what ``<stem>.json`` beside its ``.npy`` says.

    Cell ``[i, j]`` of the array covers the stored-grid rectangle from
    ``(x0 + j * cell_width, y0 + i * cell_height)`` to one cell further (x = column, y = row,
    origin top-left, before any display flip), the convention of ``detect``'s coordinates.
    """
    h, w = heatmap.data.shape
    return {
        "map": heatmap.name,
        "method": cam,
        "values": (
            f"p({heatmap.name}) per cell, float32 in [0, 1]; 0 outside the breast"
            if cam == "cam"
            else f"Grad-CAM saliency per cell, float32, scaled so its peak is the image's highest p({heatmap.name}); "
            "0 outside the breast"
        ),
        "shape": [h, w],
        "x0": heatmap.x0,
        "y0": heatmap.y0,
        "cell_width": heatmap.scale_x,
        "cell_height": heatmap.scale_y,
        "image_width": image_width,
        "image_height": image_height,
        "cell": "cell [i, j] covers stored pixels x0 + j*cell_width .. + cell_width, y0 + i*cell_height .. "
        "+ cell_height (x = column, y = row, origin top-left, before any display flip)",
    }


def write_heatmap_files(
    out_dir: Path,
    stem: str,
    presentation: npt.NDArray[np.float32],
    heatmap: Heatmap,
    cam: str = "cam",
    image: str | None = None,
) -> tuple[Path, Path, Path]:
    """Write ``<stem>.png`` (overlay), ``<stem>.npy`` (the heatmap as float32 [0, 1]) and ``<stem>.json``
    (where its cells lie on the stored image, :func:`heatmap_grid`, and ``image``: the file it is of, since images
    of one name in several folders -- every TCIA CBIS-DDSM file is ``1-1.dcm`` -- get ``1-1``, ``1-1_2``...);
    return the three paths."""
    import io
    import json

    from matplotlib.image import imsave  # only the CLI writes pictures; keep import-time light

    from mammoview.io.files import atomic_write_bytes, atomic_write_text

    out_dir.mkdir(parents=True, exist_ok=True)
    png, npy, grid = out_dir / f"{stem}.png", out_dir / f"{stem}.npy", out_dir / f"{stem}.json"
    picture, values = io.BytesIO(), io.BytesIO()
    imsave(picture, overlay(presentation, heatmap), format="png")
    np.save(values, heatmap.as_float())
    # the map before the picture: a PNG with its .npy beside it is one of ours (replaced by the next run), so an
    # interrupted write must never leave the picture alone, which the next run would keep as someone else's
    for path, buf in ((npy, values), (png, picture)):
        atomic_write_bytes(path, buf.getvalue(), private=False)  # a full disk leaves no half-written file
    rows, cols = presentation.shape
    doc = heatmap_grid(heatmap, cols, rows, cam)
    if image is not None:
        doc["image"] = image
    atomic_write_text(grid, json.dumps(doc, indent=1) + "\n")
    return png, npy, grid
