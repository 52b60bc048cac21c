"""The two-view aid: a lesion lies at about the same distance from the nipple in the CC and the MLO view.

Selecting a finding or a reader mark in the findings panel draws, on the other view of
the same breast, the band where it should be: two dashed arcs ``BAND_MM`` either side
of its distance from the nipple, centred on that view's nipple (found by the CAD,
:func:`mammoview.cad.landmarks.nipple_point`) and labelled ``42 ± 20 mm from nipple``.  Arcs
are circles in mm, so on an anisotropic grid they are ellipses in stored pixels; only
the half towards the chest wall is drawn (the other half lies in air); a dashed circle marks
the nipple itself, so the reader can check where the CAD put it.  It is the rule
radiologists triangulate with; it narrows the search, it does not point at one place.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import numpy.typing as npt
import pyqtgraph as pg
from PySide6 import QtCore, QtWidgets

from mammoview.cad.types import ImageCadResult
from mammoview.gui.marks import Glyphs
from mammoview.gui.view_panel import ViewPanel
from mammoview.io.model import View

#: Half-width of the band: on CBIS-DDSM Mass-Training (477 breasts with one mass box in each view) the
#: CC and MLO distances from the nipple, as the CAD finds the nipples, differ by <= 20 mm for 82 % of
#: masses (<= 10 mm: 53 %; ``models/analysis/nipple_distance.py``), box centres and nipple estimates
#: included.
BAND_MM = 20.0
BAND_COLOR = "#00e5ff"
BAND_Z = 24.0  # above the CAD marks, below the measurements
#: Where the label may sit on the band's middle (``pg.TextItem`` anchors), in order of preference: centred above it,
#: then beside it on either side, then the same below it.  The middle lies by the chest wall for a lesion about as
#: far from the nipple as the breast is deep, and a centred label was cut by the panel's edge there.
LABEL_ANCHORS = tuple((x, y) for y in (1.2, -0.2) for x in (0.5, 0.0, 1.0))


def other_view(view: View) -> View:
    """The same breast's other projection (R CC <-> R MLO, L CC <-> L MLO)."""
    return {View.RCC: View.RMLO, View.RMLO: View.RCC, View.LCC: View.LMLO, View.LMLO: View.LCC}[view]


def arc(result: ImageCadResult, radius_mm: float, n: int = 181, wall_x: float | None = None) -> npt.NDArray[np.float64]:
    """(N, 2) stored (x, y) points of the half circle of ``radius_mm`` around the nipple towards the chest wall.

    ``wall_x``: the stored column of the chest-wall edge (0 or the width; the panel knows it). Without it the
    chest wall is taken to be on the side of the image the nipple is farther from, which fails for a breast
    narrower than half the image. Points outside the image are NaN (a plot draws the runs inside as separate
    pieces); an empty array without a nipple, a spacing or a positive radius.
    """
    if result.nipple is None or result.pixel_spacing is None or radius_mm <= 0:
        return np.zeros((0, 2))
    (nx, ny), (row_mm, col_mm) = result.nipple, result.pixel_spacing
    if wall_x is None:
        wall_x = 0.0 if nx > result.width / 2 else float(result.width)
    towards_wall = -1.0 if wall_x < nx else 1.0  # the breast lies between chest wall and nipple
    theta = np.linspace(-np.pi / 2, np.pi / 2, n)
    pts = np.stack([nx + towards_wall * radius_mm * np.cos(theta) / col_mm, ny + radius_mm * np.sin(theta) / row_mm], 1)
    outside = (pts[:, 0] < 0) | (pts[:, 0] > result.width) | (pts[:, 1] < 0) | (pts[:, 1] > result.height)
    pts[outside] = np.nan
    return pts


class NippleBand(QtCore.QObject):
    """Draws (and clears) the band on one panel at a time."""

    def __init__(self, panels: Mapping[View, ViewPanel], parent: QtCore.QObject | None = None) -> None:
        super().__init__(parent)
        self.panels = panels
        self.view: View | None = None
        self.distance_mm: float | None = None
        self._items: list[QtWidgets.QGraphicsItem] = []

    def show(self, view: View, result: ImageCadResult, distance_mm: float, estimated: bool = False) -> bool:
        """Draw the band for a lesion ``distance_mm`` from the nipple on ``view`` (whose CAD result is ``result``);
        ``estimated``: that distance rests on a guessed spacing (its label says ``~``, as the findings panel)."""
        self.clear()
        panel = self.panels[view]
        if result.nipple is None or panel.display is None:
            return False
        pen = pg.mkPen(BAND_COLOR, width=2, style=QtCore.Qt.PenStyle.DashLine)
        wall_x = panel.scene_to_stored(QtCore.QPointF(0.0, 0.0))[0]  # scene x runs away from the chest wall
        for r in (distance_mm - BAND_MM, distance_mm + BAND_MM):
            pts = arc(result, r, wall_x=wall_x)
            if len(pts) and not np.isnan(pts).all():  # an arc wholly outside the image is not drawn
                self._items.append(pg.PlotCurveItem(pts[:, 0], pts[:, 1], pen=pen, connect="finite", antialias=True))
        nx, ny = result.nipple  # where the CAD puts the nipple, so the reader can check it
        self._items.append(Glyphs(x=[nx], y=[ny], symbol="o", size=12, pen=pen, brush=None, pxMode=True,
                                  hoverable=False))  # fmt: skip
        mid = arc(result, distance_mm, n=3, wall_x=wall_x)
        if len(mid) and not np.isnan(mid[1]).any():
            about = "~" if estimated or result.spacing_estimated else ""  # the mm rest on the CAD's guess
            text = f"{about}{distance_mm:.0f} ± {BAND_MM:.0f} mm from nipple"
            label = pg.TextItem(text, color=BAND_COLOR, anchor=LABEL_ANCHORS[0], fill=(0, 0, 0, 170))
            label.setPos(float(mid[1, 0]), float(mid[1, 1]))
            label.inside_anchors = LABEL_ANCHORS  # kept whole in the panel (PanelOverlay.place_labels)
            self._items.append(label)
        for i, item in enumerate(self._items):
            panel.add_overlay_item(item, BAND_Z + i * 0.001)
        self.view, self.distance_mm = view, distance_mm
        return bool(self._items)

    def clear(self) -> None:
        if self.view is not None:
            for item in self._items:
                self.panels[self.view].remove_overlay_item(item)
        self._items, self.view, self.distance_mm = [], None, None

    def items(self) -> list[QtWidgets.QGraphicsItem]:
        return list(self._items)
