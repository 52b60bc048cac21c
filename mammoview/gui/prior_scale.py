"""The current exam's pair and the prior's below it at one physical scale (the comparison layouts:
:mod:`~mammoview.gui.prior_compare`).

Both rows are shown at **one physical scale** when every image has a pixel spacing (from its file or given), so a
mass or the breast is as large on screen in both exams: with equal spacings (the same detector) the four panels
are fitted to the union of both rows' fits and the prior pair zooms and pans with the current pair (linked, as
the pairs are); with different spacings each row keeps its own centre at the same millimetres per screen pixel,
not linked (a linked range is in pixels).  Without spacings each row is fitted on its own.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mammoview.gui.linking import LinkMode, link_groups

if TYPE_CHECKING:
    from mammoview.gui.main_window import MainWindow
    from mammoview.gui.view_panel import ViewPanel
    from mammoview.io.model import View


def one_scale(window: MainWindow, panels: dict[View, ViewPanel]) -> bool:
    """Both rows, the window's current pair and the prior's pair in ``panels``, at the same mm per screen pixel where
    every image's spacing is known (module docstring); whether the prior pair now zooms and pans with the current
    pair (one pixel size, linked)."""
    w, views = window, window.hanging.prior_views()
    current, prior = [w.panels[v] for v in views], [panels[v] for v in views]
    shown = [p for p in current + prior if p.display is not None]
    if not any(p.display for p in current) or not any(p.display for p in prior):
        return False
    mm = [row_mm(p) for p in shown]
    fits = [p.fit_content for p in shown]
    if any(m is None for m in mm) or any(f is None or not p.fitted for f, p in zip(fits, shown, strict=True)):
        return False
    sizes = [(f, m) for f, m in zip(fits, mm, strict=True) if f is not None and m is not None]
    groups = [g for g in link_groups(w.link_mode, views) if len(g) > 1] if w.link_mode is not LinkMode.NONE else []
    if groups and max(m for _, m in sizes) <= min(m for _, m in sizes) * 1.005:
        # one pixel size: the union of both rows' fits, and the prior pair linked to the current pair
        width = max(f[0] for f, _ in sizes)
        top, bottom = min(f[2] for f, _ in sizes), max(f[2] + f[1] for f, _ in sizes)
        for p in shown:
            p.fit_to(width, bottom - top, top)
        for g in groups:
            panels[g[0]].view_box.setXLink(w.panels[g[0]].view_box)
            panels[g[0]].view_box.setYLink(w.panels[g[0]].view_box)
        for p in prior:  # the current pair leads: a resize refits it and the link carries the prior along
            p.mark_unfitted()
        return True
    width_mm = max(f[0] * m for f, m in sizes)
    height_mm = max(f[1] * m for f, m in sizes)
    for p, (f, m) in zip(shown, sizes, strict=True):
        centre = f[2] + f[1] / 2
        p.fit_to(width_mm / m, height_mm / m, centre - height_mm / m / 2)
    return False


def row_mm(panel: ViewPanel) -> float | None:
    """The row spacing of the panel's image in mm when its file (or the reader) gives one; None when guessed."""
    sp = panel.image.info.spacing if panel.image is not None else None
    return sp.row_mm if sp is not None and not sp.estimated and sp.row_mm > 0 else None
