"""Mark mode: a left click on an image places a reader mark of the current kind (or selects a mark).

Clicks are taken from each panel's pyqtgraph scene (``sigMouseClicked``), after the
ViewBox has handled them, so panning with a drag and activating a panel keep working
in mark mode.  A click within :data:`PICK_RADIUS_PX` screen pixels of an existing mark
selects it instead of placing a new one (so the reader can delete it with Del).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping

from PySide6 import QtCore

from mammoview.gui.read_state import MarkKind, ReaderMark, image_key, on_slice, slice_of
from mammoview.gui.reader_marks import ReaderMarks
from mammoview.gui.view_panel import ViewPanel
from mammoview.io.model import View

PICK_RADIUS_PX = 14.0


class MarksTool(QtCore.QObject):
    """Places and picks reader marks on the panels.

    Signals
    -------
    markSelected(object)
        A :class:`ReaderMark` was clicked in mark mode.
    markPlaced(object)
        A new :class:`ReaderMark` was placed.
    """

    markSelected = QtCore.Signal(object)
    markPlaced = QtCore.Signal(object)

    def __init__(self, panels: Mapping[View, ViewPanel], reader: ReaderMarks,
                 parent: QtCore.QObject | None = None) -> None:  # fmt: skip
        super().__init__(parent)
        self.panels = panels
        self.reader = reader
        self.enabled = False
        self.kind = MarkKind.MASS
        self._placed: tuple[ViewPanel, ReaderMark] | None = None  # the last click's new mark (a double's first click)
        #: keeps a view's slice on screen while a mark is placed on it (the viewer's FrameStepper.hold)
        self.hold: Callable[[View], None] = lambda _view: None
        #: whether the reader's marks are drawn (CAD ▸ My marks): hidden ones are not clicked on
        self.shown: Callable[[], bool] = lambda: True
        for panel in panels.values():
            panel.graphics.scene().sigMouseClicked.connect(lambda ev, p=panel: self._on_click(p, ev))

    def set_enabled(self, enabled: bool) -> None:
        self.enabled = bool(enabled)
        for panel in self.panels.values():
            panel.set_tool_cursor(self.enabled)

    def set_kind(self, kind: MarkKind) -> None:
        self.kind = kind

    def place(self, panel: ViewPanel, x: float, y: float) -> ReaderMark | None:
        """Place a mark at stored ``(x, y)`` on ``panel``'s image (None outside the image or without one)."""
        if panel.image is None:
            return None
        rows, cols = panel.image.shape
        if not (0 <= x < cols and 0 <= y < rows):
            return None
        mark = self.reader.add(panel.view, image_key(panel.image), x, y, self.kind, slice_of(panel.image))
        if mark is not None:
            self.markPlaced.emit(mark)
        return mark

    def pick(self, panel: ViewPanel, scene_pos: QtCore.QPointF) -> ReaderMark | None:
        """The reader mark of ``panel`` nearest to a graphics-scene point, within the pick radius."""
        if panel.image is None or not self.shown():
            return None  # (a mark not drawn is nothing to click on: the click places one)
        key = image_key(panel.image)
        best: tuple[float, ReaderMark] | None = None
        for m in self.reader.marks:
            if m.view is not panel.view or m.image != key or not on_slice(m, panel.image):
                continue  # (a mark of another slice of the volume is not drawn: nothing to click on)
            p = panel.view_box.mapViewToScene(panel.stored_to_scene(m.x, m.y))
            d = math.hypot(p.x() - scene_pos.x(), p.y() - scene_pos.y())
            if d <= PICK_RADIUS_PX and (best is None or d < best[0]):
                best = (d, m)
        return best[1] if best else None

    def _on_click(self, panel: ViewPanel, ev: object) -> None:
        if not self.enabled or ev.button() != QtCore.Qt.MouseButton.LeftButton:  # type: ignore[attr-defined]
            return
        placed, self._placed = self._placed, None
        if ev.time() < self.reader.opened_at:  # type: ignore[attr-defined]  # pressed on the study before
            return
        if ev.double():  # type: ignore[attr-defined]
            # a double-click maximises the view (the view box's): the mark its first click placed is taken back
            if placed is not None and placed[0] is panel:
                self.reader.withdraw(placed[1])
            return
        scene_pos = ev.scenePos()  # type: ignore[attr-defined]
        if (hit := self.pick(panel, scene_pos)) is not None:
            self.markSelected.emit(hit)
            return
        x, y = panel.scene_to_stored(panel.view_box.mapSceneToView(scene_pos))
        self.hold(panel.view)  # the mark goes on the slice on screen, which stays there (a cine stops)
        if (mark := self.place(panel, x, y)) is not None:
            self._placed = (panel, mark)
