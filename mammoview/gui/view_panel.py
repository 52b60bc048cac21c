"""One panel of the hanging protocol: a single view (R CC, L CC, R MLO or L MLO) in its own ViewBox.

Coordinates
-----------
*Stored* coordinates are the image's stored pixel grid (x = column, y = row, origin
top-left; docs/cad-design.md).  *Scene* coordinates are the ViewBox's view
coordinates (what ``view_box.addItem`` items use): x is the distance from the chest
wall, y the row on screen.  ``stored_group`` carries the stored -> scene transform
(the io display flips, plus the mirror that puts x = 0 at the chest wall, plus the
pixel aspect: one scene unit is one stored *row*, and a column is ``aspect`` of it, so an
image with non-square pixels is shown in its true proportions); the image and every
overlay live inside it, so overlays are written in stored coordinates.

The panel's ViewBox is x-inverted when its chest wall is on the display's right (the
right breast), which is what makes pyqtgraph's plain x-links mirror across the seam.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets

from mammoview.gui.display_image import DisplayImage
from mammoview.gui.image_layer import StoredImageItem
from mammoview.gui.magnifier import LOUPE_SIZE, LOUPE_ZOOM, Loupe, loupe_crop
from mammoview.gui.panel_geometry import pixel_aspect, scene_transform
from mammoview.gui.panel_labels import PanelLabels
from mammoview.gui.view_box import MammoViewBox
from mammoview.gui.window_level import WindowState, lut_for
from mammoview.io.model import Laterality, MammoImage, View

#: Overlays sit above the image (z 0); CAD heatmaps should use 10..19, marks 20+.
OVERLAY_Z = 10


@dataclass(frozen=True)
class CursorSample:
    """What is under the cursor in a panel (stored coordinates; values None outside the image)."""

    view: View
    x: float
    y: float
    inside: bool
    stored_value: int | None
    display_value: int | None
    image: MammoImage | None
    #: read from a preview (:mod:`mammoview.io.preview`): its stored value is a coarse level's, none of the file's
    preview: bool = False


class ViewPanel(QtWidgets.QWidget):
    """A labelled ViewBox showing one mammogram, justified to its chest wall.

    Extension points for overlays (CAD heatmap, finding marks): :meth:`add_overlay_item`
    (item in stored coordinates), :meth:`stored_to_scene` / :meth:`scene_to_stored`,
    :meth:`stored_transform`, :attr:`view_box`, :attr:`image_item`, and the
    ``imageChanged`` signal (overlays are cleared when the image changes).
    """

    activated = QtCore.Signal(object)  # self
    maximizeRequested = QtCore.Signal(object)  # self
    contextMenuRequested = QtCore.Signal(object, QtCore.QPoint)  # self, global position
    cursorMoved = QtCore.Signal(object, object)  # self, CursorSample | None
    windowDragged = QtCore.Signal(object, float, float)  # self, dx, dy (screen pixels)
    userRangeChanged = QtCore.Signal(object)  # self: pan/zoom by the reader
    imageChanged = QtCore.Signal(object)  # self
    sliceWheel = QtCore.Signal(object, int)  # self, slices to step (+ next, - previous) in a tomosynthesis volume

    def __init__(self, view: View, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.view = view
        self.chest_wall_right = view.laterality is Laterality.RIGHT
        self.display: DisplayImage | None = None
        self.window_state: WindowState | None = None
        self.magnifier_enabled = False
        self.scale_bar_enabled = True
        self._tool_active = False  # mark or measure mode (the cross cursor)
        self._pointer: QtCore.QPointF | None = None  # the cursor over the image (scene), None when outside
        self._fitted = True
        self._fit_content: tuple[float, float, float] | None = None
        self._overlays: list[QtWidgets.QGraphicsItem] = []

        self.graphics = pg.GraphicsView(self, background="k")
        self.graphics.setRenderHint(QtGui.QPainter.RenderHint.SmoothPixmapTransform, True)
        self.graphics.setAcceptDrops(False)  # drops go to the main window
        self.graphics.viewport().setAcceptDrops(False)
        self.view_box = MammoViewBox(self.chest_wall_right)
        self.graphics.setCentralItem(self.view_box)
        self.stored_group = pg.ItemGroup()
        self.view_box.addItem(self.stored_group, ignoreBounds=True)
        self.image_item = StoredImageItem()
        self.image_item.setParentItem(self.stored_group)

        self.labels = PanelLabels(self, view, outer_left=self.chest_wall_right)
        self.loupe = Loupe(self)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(1, 1, 1, 1)  # the 1-px frame shows which panel is active
        layout.addWidget(self.graphics)
        self.setAutoFillBackground(True)
        self.set_active(False)

        vb = self.view_box
        vb.sigClicked.connect(lambda: self.activated.emit(self))
        vb.sigDoubleClicked.connect(lambda: self.maximizeRequested.emit(self))
        vb.sigContextMenu.connect(lambda pos: self.contextMenuRequested.emit(self, pos))
        vb.sigWindowDrag.connect(lambda dx, dy: self.windowDragged.emit(self, dx, dy))
        vb.sigSliceWheel.connect(lambda step: self.sliceWheel.emit(self, step))
        vb.sigRangeChangedManually.connect(self._on_manual_range)
        vb.sigTransformChanged.connect(self._on_transform_changed)
        vb.sigResized.connect(self._on_resized)
        self.graphics.scene().sigMouseMoved.connect(self._on_mouse_moved)
        self.graphics.viewport().installEventFilter(self)
        self.labels.refresh_empty(None)

    # -- image -------------------------------------------------------------------------
    @property
    def image(self) -> MammoImage | None:
        return self.display.image if self.display is not None else None

    def set_image(self, display: DisplayImage | None, window: WindowState | None = None) -> None:
        """Show ``display`` (None: the empty labelled panel) with ``window`` (default: the file's)."""
        self.clear_overlays()
        self.display = display
        self.view_box.slice_wheel = display is not None and display.image.info.frames > 1
        self.view_box.extent = max(self.content_size()) if display is not None else 0.0
        if display is None:
            self.window_state = None
            self.loupe.hide()  # it showed the image gone (the last study's, under a mouse resting here)
            self.image_item.set_pyramid(None, 0, 0, np.zeros(1, np.uint8))
            self.stored_group.setTransform(QtGui.QTransform())
        else:
            self.window_state = window or WindowState(display.stats.default_voi)
            self.stored_group.setTransform(self.stored_transform())
            offset, lut = self._lut()
            # Start on the coarsest level: cheap to render; the fit picks the real one.
            self.image_item.set_pyramid(display.pyramid, len(display.pyramid.levels) - 1, offset, lut)
            self._update_level()
        self.labels.refresh_empty(display)
        self._refresh_info()
        self._refresh_scale()
        self.imageChanged.emit(self)
        if display is not None and self._pointer is not None:  # the cursor read-out and the loupe show this image
            self._on_mouse_moved(self._pointer)

    def set_window(self, state: WindowState) -> None:
        """Apply a window/level state (re-maps only the pyramid level on screen)."""
        if self.display is None:
            return
        self.window_state = state
        self.image_item.set_display(*self._lut())
        self._refresh_info()
        self._refresh_loupe()

    def _lut(self) -> tuple[int, np.ndarray]:
        assert self.display is not None and self.window_state is not None
        p = self.display.pyramid
        # a table of the values the levels hold, not one entry per stored value (2**32 for a full 32-bit range)
        return lut_for(self.display.image.info.chain, self.window_state, p.stored_min, p.shown_max)

    # -- coordinates (the CAD overlay contract) -----------------------------------------
    def stored_transform(self) -> QtGui.QTransform:
        """Stored grid -> scene: the display flips, then x measured from the chest wall."""
        if self.display is None:
            return QtGui.QTransform()
        return scene_transform(self.display.image, self.aspect, self.chest_wall_right)

    @property
    def aspect(self) -> float:
        """Width of a stored column in stored rows (:func:`~mammoview.gui.panel_geometry.pixel_aspect`)."""
        return pixel_aspect(self.image)

    def stored_to_scene(self, x: float, y: float) -> QtCore.QPointF:
        """Scene (ViewBox view) position of stored pixel coordinates ``(x, y)``."""
        return self.stored_transform().map(QtCore.QPointF(x, y))

    def scene_to_stored(self, point: QtCore.QPointF) -> tuple[float, float]:
        """Stored ``(x, y)`` of a scene (ViewBox view) position."""
        inverse, _ = self.stored_transform().inverted()
        p = inverse.map(point)
        return (p.x(), p.y())

    def add_overlay_item(self, item: QtWidgets.QGraphicsItem, z: float = OVERLAY_Z) -> None:
        """Add ``item`` (in stored coordinates) above the image; removed when the image changes.

        A heatmap ImageItem of any resolution: ``item.setRect(0, 0, columns, rows)`` first.
        Text should be a ``pg.TextItem`` (it stays upright however the panel is flipped).
        """
        item.setParentItem(self.stored_group)
        item.setZValue(z)
        self._overlays.append(item)

    def remove_overlay_item(self, item: QtWidgets.QGraphicsItem) -> None:
        if item in self._overlays:
            self._overlays.remove(item)
            item.setParentItem(None)  # type: ignore[arg-type]  # None detaches (Qt API)
            if item.scene() is not None:
                item.scene().removeItem(item)

    def clear_overlays(self) -> None:
        for item in list(self._overlays):
            self.remove_overlay_item(item)

    # -- zoom ---------------------------------------------------------------------------
    def content_size(self) -> tuple[float, float]:
        """Width and height of the image in scene units (stored pixels); (0, 0) when empty."""
        if self.image is None:
            return (0.0, 0.0)
        rows, cols = self.image.shape
        return (cols * self.aspect, float(rows))

    @property
    def fitted(self) -> bool:
        """True while the panel shows its fit (resizes then refit it)."""
        return self._fitted

    @property
    def fit_content(self) -> tuple[float, float, float] | None:
        """The scene area of the last :meth:`fit_to` (width, height, top row), or None."""
        return self._fit_content

    def mark_unfitted(self) -> None:
        self._fitted = False

    def fit_to(self, width: float, height: float, y0: float = 0.0) -> None:
        """Show a ``width`` x ``height`` scene area starting at row ``y0``, scaled to fit, pinned to the chest wall.

        x starts at 0 (the chest wall) at the panel's inner edge; spare room goes to
        the outer side, and the area is centred vertically.  Linked partners get
        the same content size, so their ranges agree exactly.  ``y0`` > 0 is the
        fit to the breast (:mod:`mammoview.gui.breast_fit`).
        """
        self._fit_content = (max(width, 1.0), max(height, 1.0), y0)
        self._fitted = True
        w, h = self.view_box.width(), self.view_box.height()
        if w < 2 or h < 2:
            return  # not laid out yet; _on_resized fits again
        cw, ch, top = self._fit_content
        scale = min(w / cw, h / ch)
        vw, vh = w / scale, h / scale
        yc = top + ch / 2
        self.view_box.setRange(xRange=(0.0, vw), yRange=(yc - vh / 2, yc + vh / 2), padding=0.0)

    def zoom_one_to_one(self) -> None:
        """One stored pixel per device pixel, keeping the chest-wall-side edge and the vertical centre."""
        dpr = self.graphics.devicePixelRatioF()
        (x0, _), (y0, y1) = self.view_box.viewRange()
        vw, vh = self.view_box.width() * dpr, self.view_box.height() * dpr
        yc = (y0 + y1) / 2
        self.view_box.setRange(xRange=(x0, x0 + vw), yRange=(yc - vh / 2, yc + vh / 2), padding=0.0)
        self._on_manual_range()

    def device_scale(self) -> float:
        """Device pixels per stored pixel (row) at the current zoom."""
        px = self.view_box.viewPixelSize()[0]
        return self.graphics.devicePixelRatioF() / px if px > 0 else 0.0

    # -- appearance -----------------------------------------------------------------------
    def set_active(self, active: bool) -> None:
        pal = self.palette()
        pal.setColor(QtGui.QPalette.ColorRole.Window, QtGui.QColor("#3d7edb" if active else "#202020"))
        self.setPalette(pal)

    def set_study_text(self, lines: list[str]) -> None:
        """Patient/study lines under the view label (empty list hides them)."""
        self.labels.set_study_lines(lines)

    def set_magnifier(self, enabled: bool) -> None:
        self.magnifier_enabled = enabled
        self._update_cursor()
        if not enabled:
            self.loupe.hide()

    def set_tool_cursor(self, active: bool) -> None:
        """A pointing tool (mark or measure mode) is on: the cross cursor, as with the magnifier."""
        self._tool_active = active
        self._update_cursor()

    def _update_cursor(self) -> None:
        cross = self.magnifier_enabled or self._tool_active
        shape = QtCore.Qt.CursorShape.CrossCursor if cross else QtCore.Qt.CursorShape.ArrowCursor
        self.graphics.viewport().setCursor(shape)

    def set_scale_bar(self, enabled: bool) -> None:
        self.scale_bar_enabled = enabled
        self._refresh_scale()

    def px_per_mm(self) -> float | None:
        """Logical screen pixels per mm across the image at the current zoom (None: no spacing from the file or
        the reader, or one the panel does not draw to scale)."""
        sp = self.image.info.spacing if self.image is not None else None
        if sp is None or sp.estimated or abs(self.aspect - sp.col_mm / sp.row_mm) > 1e-6:
            return None  # (an absurd aspect is drawn 1:1, so scene x is not row_mm there)
        px = self.view_box.viewPixelSize()[0]  # scene units (stored rows) per logical pixel, both axes
        return 1.0 / (px * sp.row_mm) if px > 0 else None

    def _refresh_scale(self) -> None:
        sp = self.image.info.spacing if self.image is not None else None
        at_detector = sp is not None and sp.at_detector
        self.labels.set_scale(self.px_per_mm() if self.scale_bar_enabled and self.display is not None else None,
                              at_detector)  # fmt: skip

    def _refresh_info(self) -> None:
        if self.display is None or self.window_state is None:
            self.labels.set_info("")
            return
        zoom = self.device_scale() * 100
        self.labels.set_info(f"{self.window_state.describe()} · {zoom:.0f}% · {self.display.image.path.name}")

    # -- events ---------------------------------------------------------------------------
    def _on_manual_range(self, *_: object) -> None:
        self._fitted = False
        self.userRangeChanged.emit(self)

    def _on_transform_changed(self, *_: object) -> None:
        self._update_level()
        self._refresh_info()
        self._refresh_scale()
        self._refresh_loupe()

    def _refresh_loupe(self) -> None:
        """The loupe under a resting mouse shows the view as it is now (a zoom or window by key, a linked pan),
        not as it was at the mouse's last move."""
        if self.magnifier_enabled and self.loupe.isVisible() and self._pointer is not None:
            self._on_mouse_moved(self._pointer)

    def _update_level(self) -> None:
        if self.display is not None:  # the denser of the two axes picks the pyramid level
            scale = self.device_scale() * max(1.0, self.aspect)
            self.image_item.set_level(self.display.pyramid.level_for_scale(scale))

    def _on_resized(self, *_: object) -> None:
        if self._fitted and self._fit_content is not None:
            self.fit_to(*self._fit_content)

    def resizeEvent(self, event: QtGui.QResizeEvent) -> None:
        super().resizeEvent(event)
        self.labels.place()

    def event(self, event: QtCore.QEvent) -> bool:
        if event.type() == QtCore.QEvent.Type.DevicePixelRatioChange:
            # the window went to a screen of another scale (a 200 % monitor beside a 100 % one): the same view range
            # is now more (or fewer) device pixels, so the pyramid level and the zoom line follow the new ratio
            self._on_transform_changed()
        return super().event(event)

    def eventFilter(self, obj: QtCore.QObject, event: QtCore.QEvent) -> bool:
        if event.type() == QtCore.QEvent.Type.Leave:
            self._pointer = None
            self.loupe.hide()
            self.cursorMoved.emit(self, None)
        return False

    def _on_mouse_moved(self, scene_pos: QtCore.QPointF) -> None:
        self._pointer = QtCore.QPointF(scene_pos)  # a new slice under a still mouse is read at it again
        sample = self.sample_at(self.view_box.mapSceneToView(scene_pos))
        self.cursorMoved.emit(self, sample)
        if self.magnifier_enabled and sample is not None:
            widget_pos = self.graphics.viewport().mapTo(self, self.graphics.mapFromScene(scene_pos))
            self._show_loupe(sample, QtCore.QPointF(widget_pos))
        elif sample is None:  # an empty panel: nothing to magnify (the loupe held the last image's pixels)
            self.loupe.hide()

    def sample_at(self, scene_point: QtCore.QPointF) -> CursorSample | None:
        """The stored and displayed value under a scene point (None when the panel is empty)."""
        if self.display is None:
            return None
        x, y = self.scene_to_stored(scene_point)
        img = self.display.image
        rows, cols = img.shape
        col, row = int(np.floor(x)), int(np.floor(y))
        if not (0 <= col < cols and 0 <= row < rows):
            return CursorSample(self.view, x, y, False, None, None, img)
        stored = int(img.stored[row, col])
        offset, lut = self.image_item.display_lookup()
        shown = int(lut[min(max(stored - offset, 0), len(lut) - 1)])
        return CursorSample(self.view, x, y, True, stored, shown, img, self.display.preview)

    def _show_loupe(self, sample: CursorSample, widget_pos: QtCore.QPointF) -> None:
        assert self.display is not None
        offset, lut = self.image_item.display_lookup()
        dpr = self.devicePixelRatioF()
        d = self.display.image.display
        qimg, src = loupe_crop(
            self.display.pyramid, offset, lut, (sample.x, sample.y),
            self.device_scale() * LOUPE_ZOOM, int(LOUPE_SIZE * dpr), (d.flip_horizontal, d.flip_vertical),
            self.aspect,
        )  # fmt: skip
        # drawn over the panels' container, not inside this panel: at the chest wall or a panel's edge the loupe
        # spills over the neighbour instead of being cut off where the reader looks
        host = self.parentWidget() or self
        if self.loupe.parentWidget() is not host:
            self.loupe.setParent(host)
        # a preview's pixels are a coarse level's, enlarged (4 x 4 blocks): not the detail the loupe is for
        note = "preview: decoding" if self.display.preview else ""
        self.loupe.show_at(QtCore.QPointF(self.mapTo(host, widget_pos.toPoint())), qimg, src, note)
