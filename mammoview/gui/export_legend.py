"""The legend band of an exported picture: colour bar, glyph meanings, model, caption.

Painted with QPainter in logical pixels (the caller scales for the device pixel
ratio); the glyphs are pyqtgraph's own symbol paths, so the legend matches the marks.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PySide6 import QtCore, QtGui

from mammoview.cad.types import FindingKind
from mammoview.gui.colormap import TICKS, bar_position, colorbar_rgba, format_probability
from mammoview.gui.marks import CAD_COLOR, GLYPH, READER_COLOR, READER_GLYPH, symbol_path

#: Widths of the three legend blocks (colour bar, glyphs, model + caption) and the height of a row.
BLOCKS = (250.0, 320.0, 330.0)
ROW_HEIGHT = 126.0
_TEXT = QtGui.QColor("#e8e8e8")
_DIM = QtGui.QColor("#a0a0a0")


@dataclass(frozen=True)
class LegendInfo:
    """What the legend states."""

    cad_shown: bool
    heatmap: bool
    map_name: str
    threshold: float
    opacity: float
    model: str
    state: str  # why CAD is not shown ("" when it is)
    caption: str
    exported: str
    anonymized: bool
    rates: bool = False  # the shown findings carry false marks per image (the model's operating curve)
    operating: str = ""  # the marks' operating point ("p >= 0.971 · 1.0 FP/img · finds 62%"; "" = not shown)
    density: str = ""  # the exam's density and the model behind the breast labels ("" = none shown)
    malignancy: str = ""  # the second-stage model behind the malignancy ("" = the detector's own)
    verifier: str = ""  # the second network that re-scored the marks ("" = the detector's own scores)
    elsewhere: str = ""  # CAD findings on the pictured views' other images, which the picture does not show
    kinds: tuple[FindingKind, ...] = (FindingKind.CALCIFICATION, FindingKind.MASS)  # kinds whose CAD marks show
    contours: bool = True  # the masses' outlines show
    scores: bool = True  # a score stands beside the CAD findings
    reader: bool = True  # the reader's marks show


def _font(painter: QtGui.QPainter, size: float, bold: bool = False) -> None:
    f = QtGui.QFont(painter.font())
    f.setPointSizeF(size)
    f.setBold(bold)
    painter.setFont(f)


def paint_colorbar(painter: QtGui.QPainter, x: float, y: float, w: int, h: int, threshold: float,
                   ink: QtGui.QColor = _DIM) -> None:  # fmt: skip
    """The heatmap's colour bar at (x, y), ``w`` x ``h``, probabilities labelled below it in ``ink``.

    Transparent entries (below ``threshold``) read as black, as over tissue-free film; a white
    line marks the threshold.  Also the CAD dock's live scale.
    """
    rgba = colorbar_rgba(w, h, threshold)
    alpha = rgba[..., 3:4].astype(np.float32) / 255.0
    rgb = np.ascontiguousarray((rgba[..., :3] * alpha).astype(np.uint8))
    img = QtGui.QImage(rgb.data, w, h, 3 * w, QtGui.QImage.Format.Format_RGB888).copy()
    painter.drawImage(QtCore.QPointF(x, y), img)
    painter.setPen(QtGui.QPen(ink, 1))
    painter.drawRect(QtCore.QRectF(x, y, w, h))
    _font(painter, 8)
    for v in TICKS:  # the bar is linear in log-odds: label probabilities where they fall
        tx = x + bar_position(v) * w
        painter.drawLine(QtCore.QPointF(tx, y + h), QtCore.QPointF(tx, y + h + 3))
        painter.drawText(QtCore.QRectF(tx - 24, y + h + 3, 48, 14), QtCore.Qt.AlignmentFlag.AlignHCenter, f"{v:g}")
    if threshold > 0:
        tx = x + bar_position(threshold) * w
        painter.setPen(QtGui.QPen(QtGui.QColor("#ffffff"), 2))
        painter.drawLine(QtCore.QPointF(tx, y - 3), QtCore.QPointF(tx, y + h + 3))


def _glyph(painter: QtGui.QPainter, x: float, y: float, symbol: str, size: float, color: str) -> None:
    path = symbol_path(symbol)
    painter.save()
    painter.translate(x, y)
    painter.scale(size, size)
    for c, width in (("#000000", 4.0), (color, 2.0)):
        pen = QtGui.QPen(QtGui.QColor(c), width)
        pen.setCosmetic(True)
        painter.setPen(pen)
        painter.setBrush(QtCore.Qt.BrushStyle.NoBrush)
        painter.drawPath(path)
    painter.restore()


def legend_layout(width: float) -> tuple[list[tuple[float, float]], float]:
    """Top-left corners of the three blocks and the band's height for a picture ``width`` wide.

    Blocks flow left to right and wrap onto a new row when the picture is narrow (a
    single view); on one row the caption block is pinned to the right edge.
    """
    pos: list[tuple[float, float]] = []
    x, y = 0.0, 0.0
    for w in BLOCKS:
        if x > 0 and x + w > width:
            x, y = 0.0, y + ROW_HEIGHT
        pos.append((x, y))
        x += w
    if pos[2][1] == pos[0][1]:
        pos[2] = (max(pos[2][0], width - BLOCKS[2]), pos[2][1])
    return pos, pos[-1][1] + ROW_HEIGHT


def legend_height(width: float) -> float:
    return legend_layout(width)[1]


def paint_legend(painter: QtGui.QPainter, width: float, info: LegendInfo) -> None:
    """Paint the legend in the band ``[0, width] x [0, legend_height(width)]``."""
    painter.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing, True)
    corners, _ = legend_layout(width)
    for (x, y), paint in zip(corners, (_paint_heatmap_block, _paint_glyph_block, _paint_model_block), strict=True):
        painter.save()
        painter.translate(x, y)
        paint(painter, info)
        painter.restore()


def _paint_heatmap_block(painter: QtGui.QPainter, info: LegendInfo) -> None:
    left = 12.0
    _font(painter, 9, bold=True)
    painter.setPen(_TEXT)
    if info.heatmap:
        painter.drawText(QtCore.QPointF(left, 20), f"Heatmap: p({info.map_name})")
        _font(painter, 8)
        painter.setPen(_DIM)
        painter.drawText(QtCore.QPointF(left, 34), f"p < {format_probability(info.threshold)} transparent · "
                                                   f"opacity {info.opacity:.0%}")  # fmt: skip
        paint_colorbar(painter, left, 44, 220, 14, info.threshold)
    else:
        painter.drawText(QtCore.QPointF(left, 20), info.state or "Heatmap hidden")


def glyph_rows(info: LegendInfo) -> list[tuple[str, str, str]]:
    """(symbol, colour, meaning) of each kind of mark the picture shows, and only those."""
    rows = []
    if info.cad_shown:
        if FindingKind.CALCIFICATION in info.kinds:
            rows.append((GLYPH[FindingKind.CALCIFICATION], CAD_COLOR, "CAD: calcification cluster"))
        if FindingKind.MASS in info.kinds:
            rows.append((GLYPH[FindingKind.MASS], CAD_COLOR, "CAD: mass" + (" (outline = region)" * info.contours)))
        elif info.contours:  # the marks toggled off: the masses' outlines are still drawn (their own toggle)
            rows.append(("h", CAD_COLOR, "CAD: mass outline (its region)"))
    if info.reader:
        rows.append((READER_GLYPH, READER_COLOR, "Reader mark (R1, R2…)"))
    return rows


def _paint_glyph_block(painter: QtGui.QPainter, info: LegendInfo) -> None:
    gx = 8.0
    _font(painter, 9)
    for i, (sym, color, text) in enumerate(glyph_rows(info)):
        y = 18 + i * 22
        _glyph(painter, gx + 8, y, sym, 15, color)
        painter.setPen(_TEXT)
        painter.drawText(QtCore.QPointF(gx + 24, y + 4), text)
    if info.cad_shown:
        painter.setPen(_DIM)
        _font(painter, 8)
        y = 18 + 3 * 22 - (4 if info.rates else 0)
        if info.scores:
            painter.drawText(QtCore.QPointF(gx, y), "0.87 / M 0.62 = lesion score / malignancy (0-1)")
        if info.rates and info.scores:
            rate = "0.5 FP/img = false marks per image at that score (validation)"
            painter.drawText(QtCore.QPointF(gx, y + 13), rate)
        if info.elsewhere:  # e.g. a retake's findings: said, so the picture is not read as all there is
            painter.setPen(QtGui.QColor("#ffcc33"))
            text = painter.fontMetrics().elidedText(info.elsewhere, QtCore.Qt.TextElideMode.ElideRight,
                                                    int(BLOCKS[1] - gx - 8))  # fmt: skip
            painter.drawText(QtCore.QPointF(gx, y + 30), text)


def _paint_model_block(painter: QtGui.QPainter, info: LegendInfo) -> None:
    rx, width = 8.0, BLOCKS[2]
    _font(painter, 9)
    painter.setPen(_TEXT)
    painter.drawText(QtCore.QPointF(rx, 20), f"Model: {info.model}")
    painter.setPen(_DIM)
    _font(painter, 8)
    lines = [f"Marks at {info.operating} (validation)"] if info.operating and info.cad_shown else []
    if info.verifier and info.cad_shown:
        lines.append(info.verifier)
    if info.malignancy and info.cad_shown:
        lines.append(info.malignancy)
    if info.density and info.cad_shown:
        lines.append(info.density)
    # one line: with a verifier, a second-stage and a density model the caption must still fit the band
    lines.append(f"Exported {info.exported}" + (" · anonymized" if info.anonymized else ""))
    for i, text in enumerate(lines):
        painter.drawText(QtCore.QPointF(rx, 35 + 13 * i), text)
    _font(painter, 14, bold=True)
    painter.setPen(QtGui.QColor("#ffcc33"))
    top = 35 + 13 * (len(lines) - 1) + 8
    painter.drawText(QtCore.QRectF(rx, top, width - rx - 8, ROW_HEIGHT - top), QtCore.Qt.AlignmentFlag.AlignLeft,
                     info.caption)  # fmt: skip
