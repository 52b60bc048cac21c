"""Linked zoom/pan between panels, and the group fit that keeps linked panels identical.

Every panel's scene x is the distance from its chest wall, and right-breast panels
have an x-inverted ViewBox (see :mod:`mammoview.gui.view_panel`).  So pyqtgraph's
plain ``setXLink``/``setYLink`` -- which copy the view range between side-by-side
boxes and line up stacked ones -- already mirror across the seam: zooming onto R CC's
chest wall shows L CC's chest wall, and panning R CC towards its chest wall pans
L CC towards its own.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping

from mammoview.gui.view_panel import ViewPanel
from mammoview.io.model import View


class LinkMode(enum.Enum):
    """Which panels zoom and pan together (values are the menu texts)."""

    PAIRS = "CC pair and MLO pair"
    CC = "CC pair only"
    MLO = "MLO pair only"
    ALL = "All four views"
    NONE = "None"


_GROUPS: dict[LinkMode, tuple[tuple[View, ...], ...]] = {
    LinkMode.PAIRS: ((View.RCC, View.LCC), (View.RMLO, View.LMLO)),
    LinkMode.CC: ((View.RCC, View.LCC),),
    LinkMode.MLO: ((View.RMLO, View.LMLO),),
    LinkMode.ALL: ((View.RCC, View.LCC, View.RMLO, View.LMLO),),
    LinkMode.NONE: (),
}


def link_groups(mode: LinkMode, visible: Iterable[View] | None = None) -> list[tuple[View, ...]]:
    """Groups of views that move together under ``mode``, restricted to ``visible`` ones.

    Views outside every group form groups of one, so callers can treat all alike.
    """
    shown = list(View) if visible is None else [v for v in View if v in set(visible)]
    groups: list[tuple[View, ...]] = []
    for group in _GROUPS[mode]:
        members = tuple(v for v in group if v in shown)
        if members:
            groups.append(members)
    grouped = {v for g in groups for v in g}
    groups.extend((v,) for v in shown if v not in grouped)
    return groups


def group_of(view: View, mode: LinkMode, visible: Iterable[View] | None = None) -> tuple[View, ...]:
    for group in link_groups(mode, visible):
        if view in group:
            return group
    return (view,)


def apply_links(panels: Mapping[View, ViewPanel], mode: LinkMode, visible: Iterable[View] | None = None) -> None:
    """(Re)link the ViewBoxes: the first view of each group is the master of the others.

    Hidden panels (a maximised view, a two-view layout) are left unlinked: pyqtgraph
    lines linked boxes up by their screen geometry, which a hidden box does not have.
    """
    for panel in panels.values():
        panel.view_box.setXLink(None)
        panel.view_box.setYLink(None)
    for group in link_groups(mode, visible):
        master = panels[group[0]].view_box
        for view in group[1:]:
            panels[view].view_box.setXLink(master)
            panels[view].view_box.setYLink(master)


def fit_groups(panels: Mapping[View, ViewPanel], mode: LinkMode, visible: Iterable[View] | None = None) -> None:
    """Fit each link group to the largest image in it, so linked panels share one scale."""
    for group in link_groups(mode, visible):
        sizes = [panels[v].content_size() for v in group]
        width = max((s[0] for s in sizes), default=0.0)
        height = max((s[1] for s in sizes), default=0.0)
        if width <= 0 or height <= 0:
            width, height = 1.0, 1.0
        for view in group:
            panels[view].fit_to(width, height)


def mark_group_unfitted(
    panels: Mapping[View, ViewPanel], view: View, mode: LinkMode, visible: Iterable[View] | None = None
) -> None:
    """A reader's pan/zoom on one panel moved its whole group: none of them is 'fitted' any more."""
    for member in group_of(view, mode, visible):
        panels[member].mark_unfitted()
