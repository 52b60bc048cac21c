"""The ViewBox of a panel: pan with the left button, zoom with the wheel, window/level with right/middle drag.

pyqtgraph's defaults (right-drag zoom, its own context menu, auto-range) do not
fit a reading workstation; this subclass turns them into signals the panel
handles, so the mouse mapping lives in one place.
"""

from __future__ import annotations

import pyqtgraph as pg
from PySide6 import QtCore


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
    """

    sigWindowDrag = QtCore.Signal(float, float)
    sigClicked = QtCore.Signal()
    sigDoubleClicked = QtCore.Signal()
    sigContextMenu = QtCore.Signal(QtCore.QPoint)

    def __init__(self, chest_wall_right: bool) -> None:
        super().__init__(lockAspect=True, invertY=True, enableMenu=False, defaultPadding=0.0)
        # Scene x is the distance from the chest wall; a panel whose chest wall is on the
        # display's right grows x to the left, so linked left/right pairs mirror each other.
        self.invertX(chest_wall_right)
        self.enableAutoRange(enable=False)
        self.window_level_mode = False

    def mouseDragEvent(self, ev, axis=None) -> None:  # type: ignore[no-untyped-def]
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
