"""The main window's status bar: a message longer than the room left of the permanent read-outs ends in "…" (its
full text in the tooltip and the log) instead of being cut off at the first read-out without a sign."""

from __future__ import annotations

import time

from PySide6 import QtCore, QtGui, QtWidgets

#: Where QStatusBar paints the message: this many pixels in from the bar's left (Qt's own offset).
MESSAGE_LEFT_PX = 6


class ElidingStatusBar(QtWidgets.QStatusBar):
    """``showMessage`` elides to the room there is, and again whenever that room changes (a resize, a read-out shown
    or hidden, the window shown); ``currentMessage`` is the full text."""

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self._full = ""
        self._until: float | None = None  # monotonic deadline of a temporary message
        self._shown = ""  # what this bar last painted for ``_full`` (another text came through Qt's own path)
        self.messageChanged.connect(self._cleared)

    def room(self) -> int:
        """Pixels the message may take: from where it is painted to the leftmost visible widget (a read-out, the CAD
        progress), less two spaces; Qt leaves 2 px there, and an elided message's "…" ran into that widget's text
        ("…ano…Reads not saved")."""
        kids = self.findChildren(QtWidgets.QWidget, options=QtCore.Qt.FindChildOption.FindDirectChildrenOnly)
        right = min((w.x() for w in kids if w.isVisible()), default=self.width())
        return max(40, right - MESSAGE_LEFT_PX - self.fontMetrics().horizontalAdvance("  "))

    def showMessage(self, text: str, timeout: int | None = 0) -> None:
        self._full = text
        ms = timeout or 0
        self._until = time.monotonic() + ms / 1000 if ms > 0 else None
        self._show(ms)

    def currentMessage(self) -> str:
        return self._full if super().currentMessage() else ""

    def shown_message(self) -> str:
        """The message as painted (elided)."""
        return super().currentMessage()

    def _elided(self) -> str:
        return self.fontMetrics().elidedText(self._full, QtCore.Qt.TextElideMode.ElideRight, self.room())

    def _show(self, timeout: int) -> None:
        shown = self._elided()
        self.setToolTip(self._full if shown != self._full else "")
        self._shown = shown
        super().showMessage(shown, timeout)

    def _cleared(self, text: str) -> None:
        """The message went (its timeout, ``clearMessage``): so does its full text."""
        if not text:
            self._full, self._until, self._shown = "", None, ""
            self.setToolTip("")
        elif text != self._shown:  # a status tip (QMainWindow calls the C++ showMessage): it is the message now
            self._full, self._until, self._shown = text, None, text
            self.setToolTip("")

    def resizeEvent(self, event: QtGui.QResizeEvent) -> None:
        super().resizeEvent(event)
        self._refit()

    def event(self, event: QtCore.QEvent) -> bool:
        handled = super().event(event)
        # a read-out shown, hidden or grown (the CAD progress, a label inserted, the cursor's text): the bar keeps its
        # size, its layout moves the widgets, and the message's room changes
        # (or shown again: a message given while the window was hidden was elided with none of them in sight)
        if event.type() in (QtCore.QEvent.Type.LayoutRequest, QtCore.QEvent.Type.Show):
            self._refit()
        return handled

    def _refit(self) -> None:
        """Elide the message again to the room there is now (its timeout's remaining time kept)."""
        if not (self._full and super().currentMessage()):
            return
        if self._elided() != super().currentMessage():
            left = 0 if self._until is None else max(1, round((self._until - time.monotonic()) * 1000))
            self._show(left)
