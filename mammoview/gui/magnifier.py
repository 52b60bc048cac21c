"""The magnifier glass: a round loupe following the cursor with a closer look at the pixels beneath.

The loupe renders from the pyramid level that has at least one pixel per loupe
pixel (level 0 -- the stored pixels themselves -- once the loupe is past 1:1),
not from the screen, so it shows detail the panel's downsampled view cannot.
Only the small crop under the loupe goes through the LUT, so moving it is cheap.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from PySide6 import QtCore, QtGui, QtWidgets

from mammoview.gui.pyramid import PixelPyramid

#: Magnification of the loupe relative to the panel's current zoom.
LOUPE_ZOOM = 2.5
#: Loupe diameter in logical pixels.
LOUPE_SIZE = 260


def loupe_crop(
    pyramid: PixelPyramid,
    lut_offset: int,
    lut: npt.NDArray[np.uint8],
    center: tuple[float, float],
    device_scale: float,
    size_px: int,
    flips: tuple[bool, bool],
    aspect: float = 1.0,
) -> tuple[QtGui.QImage, QtCore.QRectF]:
    """The display-value crop around ``center`` (stored x, y) and the rect of it to draw.

    ``device_scale`` is the loupe's device pixels per stored pixel (row); ``aspect`` the width of a
    stored column in rows (non-square pixels: the panel's ``aspect``).  Returns a
    Grayscale8 image of the crop, already flipped like the panel (``flips`` =
    horizontal, vertical), and the source rectangle in that image's pixels which
    fills the loupe exactly (sub-pixel, so the loupe does not jitter).
    """
    level = pyramid.level_for_scale(device_scale * max(1.0, aspect))
    arr = pyramid.levels[level]
    rows, cols = pyramid.full_shape
    sy, sx = arr.shape[0] / rows, arr.shape[1] / cols  # level pixels per stored pixel
    half = size_px / device_scale / 2.0  # stored rows from centre to loupe edge
    cx, cy = center[0] * sx, center[1] * sy
    hx, hy = half / aspect * sx, half * sy
    x0, x1 = int(np.floor(cx - hx)) - 1, int(np.ceil(cx + hx)) + 1
    y0, y1 = int(np.floor(cy - hy)) - 1, int(np.ceil(cy + hy)) + 1
    # Pad outside the image with the darkest display value instead of clamping the view.
    crop = np.zeros((y1 - y0, x1 - x0), dtype=np.uint8)
    ix0, ix1 = max(x0, 0), min(x1, arr.shape[1])
    iy0, iy1 = max(y0, 0), min(y1, arr.shape[0])
    if ix1 > ix0 and iy1 > iy0:
        idx = arr[iy0:iy1, ix0:ix1].astype(np.int64) + (pyramid.value_offset - lut_offset)
        np.clip(idx, 0, len(lut) - 1, out=idx)
        crop[iy0 - y0 : iy1 - y0, ix0 - x0 : ix1 - x0] = lut[idx]
    src = QtCore.QRectF(cx - hx - x0, cy - hy - y0, 2 * hx, 2 * hy)
    if flips[0]:
        crop = crop[:, ::-1]
        src.moveLeft(crop.shape[1] - src.right())
    if flips[1]:
        crop = crop[::-1, :]
        src.moveTop(crop.shape[0] - src.bottom())
    crop = np.ascontiguousarray(crop)
    qimg = QtGui.QImage(crop.data, crop.shape[1], crop.shape[0], crop.strides[0], QtGui.QImage.Format.Format_Grayscale8)
    return qimg.copy(), src  # copy: the QImage must not outlive the numpy buffer


class Loupe(QtWidgets.QWidget):
    """A round magnifier drawn over a panel; transparent to the mouse so the panel keeps tracking."""

    def __init__(self, parent: QtWidgets.QWidget) -> None:
        super().__init__(parent)
        self.setAttribute(QtCore.Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.setAttribute(QtCore.Qt.WidgetAttribute.WA_NoSystemBackground)
        self.resize(LOUPE_SIZE, LOUPE_SIZE)
        self._image: QtGui.QImage | None = None
        self._source = QtCore.QRectF()
        self.note = ""  # said in the loupe, e.g. that it magnifies a preview's pixels, not the file's
        self.hide()

    def show_at(self, center: QtCore.QPointF, image: QtGui.QImage, source: QtCore.QRectF, note: str = "") -> None:
        """Show ``source`` of ``image`` centred on ``center`` (parent coordinates), ``note`` written at its foot."""
        self._image, self._source, self.note = image, source, note
        self.move(round(center.x() - self.width() / 2), round(center.y() - self.height() / 2))
        self.show()
        self.raise_()
        self.update()

    def paintEvent(self, event: QtGui.QPaintEvent) -> None:
        if self._image is None:
            return
        p = QtGui.QPainter(self)
        p.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing)
        p.setRenderHint(QtGui.QPainter.RenderHint.SmoothPixmapTransform)
        rect = QtCore.QRectF(self.rect()).adjusted(2, 2, -2, -2)
        path = QtGui.QPainterPath()
        path.addEllipse(rect)
        p.setClipPath(path)
        p.drawImage(rect, self._image, self._source)
        p.setClipping(False)
        c = rect.center()
        p.setPen(QtGui.QPen(QtGui.QColor(255, 200, 0, 160), 1))
        p.drawLine(QtCore.QPointF(c.x() - 8, c.y()), QtCore.QPointF(c.x() + 8, c.y()))
        p.drawLine(QtCore.QPointF(c.x(), c.y() - 8), QtCore.QPointF(c.x(), c.y() + 8))
        p.setPen(QtGui.QPen(QtGui.QColor(255, 200, 0), 2))
        p.drawEllipse(rect)
        if self.note:
            band = QtCore.QRectF(rect.left() + rect.width() * 0.2, rect.bottom() - 38, rect.width() * 0.6, 20)
            p.fillRect(band, QtGui.QColor(0, 0, 0, 190))
            p.setPen(QtGui.QColor(255, 200, 0))
            p.drawText(band, QtCore.Qt.AlignmentFlag.AlignCenter, self.note)
        p.end()
