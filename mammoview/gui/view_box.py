"""The ViewBox of a panel: pan with the left button, zoom with the wheel, window/level with right/middle drag.

In measure mode a left drag draws a length line instead of panning (``sigMeasureDrag``).

pyqtgraph's defaults (right-drag zoom, its own context menu, auto-range) do not
fit a reading workstation; this subclass turns them into signals the panel
handles, so the mouse mapping lives in one place.
"""

from __future__ import annotations

import pyqtgraph as pg
from PySide6 import QtCore

#: One wheel notch in QWheelEvent delta units (eighths of a degree, 15 degrees a notch).
WHEEL_NOTCH = 120

#: Phases of a measure drag (``sigMeasureDrag``).
DRAG_START, DRAG_MOVE, DRAG_FINISH = 0, 1, 2

#: The wheel zooms in until a stored pixel is this many screen pixels wide, and out until the image's longer side is
#: this share of the panel's shorter one: a free-spinning wheel or a touchpad flick sends a hundred notches at once,
#: each a quarter's zoom, and past these there is nothing left to read (unbounded, the view's pixel size read 0).
MAX_PIXEL_ZOOM = 32.0
MIN_IMAGE_SHARE = 0.1


class MammoViewBox(pg.ViewBox):  # type: ignore[misc]  # pyqtgraph is untyped
    """Aspect-locked, y-down ViewBox; mouse gestures become signals.

    Signals
    -------
    sigWindowDrag(dx, dy)
        Right or middle drag (or left drag in window/level mode), screen pixels since the last event.
    sigClicked()
        Left click: the panel becomes the active one.
    sigDoubleClicked()
        Left double click: maximise / restore the panel.
    sigContextMenu(QPoint)
        Right click without drag, global screen position.
    sigMeasureDrag(QPointF, QPointF, int)
        Left drag in measure mode: start and current point in view (scene) coordinates, and the
        phase (:data:`DRAG_START`, :data:`DRAG_MOVE`, :data:`DRAG_FINISH`).  The start is the view point
        pressed on, kept through a wheel zoom or pan during the drag.
    sigSliceWheel(int)
        The vertical wheel over a tomosynthesis volume (``slice_wheel``): slices to step, +1 per whole notch
        towards the reader (the next slice), -1 away (touchpad deltas add up to notches); ``Ctrl`` + wheel zooms
        there, as on DBT workstations.
    """

    sigWindowDrag = QtCore.Signal(float, float)
    sigClicked = QtCore.Signal()
    sigDoubleClicked = QtCore.Signal()
    sigContextMenu = QtCore.Signal(QtCore.QPoint)
    sigMeasureDrag = QtCore.Signal(QtCore.QPointF, QtCore.QPointF, int)
    sigSliceWheel = QtCore.Signal(int)

    def __init__(self, chest_wall_right: bool) -> None:
        super().__init__(lockAspect=True, invertY=True, enableMenu=False, defaultPadding=0.0)
        # Scene x is the distance from the chest wall; a panel whose chest wall is on the
        # display's right grows x to the left, so linked left/right pairs mirror each other.
        self.invertX(chest_wall_right)
        self.enableAutoRange(enable=False)
        self.window_level_mode = False
        self.measure_mode = False
        self.slice_wheel = False  # the image is a multi-frame volume: the wheel steps its slices
        self._wheel_rest = 0  # eighths of a degree not yet a whole notch (touchpads send small deltas)
        self._measure_from = QtCore.QPointF()  # the measure drag's start, in view coordinates
        #: the image's longer side in view units (stored rows), set by the panel; 0 while it shows none
        self.extent = 0.0

    def wheelEvent(self, ev, axis=None) -> None:  # type: ignore[no-untyped-def]
        ctrl = bool(ev.modifiers() & QtCore.Qt.KeyboardModifier.ControlModifier)
        vertical = ev.orientation() == QtCore.Qt.Orientation.Vertical
        if self.slice_wheel and not ctrl and vertical:
            ev.accept()
            self._wheel_rest += int(ev.delta())
            notches = int(self._wheel_rest / WHEEL_NOTCH)  # towards zero: the remainder waits for more
            self._wheel_rest -= notches * WHEEL_NOTCH
            if notches:
                self.sigSliceWheel.emit(-notches)  # a notch towards the reader (negative delta): the next slice
            return
        if not self._zoom_allowed(float(ev.delta())):
            ev.accept()
            return
        super().wheelEvent(ev, axis)

    def _zoom_allowed(self, delta: float) -> bool:
        """Whether pyqtgraph's wheel step for ``delta`` (the range times 1.02 ** (delta x its wheel scale factor))
        stays within :data:`MAX_PIXEL_ZOOM` and :data:`MIN_IMAGE_SHARE`; a step back from a bound always is."""
        if self.extent <= 0:
            return False  # no image: nothing to zoom (a linked partner's view would follow, unbounded)
        factor = 1.02 ** (delta * self.state["wheelScaleFactor"])
        size = self.viewPixelSize()[1] * factor  # view units per screen pixel after the step
        if factor < 1:
            return bool(size * MAX_PIXEL_ZOOM >= 1)
        return bool(self.extent >= size * MIN_IMAGE_SHARE * min(self.width(), self.height()))

    def mouseDragEvent(self, ev, axis=None) -> None:  # type: ignore[no-untyped-def]
        if self.measure_mode and ev.button() == QtCore.Qt.MouseButton.LeftButton:
            ev.accept()
            phase = DRAG_START if ev.isStart() else DRAG_FINISH if ev.isFinish() else DRAG_MOVE
            if phase == DRAG_START:  # the image point pressed on, kept: a wheel zoom mid-drag must not move it
                self._measure_from = self.mapToView(ev.buttonDownPos())
            self.sigMeasureDrag.emit(QtCore.QPointF(self._measure_from), self.mapToView(ev.pos()), phase)
            return
        wl_button = ev.button() in (QtCore.Qt.MouseButton.RightButton, QtCore.Qt.MouseButton.MiddleButton)
        if wl_button or (self.window_level_mode and ev.button() == QtCore.Qt.MouseButton.LeftButton):
            ev.accept()
            delta = ev.screenPos() - ev.lastScreenPos()
            self.sigWindowDrag.emit(float(delta.x()), float(delta.y()))
            return
        super().mouseDragEvent(ev, axis)

    def mouseClickEvent(self, ev) -> None:  # type: ignore[no-untyped-def]
        if ev.button() == QtCore.Qt.MouseButton.RightButton:
            ev.accept()
            self.sigContextMenu.emit(ev.screenPos().toPoint())
        elif ev.button() == QtCore.Qt.MouseButton.LeftButton:
            ev.accept()
            if ev.double():
                self.sigDoubleClicked.emit()
            else:
                self.sigClicked.emit()
