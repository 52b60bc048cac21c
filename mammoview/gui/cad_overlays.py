"""What CAD draws on one panel, grouped in layers that the reader switches on and off.

Layers: ``heatmap`` (z 10), CAD ``marks`` per kind, mass ``contours``, ``scores`` per
kind (z 20-23), the reader's own marks (z 24) and the selection highlight (z 30).  All
items are added with :meth:`ViewPanel.add_overlay_item` in stored coordinates, so the
panel's flips, zoom and pan apply to them exactly as to the image.  CAD items are only
*created* when the panel may show CAD (first read done): while locked nothing of the
CAD exists in the scene, so no toggle or export can leak it.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

import pyqtgraph as pg
from PySide6 import QtCore, QtWidgets

from mammoview.cad.operating import PRESET_RATES
from mammoview.cad.render import DEFAULT_THRESHOLD
from mammoview.cad.types import Finding, FindingKind, ImageCadResult
from mammoview.gui import marks as glyphs
from mammoview.gui.heatmap_layer import HEATMAP_Z, MAP_NAMES, HeatmapLayer
from mammoview.gui.read_state import ReaderMark
from mammoview.gui.settings import ViewerSettings
from mammoview.gui.view_panel import ViewPanel

KINDS = (FindingKind.MASS, FindingKind.CALCIFICATION)


@dataclass(frozen=True)
class OverlayStyle:
    """The reader's overlay choices (kept in QSettings under ``cad/``)."""

    map_name: str = "abnormal"
    opacity: float = 0.45
    threshold: float = DEFAULT_THRESHOLD  # heatmap probabilities below it are transparent
    cad: bool = True  # every CAD layer at once (key C)
    heatmap: bool = True
    marks: bool = True
    contours: bool = True
    scores: bool = True
    mass: bool = True
    calcification: bool = True
    reader: bool = True
    #: findings' operating point in false marks per image on the model's validation curve
    #: (one of :data:`~mammoview.cad.operating.PRESET_RATES`; 0 = the model's own threshold)
    operating_fpi: float = 0.0

    def shows_kind(self, kind: FindingKind) -> bool:
        return self.mass if kind is FindingKind.MASS else self.calcification

    def kinds(self) -> dict[str, bool]:
        return {k.value: self.shows_kind(k) for k in KINDS}


#: Settings keys that differ from the field name.  The heatmap threshold's key changed when
#: the maps moved to log-odds levels: a threshold saved on the old linear scale (default
#: 0.30, most of a dense breast painted) is not carried over.
_KEYS = {"threshold": "heat_threshold"}


def _key(name: str) -> str:
    return f"cad/style/{_KEYS.get(name, name)}"


def load_style(settings: ViewerSettings) -> OverlayStyle:
    """The saved overlay style (missing or damaged values fall back to the defaults)."""
    default = OverlayStyle()
    values: dict[str, Any] = {}
    for f in fields(OverlayStyle):
        d, key = getattr(default, f.name), _key(f.name)
        if isinstance(d, bool):
            values[f.name] = settings.flag(key, d)
        elif f.name == "operating_fpi":
            try:
                rate = float(settings.value(key, str(d)))
            except ValueError:
                rate = d
            values[f.name] = rate if rate in PRESET_RATES else d
        elif isinstance(d, float):
            try:
                values[f.name] = min(1.0, max(0.0, float(settings.value(key, str(d)))))
            except ValueError:
                values[f.name] = d
        else:
            v = settings.value(key, d)
            values[f.name] = v if v in MAP_NAMES else d
    return OverlayStyle(**values)


def save_style(settings: ViewerSettings, style: OverlayStyle) -> None:
    for f in fields(OverlayStyle):
        settings.set_value(_key(f.name), getattr(style, f.name))


