"""Text drawn over a panel: the view label, patient/study lines, the scale bar, the image line, and the
empty-panel notice.

The labels sit in the panel's *outer* corners (away from the chest wall), where a
mammogram has background, so they rarely cover tissue.  They are plain QLabels
above the graphics view, transparent to the mouse, so they do not move with pan/zoom
and never end up inside a golden-image grab of the viewport.
"""

from __future__ import annotations

from PySide6 import QtCore, QtWidgets

from mammoview.gui.display_image import DisplayImage
from mammoview.gui.scale_bar import ScaleBar
from mammoview.io.model import View

_STYLE = "color: #f0f0f0; background: rgba(0, 0, 0, 110); padding: 2px 5px; border-radius: 3px;"
_MARGIN = 6
_UNLIMITED = 16777215  # QWIDGETSIZE_MAX


class PanelLabels:
    """The four text items of one panel and their placement."""

    def __init__(self, panel: QtWidgets.QWidget, view: View, outer_left: bool) -> None:
        self._panel = panel
        self._outer_left = outer_left
        self.view = view
        align = QtCore.Qt.AlignmentFlag.AlignLeft if outer_left else QtCore.Qt.AlignmentFlag.AlignRight
        self.title = self._label(f"<b>{view.label}</b>", align, point_size_factor=1.5)
        self.study = self._label("", align)
        self.info = self._label("", align, point_size_factor=0.9)
        self.empty = self._label("", QtCore.Qt.AlignmentFlag.AlignCenter, point_size_factor=1.3)
        self.empty.setStyleSheet("color: #8a8a8a; background: transparent;")
        self.scale = ScaleBar(panel)
        self._study_lines: list[str] = []
        self._title_extra = ""
        self._empty_note = ""
        self._info_text = ""

    def _label(self, text: str, align: QtCore.Qt.AlignmentFlag, point_size_factor: float = 1.0) -> QtWidgets.QLabel:
        label = QtWidgets.QLabel(text, self._panel)
        label.setAttribute(QtCore.Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        label.setTextFormat(QtCore.Qt.TextFormat.RichText)
        label.setAlignment(align | QtCore.Qt.AlignmentFlag.AlignVCenter)
        label.setStyleSheet(_STYLE)
        font = label.font()
        font.setPointSizeF(font.pointSizeF() * point_size_factor)
        label.setFont(font)
        return label

    # -- content --------------------------------------------------------------------------
    def set_title_extra(self, text: str) -> None:
        """Small text after the view label, e.g. "(1 of 2)" for a duplicated view (plain text: a file's own words, such
        as an unknown view modifier's Code Meaning, are shown as written, never as markup)."""
        self._title_extra = text
        extra = f" <small>{_escape(text)}</small>" if text else ""
        self.title.setText(f"<b>{self.view.label}</b>{extra}")
        self.place()

    def set_study_lines(self, lines: list[str]) -> None:
        self._study_lines = [line for line in lines if line]
        self.study.setText("<br>".join(_escape(line) for line in self._study_lines))
        self.place()

    def set_info(self, text: str) -> None:
        """The image line (window, zoom, file name), shortened in the middle of the file's name where the panel is
        narrower than it (see ``place``)."""
        if text != self._info_text:
            self._info_text = text
            self.place()

    def set_scale(self, px_per_mm: float | None, at_detector: bool = False) -> None:
        """The scale bar at ``px_per_mm`` logical pixels per mm on screen (None: none), at the detector plane with
        ``at_detector``."""
        before = self.scale.text()
        self.scale.set_scale(px_per_mm, at_detector)
        if self.scale.text() != before or self.scale.isVisible() != bool(self.scale.text()):
            self.place()
        elif self.scale.isVisible():
            self._place_scale(self._panel.width(), self.scale.y())

    def refresh_empty(self, display: DisplayImage | None) -> None:
        """Show "L MLO — no image" (or the note set) when the panel has nothing to show."""
        self.empty.setText("" if display is not None else f"{self.view.label} — {self._empty_note or 'no image'}")
        self.place()

    def set_empty_note(self, note: str, display: DisplayImage | None) -> None:
        """What an empty panel says after its view label, e.g. "no prior study" ("" = "no image")."""
        self._empty_note = note
        self.refresh_empty(display)

    def empty_text(self) -> str:
        return self.empty.text()

    # -- layout ---------------------------------------------------------------------------
    def place(self) -> None:
        """Position the labels in the outer corners (call on resize and text changes)."""
        w, h = self._panel.width(), self._panel.height()
        y = _MARGIN
        for label in (self.title, self.study):
            visible = bool(label.text())
            label.setVisible(visible)
            if visible:
                # never wider than the panel: a long title (a narrow window, a comparison layout, a volume's frame
                # note) wraps instead of being pushed past the panel's edge with its view label ("L CC" -> "CC")
                label.setMinimumSize(0, 0)
                label.setMaximumSize(_UNLIMITED, _UNLIMITED)
                label.setWordWrap(False)
                label.adjustSize()
                if label.width() > w - 2 * _MARGIN:
                    label.setWordWrap(True)
                    label.setFixedWidth(max(1, w - 2 * _MARGIN))
                    label.setFixedHeight(label.heightForWidth(label.width()))
                label.move(self._outer_x(label, w), y)
                label.raise_()
                y += label.height() + 3
        self.scale.setVisible(bool(self.scale.text()))
        if self.scale.isVisible():  # under the view label and study lines, in the same outer corner
            self._place_scale(w, y)
        self.info.setVisible(bool(self._info_text))
        if self.info.isVisible():
            self._fit_info(w - 2 * _MARGIN)
            self.info.move(self._outer_x(self.info, w), h - self.info.height() - _MARGIN)
            self.info.raise_()
        self.empty.setVisible(bool(self.empty.text()))
        if self.empty.isVisible():
            self.empty.adjustSize()
            self.empty.move((w - self.empty.width()) // 2, (h - self.empty.height()) // 2)
            self.empty.raise_()

    def _fit_info(self, room: int) -> None:
        """The image line whole where it fits in ``room`` pixels, else with the file name shortened in its middle (the
        window, the zoom and the name's end stay): a PACS export's UID file name ran the line past the panel's edge,
        into the neighbouring panel, whose own line then lost its window/level behind the midline."""
        text = self._info_text
        self.info.setText(_escape(text))
        self.info.adjustSize()
        if self.info.width() <= room:
            return
        metrics = self.info.fontMetrics()
        text_room = room - (self.info.width() - metrics.horizontalAdvance(text)) - 2  # less the padding
        head, sep, name = text.rpartition(" · ")
        name_room = text_room - metrics.horizontalAdvance(head + sep)
        mid = QtCore.Qt.TextElideMode.ElideMiddle
        if sep and name_room >= metrics.horizontalAdvance("…" + name[-8:]):
            text = head + sep + metrics.elidedText(name, mid, name_room)
        else:
            text = metrics.elidedText(text, QtCore.Qt.TextElideMode.ElideRight, max(0, text_room))
        self.info.setText(_escape(text))
        self.info.adjustSize()

    def _place_scale(self, panel_width: int, y: int) -> None:
        self.scale.move(self._outer_x(self.scale, panel_width), y)
        self.scale.raise_()

    def _outer_x(self, label: QtWidgets.QLabel, panel_width: int) -> int:
        return _MARGIN if self._outer_left else panel_width - label.width() - _MARGIN


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
