"""Measure mode: a left drag on an image draws a length line, labelled in millimetres.

The length uses the image's own pixel spacing (rows and columns separately, so an
anisotropic grid measures right); without one it is given in stored pixels, never in
millimetres guessed from the CAD's assumed spacing.  Measurements belong to the read:
they are saved with the reader's marks (:class:`ReaderMarks`, atomically, with undo),
restored on reopening the study, drawn in stored coordinates (so they follow flips,
zoom and pan like every overlay) and appear in exports.  In measure mode a click near
a line selects it; Del deletes the selection.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import pyqtgraph as pg
from PySide6 import QtCore, QtWidgets

from mammoview.gui.marks import HIGHLIGHT_COLOR, SHADOW, Glyphs
from mammoview.gui.read_merge import counterpart
from mammoview.gui.read_state import Measurement, image_key, on_slice, slice_of
from mammoview.gui.reader_marks import ReaderMarks
from mammoview.gui.scale_bar import AT_DETECTOR
from mammoview.gui.view_box import DRAG_FINISH, DRAG_START
from mammoview.gui.view_panel import ViewPanel
from mammoview.io.header_model import PixelSpacing
from mammoview.io.model import MammoImage, View

MEASURE_COLOR = "#ffa000"  # amber: not the CAD magenta, the reader's white or the selection yellow
MEASURE_Z = 25  # above the reader's marks (24), below the selection highlight (30)
#: A drag shorter than this on screen is a click, not a measurement.
MIN_DRAG_PX = 4.0
#: A click this close (screen pixels) to a line selects it.
PICK_RADIUS_PX = 8.0


@dataclass(frozen=True)
class Length:
    """A measured length: ``value`` in ``unit`` ("mm" with a known pixel spacing, else "px"); ``at_detector``: in mm
    at the detector plane, not corrected for magnification (said in the label, as IHE Mammography Image asks)."""

    value: float
    unit: str
    at_detector: bool = False

    @property
    def text(self) -> str:
        if self.unit != "mm":
            return f"{self.value:.0f} px"
        return f"{self.value:.1f} mm" + (AT_DETECTOR if self.at_detector else "")


def length_of(p0: tuple[float, float], p1: tuple[float, float], spacing: PixelSpacing | None) -> Length:
    """Length of the stored-grid segment ``p0``-``p1`` (x = column, y = row)."""
    dx, dy = p1[0] - p0[0], p1[1] - p0[1]
    if spacing is None:
        return Length(math.hypot(dx, dy), "px")
    return Length(math.hypot(dx * spacing.col_mm, dy * spacing.row_mm), "mm", spacing.at_detector)


def measurement_length(m: Measurement, spacing: PixelSpacing | None) -> Length:
    """``m``'s length with ``spacing`` (its image's now); without one, with the spacing it was measured with (one
    given in the viewer for a file without its own is not given again in a later session: the reader's 10 mm must
    not turn into 100 px)."""
    if spacing is None and m.spacing is not None:
        spacing = PixelSpacing(*m.spacing, "saved with the measurement")
    return length_of((m.x0, m.y0), (m.x1, m.y1), spacing)


def line_items(p0: tuple[float, float], p1: tuple[float, float], text: str,
               color: object = MEASURE_COLOR) -> list[QtWidgets.QGraphicsItem]:  # fmt: skip
    """Shadow + coloured line with end ticks, and its label beside the end point (stored coordinates)."""
    xs, ys = [p0[0], p1[0]], [p0[1], p1[1]]
    items: list[QtWidgets.QGraphicsItem] = []
    for pen_color, width in ((SHADOW, 4.0), (color, 2.0)):
        items.append(pg.PlotCurveItem(xs, ys, pen=pg.mkPen(pen_color, width=width), antialias=True))
    for pen_color, width in ((SHADOW, 4.0), (color, 2.0)):
        ends = Glyphs(x=xs, y=ys, symbol="o", size=7, pen=pg.mkPen(pen_color, width=width), brush=None,
                                  pxMode=True, hoverable=False)  # fmt: skip
        items.append(ends)
    label = pg.TextItem(text, color=color, anchor=(-0.15, 0.5), fill=(0, 0, 0, 170))
    label.setPos(*p1)
    items.append(label)
    return items


class MeasureTool(QtCore.QObject):
    """Draws, saves, picks and deletes length measurements on the panels.

    Signals
    -------
    measuring(str)
        Status text while a line is drawn and when one is saved or selected.
    """

    measuring = QtCore.Signal(str)
    picked = QtCore.Signal(object)  # a Measurement was selected (another tool's selection gives way)

    def __init__(self, panels: Mapping[View, ViewPanel], reader: ReaderMarks, parent: QtCore.QObject | None = None,
                 key: Callable[[MammoImage], str] = image_key, whose: str = "") -> None:  # fmt: skip
        super().__init__(parent)
        self.panels = panels
        self.key = key  # the image's name in the saved measurements (the prior's panels: one unique across studies)
        #: said before a view's name in the status texts ("prior's " on the prior's panels: its L CC is not this one)
        self.whose = whose
        self.reader = reader
        self.enabled = False
        self.selected: Measurement | None = None
        self._items: dict[View, list[QtWidgets.QGraphicsItem]] = {v: [] for v in panels}
        self._rubber: dict[View, list[QtWidgets.QGraphicsItem]] = {v: [] for v in panels}
        self._drag_on: dict[View, tuple[str | None, Path]] = {}  # (study, file) each panel's drag began on
        #: keeps a view's slice on screen while a line is drawn on it (the viewer's FrameStepper.hold)
        self.hold: Callable[[View], None] = lambda _view: None
        for panel in panels.values():
            panel.view_box.sigMeasureDrag.connect(lambda a, b, phase, p=panel: self._on_drag(p, a, b, phase))
            panel.graphics.scene().sigMouseClicked.connect(lambda ev, p=panel: self._on_click(p, ev))
            panel.imageChanged.connect(self.redraw)
        reader.changed.connect(self.redraw_all)

    # -- mode -----------------------------------------------------------------------------------
    def set_enabled(self, enabled: bool) -> None:
        self.enabled = bool(enabled)
        for panel in self.panels.values():
            panel.view_box.measure_mode = self.enabled
            panel.set_tool_cursor(self.enabled)
        if not self.enabled:
            self.select(None)
            for panel in self.panels.values():  # a line being drawn is dropped (the drag pans from here)
                self._replace(panel, self._rubber, [])

    # -- measurements ---------------------------------------------------------------------------
    def panel_measurements(self, panel: ViewPanel) -> list[Measurement]:
        if panel.image is None:
            return []
        key, image = self.key(panel.image), panel.image
        return [m for m in self.reader.measurements if m.view is panel.view and m.image == key and on_slice(m, image)]

    def length(self, m: Measurement) -> Length:
        """``m``'s length with the spacing of the image on its panel (px when unknown or not shown)."""
        image = self.panels[m.view].image if m.view in self.panels else None
        spacing = image.info.spacing if image is not None and self.key(image) == m.image else None
        return measurement_length(m, spacing)

    def measure(self, panel: ViewPanel, p0: tuple[float, float], p1: tuple[float, float]) -> Measurement | None:
        """Save a measurement from stored ``p0`` to ``p1`` on ``panel`` (clamped to the image)."""
        if panel.image is None:
            return None
        sp = panel.image.info.spacing
        m = self.reader.add_measurement(panel.view, self.key(panel.image), self._clamp(panel, p0),
                                        self._clamp(panel, p1), slice_of(panel.image),
                                        (sp.row_mm, sp.col_mm) if sp is not None else None)  # fmt: skip
        if m is not None:
            length = self.length(m)
            hint = (
                " · pixel spacing unknown: Image ▸ Pixel spacing… (Ctrl+Alt+S) gives mm" if length.unit == "px" else ""
            )
            # (no undo when its save added the session to the saved read that could not be read: ReaderMarks._stored)
            undo = " · Ctrl+Z undoes" if self.reader.can_undo else ""
            self.measuring.emit(f"{m.label}: {length.text} ({self.whose}{panel.view.label}){undo}{hint}")
        return m

    def select(self, m: Measurement | None) -> None:
        before, self.selected = self.selected, m
        for view in {x.view for x in (before, m) if x is not None}:
            self.redraw(self.panels[view])
        if m is not None:
            self.measuring.emit(f"{m.label} ({self.length(m).text}) selected: Del deletes it.")
            self.picked.emit(m)

    def delete_selected(self) -> Measurement | None:
        """Delete the selected measurement (saved, undoable); returns it, or None when none is selected or it is not
        on screen (its panel hidden by the layout, or another slice or image shown): Del never deletes unseen."""
        m, self.selected = self.selected, None
        if m is None:
            return None
        panel = self.panels[m.view]
        if not panel.isVisible() or m not in self.panel_measurements(panel):
            return None
        return m if self.reader.remove_measurement(m.id) else None

    def pick(self, panel: ViewPanel, scene_pos: QtCore.QPointF) -> Measurement | None:
        """The measurement of ``panel`` whose line passes nearest a graphics-scene point, within the pick radius."""
        best: tuple[float, Measurement] | None = None
        for m in self.panel_measurements(panel):
            a = panel.view_box.mapViewToScene(panel.stored_to_scene(m.x0, m.y0))
            b = panel.view_box.mapViewToScene(panel.stored_to_scene(m.x1, m.y1))
            d = _segment_distance((scene_pos.x(), scene_pos.y()), (a.x(), a.y()), (b.x(), b.y()))
            if d <= PICK_RADIUS_PX and (best is None or d < best[0]):
                best = (d, m)
        return best[1] if best else None

    # -- drawing --------------------------------------------------------------------------------
    def redraw_all(self) -> None:
        if self.selected is not None:  # as the read has it now (renumbered by a rebase: its old number another's)
            self.selected = counterpart(self.selected, self.reader.measurements)
        for panel in self.panels.values():
            self.redraw(panel)

    def redraw(self, panel: ViewPanel) -> None:
        shown = self.panel_measurements(panel)
        if self.selected is not None and self.selected.view is panel.view and self.selected not in shown:
            self.selected = None  # not drawn any more (another slice or image): Del must not delete it unseen
        self._replace(panel, self._items, [])
        items: list[QtWidgets.QGraphicsItem] = []
        for m in shown:
            color = HIGHLIGHT_COLOR if self.selected is not None and m.id == self.selected.id else MEASURE_COLOR
            items += line_items((m.x0, m.y0), (m.x1, m.y1), self.length(m).text, color)
        self._replace(panel, self._items, items)

    def items(self, view: View) -> list[QtWidgets.QGraphicsItem]:
        """The drawn items of ``view``'s saved measurements (tests, export checks)."""
        return list(self._items[view])

    def _replace(self, panel: ViewPanel, store: dict[View, list[QtWidgets.QGraphicsItem]],
                 items: list[QtWidgets.QGraphicsItem]) -> None:  # fmt: skip
        for item in store[panel.view]:
            panel.remove_overlay_item(item)
        store[panel.view] = items
        for i, item in enumerate(items):
            panel.add_overlay_item(item, MEASURE_Z + i * 0.001)

    # -- events ---------------------------------------------------------------------------------
    def _on_drag(self, panel: ViewPanel, start: QtCore.QPointF, end: QtCore.QPointF, phase: int) -> None:
        if panel.image is None or not self.enabled:
            return
        on = (self.reader.study_key, panel.image.info.path)  # the study and file (not the header object: the same
        if phase == DRAG_START:  # study shown again, e.g. for a pixel spacing, has new ones)
            self._drag_on[panel.view] = on
        elif self._drag_on.get(panel.view) != on:  # begun on another study's image
            self._replace(panel, self._rubber, [])
            return
        p0 = self._clamp(panel, panel.scene_to_stored(start))
        p1 = self._clamp(panel, panel.scene_to_stored(end))
        if phase == DRAG_FINISH:
            self._drag_on.pop(panel.view, None)
            self._replace(panel, self._rubber, [])
            if self._screen_length(panel, p0, p1) >= MIN_DRAG_PX:
                self.measure(panel, p0, p1)
            return
        if phase == DRAG_START:
            self.select(None)
            self.hold(panel.view)  # both ends on the slice on screen, which stays there (a cine stops)
        text = length_of(p0, p1, panel.image.info.spacing).text
        self._replace(panel, self._rubber, line_items(p0, p1, text))
        self.measuring.emit(f"Measuring on {self.whose}{panel.view.label}: {text}")

    def _on_click(self, panel: ViewPanel, ev: object) -> None:
        if not self.enabled or ev.button() != QtCore.Qt.MouseButton.LeftButton or ev.double():  # type: ignore[attr-defined]
            return
        self.select(self.pick(panel, ev.scenePos()))  # type: ignore[attr-defined]

    @staticmethod
    def _clamp(panel: ViewPanel, p: tuple[float, float]) -> tuple[float, float]:
        assert panel.image is not None
        rows, cols = panel.image.shape
        return (min(max(p[0], 0.0), float(cols)), min(max(p[1], 0.0), float(rows)))

    @staticmethod
    def _screen_length(panel: ViewPanel, p0: tuple[float, float], p1: tuple[float, float]) -> float:
        a = panel.view_box.mapViewToScene(panel.stored_to_scene(*p0))
        b = panel.view_box.mapViewToScene(panel.stored_to_scene(*p1))
        return math.hypot(a.x() - b.x(), a.y() - b.y())


def _segment_distance(p: tuple[float, float], a: tuple[float, float], b: tuple[float, float]) -> float:
    """Distance from ``p`` to the segment ``a``-``b``."""
    ax, ay = b[0] - a[0], b[1] - a[1]
    n2 = ax * ax + ay * ay
    t = 0.0 if n2 == 0 else min(1.0, max(0.0, ((p[0] - a[0]) * ax + (p[1] - a[1]) * ay) / n2))
    return math.hypot(p[0] - a[0] - t * ax, p[1] - a[1] - t * ay)
