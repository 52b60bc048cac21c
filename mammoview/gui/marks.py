"""Glyph items for CAD findings and reader marks, in a panel's stored coordinates.

The glyphs follow the CAD convention radiologists know from R2/iCAD: a triangle for
a calcification cluster, a star (plus the region's contour outline) for a mass.
Glyphs and text are drawn at a fixed screen size (pyqtgraph ``pxMode``; TextItem stays
upright), so they stay legible at any zoom and are not mirrored by the display flips,
while their *positions* are mapped through the panel's stored -> scene transform.
Each glyph is stroked twice (dark under-stroke, coloured stroke) so it reads on both
bright dense tissue and dark fat.  None of the items is movable.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui

from mammoview.cad.operating import format_rate, format_threshold
from mammoview.cad.types import Finding, FindingKind
from mammoview.gui.read_state import MarkKind, ReaderMark

CAD_COLOR = "#ff3df2"  # magenta: absent from the heatmap's blue-cyan-yellow-red ramp
READER_COLOR = "#ffffff"
HIGHLIGHT_COLOR = "#ffe000"
SHADOW = (0, 0, 0, 200)

#: pyqtgraph symbol names (``t1`` is the upward triangle on screen).
GLYPH = {FindingKind.CALCIFICATION: "t1", FindingKind.MASS: "star"}
GLYPH_SIZE = {FindingKind.CALCIFICATION: 20, FindingKind.MASS: 24}
READER_GLYPH, READER_SIZE = "o", 26
KIND_SHORT = {MarkKind.MASS: "mass", MarkKind.CALCIFICATION: "calc", MarkKind.OTHER: "other"}


class Glyphs(pg.ScatterPlotItem):  # type: ignore[misc]  # pyqtgraph is untyped
    """Drawn-only symbols: a click on one goes through to the view box (a double-click maximises the view there as
    anywhere), and the tools pick marks and lines by their distance from the click, not by the item hit."""

    def mouseClickEvent(self, ev) -> None:  # type: ignore[no-untyped-def]
        ev.ignore()


def _scatter(xs: Sequence[float], ys: Sequence[float], symbol: str, size: float, color: object,
             width: float, style: QtCore.Qt.PenStyle = QtCore.Qt.PenStyle.SolidLine,
             data: Sequence[object] | None = None) -> pg.ScatterPlotItem:  # fmt: skip
    pen = pg.mkPen(color, width=width, style=style)
    item = Glyphs(x=list(xs), y=list(ys), symbol=symbol, size=size, pen=pen, brush=None, pxMode=True,
                              data=list(data) if data is not None else None, hoverable=False)  # fmt: skip
    item.setFlag(item.GraphicsItemFlag.ItemIsMovable, False)
    return item


def glyph_items(points: Sequence[tuple[float, float]], symbol: str, size: float, color: object,
                data: Sequence[object] | None = None) -> list[pg.ScatterPlotItem]:  # fmt: skip
    """Shadow + coloured glyphs at stored ``points`` (two items, shadow first)."""
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    return [_scatter(xs, ys, symbol, size, SHADOW, 4.0), _scatter(xs, ys, symbol, size, color, 2.0, data=data)]


def finding_glyphs(findings: Sequence[Finding], kind: FindingKind) -> list[pg.ScatterPlotItem]:
    """Glyphs of the findings of one ``kind`` (empty list if none)."""
    mine = [f for f in findings if f.kind is kind]
    if not mine:
        return []
    return glyph_items([f.center for f in mine], GLYPH[kind], GLYPH_SIZE[kind], CAD_COLOR, data=mine)


def contour_items(findings: Sequence[Finding]) -> list[pg.PlotCurveItem]:
    """Closed outlines of the mass findings that carry a contour (cosmetic 1.5 px pen)."""
    out = []
    for f in findings:
        if f.kind is not FindingKind.MASS or len(f.contour) < 3:
            continue
        pts = np.vstack([f.contour, f.contour[:1]])
        for color, width in ((SHADOW, 3.0), (CAD_COLOR, 1.5)):
            curve = pg.PlotCurveItem(pts[:, 0], pts[:, 1], pen=pg.mkPen(color, width=width), antialias=True)
            out.append(curve)
    return out


def format_score(p: float, floor: float | None = None) -> str:
    """Two decimals as CAD systems print them, three where two would read 0.99 or 1.00.

    Findings shown at a high operating point (e.g. threshold 0.97) all have scores of 0.97-1.00;
    the third decimal keeps their order readable.  ``floor``: the threshold the shown marks were cut
    at, as the reader sees it (:func:`~mammoview.cad.operating.format_threshold`, ``p >= 0.983``); a
    score at or above it that two decimals would print below it (0.9846 as ``0.98``) gets the
    threshold's decimals (``0.985``), so no shown mark reads as under its own threshold.
    """
    two = f"{p:.2f}"
    text = f"{p:.3f}" if two in ("0.99", "1.00") else two
    if floor is not None and p >= floor:
        shown = format_threshold(floor)
        if float(text) < float(shown):  # same decimals: rounding keeps p >= floor in the printed values
            text = f"{p:.{len(shown.partition('.')[2])}f}"
    return text


def score_text(finding: Finding, floor: float | None = None) -> str:
    """``0.87`` over ``M 0.62``: lesion score and malignancy (:func:`format_score`, ``floor`` for the score).

    With the model's operating curve the first line also says how many false marks per
    image the CAD made at that score on its validation images (``0.997 · 0.5 FP/img``).
    """
    first = format_score(finding.score, floor)
    if finding.fp_per_image is not None:
        first += f" · {format_rate(finding.fp_per_image)}"
    return f"{first}<br>M {format_score(finding.malignancy)}"


def _label(html: str, color: str, anchor: tuple[float, float]) -> pg.TextItem:
    item = pg.TextItem(html=f'<span style="color:{color}; font-weight:600;">{html}</span>', anchor=anchor,
                       fill=pg.mkBrush(0, 0, 0, 150))  # fmt: skip
    item.setFlag(item.GraphicsItemFlag.ItemIsMovable, False)
    return item


def score_items(findings: Sequence[Finding], kind: FindingKind, outer_left: bool = False,
                floor: float | None = None) -> list[pg.TextItem]:  # fmt: skip
    """Score labels beside the glyphs of one kind, above the glyph on its outer side.

    Outer = away from the chest wall (``outer_left`` for a right breast): the seam side
    would clip labels of findings near the chest wall.  ``floor``: the shown threshold (:func:`format_score`).
    """
    anchor = label_anchors(outer_left)[0]
    out = []
    for f in findings:
        if f.kind is kind:
            item = _label(score_text(f, floor), "#ffffff", anchor=anchor)
            item.setPos(*f.center)
            item.finding_score = f.score  # placement order (PanelOverlay.place_labels)
            item.finding = f  # whose glyph the label sits beside (it keeps off the others')
            out.append(item)
    return out


def label_anchors(outer_left: bool) -> tuple[tuple[float, float], ...]:
    """Where a score label may sit around its glyph, in order of preference.

    Outer side above (the default), outer below, chest-wall side above, chest-wall side below,
    then the same four half a label further up or down (when a reader's label sits beside the
    glyph), then level with the glyph beside it, a little above, a little below and centred (a
    glyph with labels and glyphs just above and below it: the demo's L CC at 2 FP/img), then
    centred over and under it (a neighbour's glyph close beside it), then a whole label further
    (three findings close together: the third label stacks above or below a neighbour's instead of
    covering it) (``pg.TextItem`` anchors: the fraction of the label's size left/above the glyph;
    a score label's two lines are about 36 px high, the glyph 24 px with its shadow).
    """
    around = _around(outer_left, beside=0.25, over=0.15, above_first=True)
    level = tuple((x, y) for x, _ in around[:4:2] for y in (0.85, 0.15, 0.5))
    return around[:8] + level + ((0.5, 1.45), (0.5, -0.45)) + around[8:]


def reader_anchors(outer_left: bool) -> tuple[tuple[float, float], ...]:
    """Where a reader's mark label may sit around its ring, in order of preference: below it on the outer side (the
    default), above it, then the same on the chest-wall side, then half and a whole label further (as
    :func:`label_anchors`): a mark by the panel's corner text put its label over the study lines."""
    return _around(outer_left, beside=0.15, over=0.2, above_first=False)


def _around(outer_left: bool, beside: float, over: float, above_first: bool) -> tuple[tuple[float, float], ...]:
    """Anchors on both sides of a point, ``beside`` a label's width off it, just above and below it (``over`` a
    label's height past it), the outer side first; then the same half and a whole label further up or down."""
    outer, inner = (1 + beside, -beside) if outer_left else (-beside, 1 + beside)
    above, below = 1 + over, -over
    near = tuple((x, y) for x in (outer, inner) for y in ((above, below) if above_first else (below, above)))
    return tuple((x, y + (shift if y > 0.5 else -shift)) for shift in (0.0, 0.6, 1.2) for x, y in near)


def reader_items(marks: Sequence[ReaderMark], outer_left: bool = False) -> list[pg.GraphicsObject]:
    """Rings and labels (``R1 mass``) of the reader's marks, the label below the ring on its outer side (where it
    is free: :func:`reader_anchors`)."""
    if not marks:
        return []
    ring_style = QtCore.Qt.PenStyle.SolidLine
    items: list[pg.GraphicsObject] = [
        _scatter([m.x for m in marks], [m.y for m in marks], READER_GLYPH, READER_SIZE, SHADOW, 4.0),
        _scatter([m.x for m in marks], [m.y for m in marks], READER_GLYPH, READER_SIZE, READER_COLOR, 2.0,
                 ring_style, data=list(marks)),
    ]  # fmt: skip
    for m in marks:
        label = _label(f"{m.label} {KIND_SHORT[m.kind]}", READER_COLOR, anchor=reader_anchors(outer_left)[0])
        label.setPos(m.x, m.y)
        label.mark = m  # whose ring the label sits beside (PanelOverlay.place_labels)
        items.append(label)
    return items


def highlight_items(x: float, y: float) -> list[pg.ScatterPlotItem]:
    """A dashed square around the selected finding or mark."""
    return [
        _scatter([x], [y], "s", 46, SHADOW, 4.0),
        _scatter([x], [y], "s", 46, HIGHLIGHT_COLOR, 2.0, QtCore.Qt.PenStyle.DashLine),
    ]


def symbol_path(symbol: str) -> QtGui.QPainterPath:
    """The unit QPainterPath of a pyqtgraph symbol (for the export legend)."""
    from pyqtgraph.graphicsItems.ScatterPlotItem import Symbols

    return QtGui.QPainterPath(Symbols[symbol])
