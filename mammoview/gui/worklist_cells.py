"""How the worklist's cells are drawn when the table is narrower than their text: which end of a cell gives way."""

from __future__ import annotations

from PySide6 import QtCore, QtGui, QtWidgets


class ElideEnd(QtWidgets.QStyledItemDelegate):
    """Elides a cell's text at its end: a read's status keeps what comes first (read or not, the assessment)."""

    def initStyleOption(
        self, option: QtWidgets.QStyleOptionViewItem, index: QtCore.QModelIndex | QtCore.QPersistentModelIndex
    ) -> None:  # Qt's virtual
        super().initStyleOption(option, index)
        option.textElideMode = QtCore.Qt.TextElideMode.ElideRight


def elide_keeping_date(text: str, metrics: QtGui.QFontMetrics, width: int) -> str:
    """The Study column's ``name | date`` elided to ``width`` px by its name: the date stays whole (eliding the
    middle had left "DEMO PA…6-10-04", the year gone), then goes itself, from its end, when even it does not fit."""
    name, sep, date = text.rpartition(" | ")
    if metrics.horizontalAdvance(text) <= width:
        return text
    if not sep:
        return metrics.elidedText(text, QtCore.Qt.TextElideMode.ElideRight, width)
    room = width - metrics.horizontalAdvance(sep + date)
    short = metrics.elidedText(name, QtCore.Qt.TextElideMode.ElideRight, room) if room > 0 else ""
    if not short or short == "…":
        return metrics.elidedText(date, QtCore.Qt.TextElideMode.ElideRight, width)
    return short + sep + date


class ElideName(QtWidgets.QStyledItemDelegate):
    """The Study column: elided by :func:`elide_keeping_date` in the cell's text width (the style's margins)."""

    def initStyleOption(
        self, option: QtWidgets.QStyleOptionViewItem, index: QtCore.QModelIndex | QtCore.QPersistentModelIndex
    ) -> None:  # Qt's virtual
        super().initStyleOption(option, index)
        widget = option.widget
        style = widget.style() if widget is not None else QtWidgets.QApplication.style()
        margin = style.pixelMetric(QtWidgets.QStyle.PixelMetric.PM_FocusFrameHMargin, None, widget) + 1
        text = option.text
        option.text = elide_keeping_date(text, option.fontMetrics, option.rect.width() - 2 * margin)
        option.textElideMode = QtCore.Qt.TextElideMode.ElideRight
