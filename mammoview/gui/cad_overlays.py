"""What CAD draws on one panel, grouped in layers that the reader switches on and off.

Layers: ``heatmap`` (z 10), CAD ``marks`` per kind, mass ``contours``, ``scores`` per
kind (z 20-23), the reader's own marks (z 24) and the selection highlight (z 30).  All
items are added with :meth:`ViewPanel.add_overlay_item` in stored coordinates, so the
panel's flips, zoom and pan apply to them exactly as to the image.  CAD items are only
*created* when the panel may show CAD (first read done): while locked nothing of the
CAD exists in the scene, so no toggle or export can leak it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import Any

import pyqtgraph as pg
from PySide6 import QtCore, QtWidgets

from mammoview.cad.operating import PRESET_RATES
from mammoview.cad.render import DEFAULT_THRESHOLD
from mammoview.cad.types import Finding, FindingKind, ImageCadResult
from mammoview.gui import label_placement
from mammoview.gui import marks as glyphs
from mammoview.gui.heatmap_layer import HEATMAP_Z, MAP_NAMES, HeatmapLayer
from mammoview.gui.label_placement import Anchor
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
        """Keep the shown labels from covering each other, the marks, or the panel's corner text, at the current zoom.

        The CC/MLO band's ``37 ± 20 mm from nipple``, which lands on the lesion it is drawn for, and a length's label
        stay where they are (the band's moved only as far as it takes to be whole in the panel).  Then the reader's
        ``R1 mass`` labels, each beside its ring (:func:`marks.reader_anchors`), clear of the panel's corner text
        (view label, study lines, read-out, breast scores), the labels before it and the other rings, but not of the
        CAD's glyphs: the reader's own label does not move when the CAD is shown.  Then the CAD's scores, best
        first, each beside its glyph (:func:`marks.label_anchors`), clear of all those, the other glyphs and the
        rings.  Each takes the first free place offered, else the least bad one (:func:`label_placement.choose`).
        """
        screen = QtCore.QRectF(self.panel.graphics.viewport().rect())
        texts = self._corner_text_boxes()
        scores = [i for kind in KINDS for i in self.layers.get(f"scores:{kind.value}", [])]
        readers = [i for i in self.layers.get("reader", []) if isinstance(i, pg.TextItem)]
        for label in self.panel.stored_group.childItems():  # the band's, the lengths' labels
            if isinstance(label, pg.TextItem) and label.isVisible() and not any(label is i for i in scores + readers):
                point = self._device_point(label)
                if point is None:  # not on screen yet: placed at the next transform change
                    return
                anchor = (label.anchor.x(), label.anchor.y())
                anchors = getattr(label, "inside_anchors", ())
                if anchors:  # kept whole on the panel, whatever it covers
                    anchor = label_placement.choose(point, _size(label), anchors, screen)[0]
                    label.setAnchor(anchor)
                texts.append(label_placement.box_at(point, _size(label), anchor))
        rings = self._ring_boxes(readers)
        for reader in (i for i in readers if i.isVisible()):
            others = [box for m, box in rings if m is not reader.mark]
            if not self._place(reader, glyphs.reader_anchors(self._outer_left), screen, texts, others):
                return
        shown = [i for i in scores if i.isVisible()]
        shown.sort(key=lambda i: -float(getattr(i, "finding_score", 0.0)))
        marks = self._glyph_boxes() + rings
        for score in shown:
            others = [box for f, box in marks if f is not getattr(score, "finding", None)]
            if not self._place(score, glyphs.label_anchors(self._outer_left), screen, texts, others):
                return

    def _place(self, label: pg.TextItem, anchors: Sequence[Anchor], screen: QtCore.QRectF,
               placed: list[QtCore.QRectF], marks: list[QtCore.QRectF]) -> bool:  # fmt: skip
        """Anchor ``label`` at its first free place around its point and add its box to ``placed``; False when the
        panel has no view yet (placed at the next transform change)."""
        point = self._device_point(label)
        if point is None:
            return False
        anchor, box = label_placement.choose(point, _size(label), anchors, screen, placed + marks)
        label.setAnchor(anchor)
        placed.append(box)
        return True

    def _corner_text_boxes(self) -> list[QtCore.QRectF]:
        """The panel's own text drawn over the image (view label, study lines, read-out line, breast scores), in
        viewport pixels."""
        viewport = self.panel.graphics.viewport()
        direct = QtCore.Qt.FindChildOption.FindDirectChildrenOnly
        return [QtCore.QRectF(QtCore.QRect(viewport.mapFrom(self.panel, text.pos()), text.size()))
                for text in self.panel.findChildren(QtWidgets.QLabel, options=direct)
                if text.isVisible() and text.text()]  # fmt: skip

    def _glyph_boxes(self) -> list[tuple[object, QtCore.QRectF]]:
        """The shown CAD glyphs' boxes in device pixels (drawn at a fixed screen size, their shadow pen included)."""
        out: list[tuple[object, QtCore.QRectF]] = []
        for kind in KINDS:
            if self.result is None or not any(i.isVisible() for i in self.layers.get(f"marks:{kind.value}", [])):
                continue
            out += self._boxes([f for f in self.result.findings if f.kind is kind], glyphs.GLYPH_SIZE[kind])
        return out

    def _ring_boxes(self, labels: Sequence[pg.TextItem]) -> list[tuple[object, QtCore.QRectF]]:
        """The boxes of the rings of the shown reader's ``labels`` (each drawn with its ring) in device pixels, as
        the glyphs'."""
        return self._boxes([label.mark for label in labels if label.isVisible()], glyphs.READER_SIZE)

    def _boxes(self, marks: Sequence[Any], size: float) -> list[tuple[object, QtCore.QRectF]]:
        """``marks`` (findings or reader's marks) with the boxes of their glyphs of ``size`` screen pixels."""
        half, out = size / 2 + 2.0, []
        for mark in marks:
            x, y = mark.center if isinstance(mark, Finding) else (mark.x, mark.y)
            p = self.panel.view_box.mapViewToDevice(self.panel.stored_to_scene(x, y))
            if p is not None:
                out.append((mark, QtCore.QRectF(p.x() - half, p.y() - half, 2 * half, 2 * half)))
        return out

    def _device_point(self, item: Any) -> QtCore.QPointF | None:
        """Where the label's point is on screen, in device pixels (None: no view yet)."""
        pos = item.pos()
        p = self.panel.view_box.mapViewToDevice(self.panel.stored_to_scene(pos.x(), pos.y()))
        return QtCore.QPointF(p) if p is not None else None

    def _label_box(self, item: Any, anchor: Anchor) -> QtCore.QRectF | None:
        """The label's box in device pixels if it were anchored at ``anchor`` (None: no view yet)."""
        point = self._device_point(item)
        return label_placement.box_at(point, _size(item), anchor) if point is not None else None

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


def _size(label: pg.TextItem) -> QtCore.QSizeF:
    """A label's size on screen (a ``pg.TextItem`` is drawn at a fixed screen size)."""
    size: QtCore.QSizeF = label.textItem.boundingRect().size()
    return size