class PanelOverlay:
    """The overlay items of one panel, rebuilt when its image, the result or the marks change."""

    def __init__(self, panel: ViewPanel) -> None:
        self.panel = panel
        self.result: ImageCadResult | None = None
        self.heatmap: HeatmapLayer | None = None
        self.layers: dict[str, list[QtWidgets.QGraphicsItem]] = {}
        self._highlight: list[QtWidgets.QGraphicsItem] = []
        # labels are drawn at a fixed screen size: re-place them when the zoom or the panel changes
        panel.view_box.sigTransformChanged.connect(self.place_labels)
        panel.view_box.sigResized.connect(self.place_labels)

    # -- building -------------------------------------------------------------------------------
    def build(self, result: ImageCadResult | None, marks: list[ReaderMark], style: OverlayStyle,
              floor: float | None = None) -> None:  # fmt: skip
        """Replace every item: CAD from ``result`` (None: locked or not computed) and the reader's ``marks``.

        ``floor``: the threshold the shown marks were cut at (:func:`marks.format_score`).
        """
        self.clear()
        self.result = result
        if result is not None:
            self.heatmap = HeatmapLayer(result.heatmaps)
            self._add("heatmap", [self.heatmap.item], HEATMAP_Z)
            self._add("contours", glyphs.contour_items(result.findings), 20)
            for kind in KINDS:
                self._add(f"marks:{kind.value}", glyphs.finding_glyphs(result.findings, kind), 21)
                scores = glyphs.score_items(result.findings, kind, self._outer_left, floor)
                self._add(f"scores:{kind.value}", scores, 23)
        self.set_reader_marks(marks, style)
        self.apply(style)

    def set_reader_marks(self, marks: list[ReaderMark], style: OverlayStyle) -> None:
        """Redraw only the reader's marks (a click must not rebuild the heatmap)."""
        for item in self.layers.pop("reader", []):
            self.panel.remove_overlay_item(item)
        self._add("reader", glyphs.reader_items(marks, self._outer_left), 24)
        self._set_visible("reader", style.reader)
        self.place_labels()

    @property
    def _outer_left(self) -> bool:
        """Labels go to the outer side: the left on screen for a right breast (chest wall on the right)."""
        return self.panel.chest_wall_right

    def _add(self, layer: str, items: list[Any], z: float) -> None:
        for i, item in enumerate(items):
            self.panel.add_overlay_item(item, z + i * 0.01)  # keep shadow-under-colour order
        self.layers.setdefault(layer, []).extend(items)

    def clear(self) -> None:
        for items in self.layers.values():
            for item in items:
                self.panel.remove_overlay_item(item)
        self.layers.clear()
        self.heatmap = None
        self.result = None
        self.set_highlight(None)

    # -- styling ------------------------------------------------------------------------------------
    def apply(self, style: OverlayStyle) -> None:
        """Visibility, map, threshold and opacity from ``style`` (cheap: no item is rebuilt)."""
        cad = style.cad and self.result is not None
        if self.heatmap is not None:
            has_map = self.heatmap.show_map(style.map_name)
            self.heatmap.set_threshold(style.threshold)
            self.heatmap.set_opacity(style.opacity)
            self._set_visible("heatmap", cad and style.heatmap and has_map)
        self._set_visible("contours", cad and style.contours and style.mass)
        for kind in KINDS:
            self._set_visible(f"marks:{kind.value}", cad and style.marks and style.shows_kind(kind))
            self._set_visible(f"scores:{kind.value}", cad and style.scores and style.shows_kind(kind))
        self._set_visible("reader", style.reader)
        self.place_labels()

    def place_labels(self, *_: object) -> None:
        """Keep the shown score labels from covering each other, the other findings' glyphs, or the panel's other
        labels, at the current zoom.

        The other labels stay where they are (the reader's ``R1 mass`` below its ring, the CC/MLO band's
        ``37 ± 20 mm from nipple``, which lands on the lesion it is drawn for, moved only as far as it takes to be
        whole in the panel); best score first, each CAD label takes the first of :func:`marks.label_anchors` whose
        on-screen box overlaps no label placed before it and no other finding's glyph and lies inside the panel;
        else the one least cut off by the panel's edge (a label off the panel is a score nobody reads), of those the
        one that covers the least of the other glyphs (a covered glyph hides a finding), and of those the one that
        covers the least of the other labels.
        """
        scores = [i for kind in KINDS for i in self.layers.get(f"scores:{kind.value}", [])]
        items = [i for i in scores if i.isVisible()]
        items.sort(key=lambda i: -float(getattr(i, "finding_score", 0.0)))
        placed: list[QtCore.QRectF] = []
        screen = QtCore.QRectF(self.panel.graphics.viewport().rect())
        for label in self.panel.stored_group.childItems():  # the reader's, the band's, the lengths' labels
            if isinstance(label, pg.TextItem) and label.isVisible() and not any(label is s for s in scores):
                self._keep_inside(label, screen)
                box = self._label_box(label, (label.anchor.x(), label.anchor.y()))
                if box is not None:
                    placed.append(box)
        viewport = self.panel.graphics.viewport()
        direct = QtCore.Qt.FindChildOption.FindDirectChildrenOnly
        for text in self.panel.findChildren(QtWidgets.QLabel, options=direct):  # the view label, study lines, the
            if text.isVisible() and text.text():  # read-out line, the breast's scores: drawn over the image
                placed.append(QtCore.QRectF(QtCore.QRect(viewport.mapFrom(self.panel, text.pos()), text.size())))
        shown_glyphs = self._glyph_boxes()
        for item in items:
            best: tuple[tuple[float, float, float], tuple[float, float], QtCore.QRectF] | None = None
            others = [box for f, box in shown_glyphs if f is not getattr(item, "finding", None)]
            for anchor in glyphs.label_anchors(self._outer_left):
                box = self._label_box(item, anchor)
                if box is None:  # not on screen yet: placed at the next transform change
                    return
                # cut off by the panel's edge (a score nobody reads); 0 when inside, not the rounding error of a
                # difference of areas, which made an inside place look cut off or less than inside
                cut_off = 0.0 if screen.contains(box) else _area(box) - _area(box.intersected(screen))
                hidden = sum(_area(box.intersected(g)) for g in others)  # another finding's glyph covered
                covered = sum(_area(box.intersected(other)) for other in placed)
                cost = (cut_off, hidden, covered)
                if best is None or cost < best[0]:
                    best = (cost, anchor, box)
                if cost == (0.0, 0.0, 0.0):
                    break
            assert best is not None
            item.setAnchor(best[1])  # type: ignore[attr-defined]  # score labels are pg.TextItem
            placed.append(best[2])

    def _keep_inside(self, label: pg.TextItem, screen: QtCore.QRectF) -> None:
        """A label offering ``inside_anchors`` (the band's) takes the first of them that keeps it whole in the panel,
        else the one least cut off by the panel's edge; the others stay as they are."""
        anchors = getattr(label, "inside_anchors", ())
        best: tuple[float, tuple[float, float]] | None = None
        for anchor in anchors:
            box = self._label_box(label, anchor)
            if box is None:  # not on screen yet: placed at the next transform change
                return
            cut_off = 0.0 if screen.contains(box) else _area(box) - _area(box.intersected(screen))
            if best is None or cut_off < best[0]:
                best = (cut_off, anchor)
            if cut_off == 0.0:
                break
        if best is not None:
            label.setAnchor(best[1])

    def _glyph_boxes(self) -> list[tuple[Finding, QtCore.QRectF]]:
        """The shown CAD glyphs' boxes in device pixels (drawn at a fixed screen size, their shadow pen included)."""
        out = []
        for kind in KINDS:
            if self.result is None or not any(i.isVisible() for i in self.layers.get(f"marks:{kind.value}", [])):
                continue
            half = glyphs.GLYPH_SIZE[kind] / 2 + 2.0
            for f in self.result.findings:
                if f.kind is not kind:
                    continue
                p = self.panel.view_box.mapViewToDevice(self.panel.stored_to_scene(*f.center))
                if p is not None:
                    out.append((f, QtCore.QRectF(p.x() - half, p.y() - half, 2 * half, 2 * half)))
        return out

    def _label_box(self, item: Any, anchor: tuple[float, float]) -> QtCore.QRectF | None:
        """The label's box in device pixels if it were anchored at ``anchor`` (None: no view yet)."""
        pos = item.pos()
        p = self.panel.view_box.mapViewToDevice(self.panel.stored_to_scene(pos.x(), pos.y()))
        if p is None:
            return None
        size = item.textItem.boundingRect().size()
        w, h = size.width(), size.height()
        return QtCore.QRectF(p.x() - anchor[0] * w, p.y() - anchor[1] * h, w, h)

    def _set_visible(self, layer: str, visible: bool) -> None:
        for item in self.layers.get(layer, []):
            item.setVisible(visible)

    def visible_layers(self) -> set[str]:
        """Names of the layers with at least one visible item (for tests and the status line)."""
        return {name for name, items in self.layers.items() if any(i.isVisible() for i in items)}

    # -- selection ----------------------------------------------------------------------------------
    def set_highlight(self, point: tuple[float, float] | None) -> None:
        """Highlight the stored point (a selected finding or mark); None removes it."""
        for item in self._highlight:
            self.panel.remove_overlay_item(item)
        self._highlight = []
        if point is not None:
            self._highlight = glyphs.highlight_items(*point)
            for i, item in enumerate(self._highlight):
                self.panel.add_overlay_item(item, 30 + i * 0.01)


def _area(rect: QtCore.QRectF) -> float:
    return max(0.0, rect.width()) * max(0.0, rect.height())
