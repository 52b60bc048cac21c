"""A physical scale bar drawn over a panel: "10 mm" beside a bar that long at the current zoom.

The reader judges a lesion's size at a glance against it, as on a film's ruler (Weasis and
OHIF draw one too).  It is drawn only from a pixel spacing the file (or the reader's
``--pixel-spacing``) gives: a guessed spacing gives no bar, as a length measured on such an
image is given in pixels (a size is never a guess).  Scene units are stored *rows* in both
directions (:mod:`mammoview.gui.view_panel`), so the bar uses the row spacing.  A spacing at the
detector plane (Imager Pixel Spacing (0018,1164) not corrected for magnification, PS3.3 C.8.11.4;
a scanned film's) makes the bar say so, "10 mm at detector", as a length measured there does.
"""

from __future__ import annotations

from PySide6 import QtCore, QtGui, QtWidgets

#: Bar lengths offered, in mm: the longest that fits :data:`MAX_BAR_PX` is drawn.
NICE_MM = (0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0)
#: Longest bar, logical pixels.
MAX_BAR_PX = 110.0
#: Shortest bar worth drawing (a tiny panel): below it there is no bar.
MIN_BAR_PX = 12.0
#: After a millimetre value in the detector plane (:attr:`~mammoview.io.header_model.PixelSpacing.at_detector`):
#: the bar, the cursor read-out and a measured length say it alike (IHE Mammography Image: say which plane a size
#: is in).
AT_DETECTOR = " at detector"


def bar_length(px_per_mm: float) -> float | None:
    """The bar's length in mm at ``px_per_mm`` logical pixels per millimetre (None: no bar fits)."""
    if not px_per_mm > 0:
        return None
    fitting = [mm for mm in NICE_MM if mm * px_per_mm <= MAX_BAR_PX]
    mm = fitting[-1] if fitting else NICE_MM[0]
    return mm if mm * px_per_mm >= MIN_BAR_PX else None


def _mm_text(mm: float, at_detector: bool) -> str:
    return f"{mm:g} mm" + (AT_DETECTOR if at_detector else "")


class ScaleBar(QtWidgets.QLabel):
    """The bar and its length, painted on a transparent label (its text is the length, e.g. ``10 mm``, or
    ``10 mm at detector``)."""

    def __init__(self, parent: QtWidgets.QWidget) -> None:
        super().__init__("", parent)
        self.setAttribute(QtCore.Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.setObjectName("scaleBar")
        self._bar_px = 0.0
        self.hide()

    @property
    def bar_px(self) -> float:
        """The bar's length on screen, logical pixels (0 when none is shown)."""
        return self._bar_px if self.text() else 0.0

    def set_scale(self, px_per_mm: float | None, at_detector: bool = False) -> None:
        """Show the bar for ``px_per_mm`` logical pixels per mm (None: no known spacing, no bar), in mm at the
        detector plane with ``at_detector``."""
        mm = bar_length(px_per_mm) if px_per_mm is not None else None
        text = _mm_text(mm, at_detector) if mm is not None else ""
        bar_px = mm * px_per_mm if mm is not None and px_per_mm is not None else 0.0
        if text == self.text() and abs(bar_px - self._bar_px) < 0.25:
            return
        self._bar_px = bar_px
        self.setText(text)
        metrics = QtGui.QFontMetrics(self.font())
        self.setFixedSize(int(bar_px) + metrics.horizontalAdvance(text or " ") + 16, metrics.height() + 8)
        self.update()

    def paintEvent(self, event: QtGui.QPaintEvent) -> None:
        if not self.text():
            return
        p = QtGui.QPainter(self)
        p.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing, False)
        p.fillRect(self.rect(), QtGui.QColor(0, 0, 0, 110))
        h = self.height()
        x0, x1, y = 5.0, 5.0 + self._bar_px, h / 2.0
        for color, width in ((QtGui.QColor(0, 0, 0), 4.0), (QtGui.QColor("#f0f0f0"), 2.0)):  # a shadow, then it
            p.setPen(QtGui.QPen(color, width))
            p.drawLine(QtCore.QPointF(x0, y), QtCore.QPointF(x1, y))
            for x in (x0, x1):  # end ticks
                p.drawLine(QtCore.QPointF(x, y - 4.0), QtCore.QPointF(x, y + 4.0))
        p.setPen(QtGui.QColor("#f0f0f0"))
        text_rect = QtCore.QRectF(x1 + 6.0, 0.0, self.width() - x1 - 6.0, float(h))
        align = QtCore.Qt.AlignmentFlag.AlignLeft | QtCore.Qt.AlignmentFlag.AlignVCenter
        p.drawText(text_rect, int(align), self.text())
        p.end()
