"""Going to a finding: make its view visible and active, and centre it (zooming in from the fit)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from mammoview.gui.linking import mark_group_unfitted
from mammoview.io.model import View

if TYPE_CHECKING:
    from mammoview.gui.main_window import MainWindow

#: Zoom applied when jumping to a finding from the fitted view: at the fit a lesion is a
#: few screen pixels; twice the fit shows it with its surroundings.
FOCUS_ZOOM = 2.0


def focus_on(window: MainWindow, view: View, point: tuple[float, float]) -> None:
    """Centre ``view``'s panel on stored ``point``; its linked partner follows (mirrored)."""
    if view not in window.hanging.visible_views():
        window.set_layout_mode(window.four_layout)
    panel = window.panels[view]
    panel.activated.emit(panel)  # the window makes it the active panel
    vb = panel.view_box
    (x0, x1), (y0, y1) = vb.viewRange()
    w, h = x1 - x0, y1 - y0
    if panel.fitted:
        w, h = w / FOCUS_ZOOM, h / FOCUS_ZOOM
    c = panel.stored_to_scene(*point)
    vb.setRange(xRange=(c.x() - w / 2, c.x() + w / 2), yRange=(c.y() - h / 2, c.y() + h / 2), padding=0.0)
    # A resize must not snap the group back to the fit the reader just left.
    mark_group_unfitted(window.panels, view, window.link_mode, window.hanging.visible_views())
