"""Fit to the breast: zoom each link group to the tissue's bounding box, still justified to the chest wall.

Scanned films (CBIS-DDSM) carry wide black margins, labels and film edges, so fitting
the whole image leaves the breast small in its panel.  The tissue box comes from an
Otsu threshold on a small pyramid level (at most :data:`MASK_PIXELS` pixels: about a
millisecond, so it is computed on demand and cached per image), with the recipe of
:func:`mammoview.cad.breast_mask.breast_mask` (not imported: it pulls scikit-image into
the GUI thread): saturated labels clipped before Otsu, a thin border band cut so film
edges and labels touching the border stay apart, then the largest component.

Linked panels must show one scene range (their links copy it), so a group is fitted to
the union of its panels' boxes: the widest reach from the chest wall and the union
of their vertical extents.  x = 0 stays at each panel's chest-wall edge.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable, Mapping

import numpy as np
import numpy.typing as npt
from PySide6 import QtCore

from mammoview.gui.display_image import DisplayImage
from mammoview.gui.linking import LinkMode, fit_groups, link_groups
from mammoview.gui.view_panel import ViewPanel
from mammoview.io.model import View

MASK_PIXELS = 70_000
#: Border band cut before labelling, as a fraction of the longer side (~3 mm on a film).
BAND = 0.012
#: Space kept around the tissue box, as a fraction of its size.
MARGIN = 0.03
#: The default fit uses the breast box only when it enlarges the breast at least this much;
#: for images the breast already fills (most digital mammograms) a few per cent more zoom
#: is not worth losing the image edge from view.
MIN_GAIN = 1.15

_boxes: weakref.WeakKeyDictionary[DisplayImage, tuple[float, float, float, float] | None] = weakref.WeakKeyDictionary()


def otsu_threshold(values: npt.NDArray[np.floating]) -> float:
    """Otsu's threshold of ``values`` (256-bin histogram)."""
    lo, hi = float(values.min()), float(values.max())
    if hi <= lo:
        return lo
    hist, edges = np.histogram(values, bins=256, range=(lo, hi))
    centres = (edges[:-1] + edges[1:]) / 2
    w0 = np.cumsum(hist)
    w1 = w0[-1] - w0
    m0 = np.cumsum(hist * centres)
    with np.errstate(divide="ignore", invalid="ignore"):
        mu0 = m0 / w0
        mu1 = (m0[-1] - m0) / w1
        between = w0 * w1 * (mu0 - mu1) ** 2
    return float(centres[int(np.nanargmax(np.nan_to_num(between, nan=-1.0)))])


def tissue_box(display: DisplayImage) -> tuple[float, float, float, float] | None:
    """Stored-grid box ``(x0, y0, x1, y1)`` of the breast, or None (blank image); cached."""
    if display in _boxes:
        return _boxes[display]
    from mammoview.io.pixels import to_presentation

    p = display.pyramid
    k = next((i for i, lvl in enumerate(p.levels) if lvl.size <= MASK_PIXELS), len(p.levels) - 1)
    level = p.levels[k].astype(np.int64) + p.value_offset
    # Tissue bright, whatever the photometry; the full range of the values, not the header's display window (as
    # the CAD reads them): a window that whites out the breast joins it to the film edges.
    pres = to_presentation(level, display.image.info.chain, None)
    _boxes[display] = box = _largest_box(pres)
    if box is not None:
        sy, sx = display.image.shape[0] / level.shape[0], display.image.shape[1] / level.shape[1]
        _boxes[display] = box = (box[0] * sx, box[1] * sy, box[2] * sx, box[3] * sy)
    return box


def _largest_box(pres: npt.NDArray[np.float32]) -> tuple[float, float, float, float] | None:
    """Box (x0, y0, x1, y1) of the largest bright component, in ``pres`` pixels."""
    from scipy import ndimage as ndi

    if pres.size == 0 or float(pres.max()) <= float(pres.min()):
        return None
    # Labels and film edges are a few per cent of saturated pixels: clip them so Otsu splits
    # background from tissue, then go half-way to the background level to keep the skin line.
    clipped = np.minimum(pres, np.percentile(pres, 95))
    background = float(np.percentile(pres, 5))
    fg = pres > background + 0.5 * (otsu_threshold(clipped) - background)
    band = max(1, round(BAND * max(pres.shape)))
    fg[:band], fg[-band:], fg[:, :band], fg[:, -band:] = False, False, False, False
    labels, n = ndi.label(fg)
    if not n:
        return None
    sizes = np.bincount(labels.ravel())
    sizes[0] = 0
    rows, cols = np.nonzero(labels == int(np.argmax(sizes)))
    h, w = pres.shape
    # The breast runs into the chest-wall edge (and an MLO's into the top): a box reaching the
    # cut band is given back the band.
    x0, y0 = (0 if cols.min() <= band else cols.min()), (0 if rows.min() <= band else rows.min())
    x1 = w if cols.max() >= w - band - 1 else cols.max() + 1
    y1 = h if rows.max() >= h - band - 1 else rows.max() + 1
    return (float(x0), float(y0), float(x1), float(y1))


def scene_box(panel: ViewPanel) -> tuple[float, float, float] | None:
    """The tissue box in the panel's scene: (reach from the chest wall, top y, bottom y)."""
    if panel.display is None or (box := tissue_box(panel.display)) is None:
        return None
    x0, y0, x1, y1 = box
    rect = panel.stored_transform().mapRect(QtCore.QRectF(x0, y0, x1 - x0, y1 - y0))
    return (rect.right(), rect.top(), rect.bottom())


def fit_to_breast(
    panels: Mapping[View, ViewPanel],
    mode: LinkMode,
    visible: Iterable[View] | None = None,
    min_gain: float = 1.0,
) -> None:
    """Fit every link group to its tissue box; a group gaining less than ``min_gain`` gets the image fit."""
    visible = list(visible) if visible is not None else None
    for group in link_groups(mode, visible):
        boxes = [b for v in group if (b := scene_box(panels[v])) is not None]
        sizes = [panels[v].content_size() for v in group]
        full_w = max((s[0] for s in sizes), default=0.0)
        full_h = max((s[1] for s in sizes), default=0.0)
        if not boxes or full_w <= 0:
            fit_groups(panels, mode, group)  # an empty or blank group: the plain fit
            continue
        reach = max(b[0] for b in boxes)
        top, bottom = min(b[1] for b in boxes), max(b[2] for b in boxes)
        pad = MARGIN * max(reach, bottom - top)
        width, y0, height = reach + pad, max(0.0, top - pad), min(full_h, bottom + pad) - max(0.0, top - pad)
        vb = panels[group[0]].view_box
        w, h = max(vb.width(), 1.0), max(vb.height(), 1.0)
        gain = min(w / width, h / height) / min(w / full_w, h / full_h)
        for view in group:
            if gain >= min_gain:
                panels[view].fit_to(width, height, y0=y0)
            else:
                panels[view].fit_to(full_w, full_h)


def fit_default(panels: Mapping[View, ViewPanel], mode: LinkMode, visible: Iterable[View], breast: bool) -> None:
    """The fit used on opening and relinking: to the breast when that gains :data:`MIN_GAIN`, else the image."""
    if breast:
        fit_to_breast(panels, mode, visible, min_gain=MIN_GAIN)
    else:
        fit_groups(panels, mode, visible)
