"""Where a label goes among the others on a panel: the first free place of those offered, else the least covering.

Pure geometry in viewport pixels (labels and glyphs are drawn at a fixed screen size): the
panel's overlay (:meth:`~mammoview.gui.cad_overlays.PanelOverlay.place_labels`) asks it for the
reader's mark labels, the CAD score labels and the CC/MLO band's label at every zoom, pan and
resize, so it does no more than a few rectangle sums per place.  It keeps no memory of earlier
placements: the same scene gives the same places, on screen as in an export, and a pan (which moves
every mark and label alike) changes nothing until a label meets the panel's edge or corner text.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6 import QtCore

#: A ``pg.TextItem`` anchor: the fraction of the label's width and height left of and above its point.
Anchor = tuple[float, float]


def box_at(point: QtCore.QPointF, size: QtCore.QSizeF, anchor: Anchor) -> QtCore.QRectF:
    """The box of a label of ``size`` anchored at ``anchor`` on ``point``."""
    w, h = size.width(), size.height()
    return QtCore.QRectF(point.x() - anchor[0] * w, point.y() - anchor[1] * h, w, h)


def area(rect: QtCore.QRectF) -> float:
    return max(0.0, rect.width()) * max(0.0, rect.height())


def cut_off(box: QtCore.QRectF, screen: QtCore.QRectF) -> float:
    """The area of ``box`` outside ``screen``: exactly 0 when inside (not the rounding error of a difference of
    areas, which made an inside place look cut off, or less than inside)."""
    return 0.0 if screen.contains(box) else area(box) - area(box.intersected(screen))


def choose(point: QtCore.QPointF, size: QtCore.QSizeF, anchors: Sequence[Anchor], screen: QtCore.QRectF,
           taken: Sequence[QtCore.QRectF] = ()) -> tuple[Anchor, QtCore.QRectF]:  # fmt: skip
    """The first of ``anchors`` (in order of preference) whose box lies whole on ``screen`` and covers none of
    ``taken`` (the labels placed before it, the glyphs it must not hide, the panel's corner text).

    When none is free: the one least cut off by the screen's edge (a label off the panel is text nobody reads),
    of those the one that covers the least of ``taken`` in all, a label and a glyph alike (ranking glyphs first
    put a score wholly over another's rather than over a glyph's corner); the earlier one on a tie.
    """
    boxes = [(anchor, box_at(point, size, anchor)) for anchor in anchors]
    if not boxes:
        raise ValueError("no anchor to choose from")
    reach = QtCore.QRectF(boxes[0][1])
    for _, box in boxes[1:]:
        reach = reach.united(box)
    near = [t for t in taken if reach.intersects(t)]  # (a crowded panel's far labels cost nothing)
    best: tuple[tuple[float, float], Anchor, QtCore.QRectF] | None = None
    for anchor, box in boxes:
        cost = (cut_off(box, screen), sum(area(box.intersected(t)) for t in near if box.intersects(t)))
        if cost == (0.0, 0.0):
            return anchor, box
        if best is None or cost < best[0]:
            best = (cost, anchor, box)
    assert best is not None
    return best[1], best[2]
