"""The hanging protocol on screen: R CC | L CC above R MLO | L MLO, chest walls meeting at the seam.

Geometry is computed by hand instead of a QGridLayout so that the two panels of a
row are exactly the same size (a grid hands the odd pixel to one side, and linked
panels of different sizes cannot both stay pinned to their chest walls); the odd
pixel goes into the seam.
"""

from __future__ import annotations

import enum

from PySide6 import QtCore, QtWidgets

from mammoview.gui.view_panel import ViewPanel
from mammoview.io.model import View

#: Gap between panels in logical pixels.
SEAM = 4


class Layout(enum.Enum):
    """Panel arrangements (values are the menu texts)."""

    FOUR = "Four views (CC above MLO)"
    CC = "CC pair"
    MLO = "MLO pair"
    FOUR_MLO_TOP = "Four views (MLO above CC)"  # some sites hang the MLO pair on top
    PRIOR_CC = "CC pair over the prior's CC pair"  # screening is read against the previous exam
    PRIOR_MLO = "MLO pair over the prior's MLO pair"

    @property
    def four_up(self) -> bool:
        return len(_ROWS[self]) == 2

    @property
    def compares_prior(self) -> bool:
        return self in _PRIOR_ROW


_ROWS: dict[Layout, tuple[tuple[View, View], ...]] = {
    Layout.FOUR: ((View.RCC, View.LCC), (View.RMLO, View.LMLO)),
    Layout.CC: ((View.RCC, View.LCC),),
    Layout.MLO: ((View.RMLO, View.LMLO),),
    Layout.FOUR_MLO_TOP: ((View.RMLO, View.LMLO), (View.RCC, View.LCC)),
    Layout.PRIOR_CC: ((View.RCC, View.LCC),),
    Layout.PRIOR_MLO: ((View.RMLO, View.LMLO),),
}
#: The prior study's row, hung below the current study's pair of the same views.
_PRIOR_ROW: dict[Layout, tuple[View, View]] = {
    Layout.PRIOR_CC: (View.RCC, View.LCC),
    Layout.PRIOR_MLO: (View.RMLO, View.LMLO),
}


class HangingLayout(QtWidgets.QWidget):
    """Owns the four :class:`ViewPanel` objects of the study read and the four of its prior, and arranges the
    visible ones (the prior's only in the comparison layouts, as the bottom row)."""

    arrangementChanged = QtCore.Signal()

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAutoFillBackground(True)
        pal = self.palette()
        pal.setColor(self.backgroundRole(), QtCore.Qt.GlobalColor.black)
        self.setPalette(pal)
        self.panels: dict[View, ViewPanel] = {v: ViewPanel(v, self) for v in View}
        self.prior_panels: dict[View, ViewPanel] = {v: ViewPanel(v, self) for v in View}
        self.layout_mode = Layout.FOUR
        self.maximized: View | None = None
        self._arrange()

    def set_layout_mode(self, mode: Layout) -> None:
        self.layout_mode = mode
        self.maximized = None
        self._arrange()

    def toggle_maximized(self, view: View) -> None:
        """Double-click: show ``view`` alone, or go back to the layout."""
        self.maximized = None if self.maximized is view else view
        self._arrange()

    def visible_views(self) -> list[View]:
        if self.maximized is not None:
            return [self.maximized]
        return [v for row in _ROWS[self.layout_mode] for v in row]

    def rows(self) -> tuple[tuple[View, ...], ...]:
        """The rows of the study read (the prior's row, when shown, is :meth:`prior_views`)."""
        if self.maximized is not None:
            return ((self.maximized,),)
        return _ROWS[self.layout_mode]

    def prior_views(self) -> list[View]:
        """The prior study's views on screen (none outside the comparison layouts or with a view maximised)."""
        if self.maximized is not None:
            return []
        return list(_PRIOR_ROW.get(self.layout_mode, ()))

    def resizeEvent(self, event: object) -> None:
        self._place()

    def _arrange(self) -> None:
        shown, prior = set(self.visible_views()), set(self.prior_views())
        staying = [p for v, p in self.panels.items() if v in shown] + [p for v, p in self.prior_panels.items()
                                                                       if v in prior]  # fmt: skip
        for panel in staying:  # shown first, so that the focus has a panel to go to
            panel.setVisible(True)
        focus = QtWidgets.QApplication.focusWidget()
        if focus is not None and self.isAncestorOf(focus) and not any(p.isAncestorOf(focus) for p in staying):
            # the focused panel is about to be hidden: the keys move to a shown one before Qt passes them to the
            # next widget (a dock, the worklist, the findings list, which would pick its first row)
            self.panels[self.visible_views()[0]].graphics.setFocus(QtCore.Qt.FocusReason.OtherFocusReason)
        for view, panel in self.panels.items():
            panel.setVisible(view in shown)
        for view, panel in self.prior_panels.items():
            panel.setVisible(view in prior)
        self._place()
        self.arrangementChanged.emit()

    def _place(self) -> None:
        rows = [[self.panels[v] for v in row] for row in self.rows()]
        if prior := self.prior_views():
            rows.append([self.prior_panels[v] for v in prior])
        w, h = self.width(), self.height()
        row_h = max((h - SEAM * (len(rows) - 1)) // len(rows), 1)
        for r, row in enumerate(rows):
            col_w = max((w - SEAM * (len(row) - 1)) // len(row), 1)
            y = r * (row_h + SEAM)
            for c, panel in enumerate(row):
                # Pin the last column to the right edge; the odd pixel falls in the seam.
                x = w - col_w if (c == len(row) - 1 and c > 0) else c * (col_w + SEAM)
                panel.setGeometry(x, y, col_w, row_h)
