"""The application icon, drawn as SVG here so the package needs no data files.

Two craniocaudal views facing each other across the seam -- the hanging protocol --
with a gold loupe ring, the CAD second reader's mark.  ``packaging/render_icon.py``
writes the same drawing to ``packaging/mammoview.svg`` and ``.png`` for installers.
"""

from __future__ import annotations

from PySide6 import QtCore, QtGui, QtSvg

ICON_SVG = """<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 256 256" width="256" height="256">
  <defs>
    <radialGradient id="right-breast" cx="1" cy="0.5" r="1">
      <stop offset="0" stop-color="#f2f2f2"/>
      <stop offset="0.55" stop-color="#b4b4b4"/>
      <stop offset="1" stop-color="#4c4c4c"/>
    </radialGradient>
    <radialGradient id="left-breast" cx="0" cy="0.5" r="1">
      <stop offset="0" stop-color="#f2f2f2"/>
      <stop offset="0.55" stop-color="#b4b4b4"/>
      <stop offset="1" stop-color="#4c4c4c"/>
    </radialGradient>
  </defs>
  <rect x="8" y="8" width="240" height="240" rx="44" fill="#141a24"/>
  <path d="M123 36 A 70 92 0 0 0 123 220 Z" fill="url(#right-breast)"/>
  <path d="M133 36 A 70 92 0 0 1 133 220 Z" fill="url(#left-breast)"/>
  <circle cx="170" cy="110" r="24" fill="none" stroke="#ffc400" stroke-width="9"/>
  <line x1="187" y1="127" x2="212" y2="152" stroke="#ffc400" stroke-width="11" stroke-linecap="round"/>
</svg>
"""


def render_icon(size: int) -> QtGui.QImage:
    """The icon as a ``size`` x ``size`` ARGB image."""
    renderer = QtSvg.QSvgRenderer(QtCore.QByteArray(ICON_SVG.encode()))
    image = QtGui.QImage(size, size, QtGui.QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(QtCore.Qt.GlobalColor.transparent)
    painter = QtGui.QPainter(image)
    painter.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing)
    renderer.render(painter)
    painter.end()
    return image


def app_icon() -> QtGui.QIcon:
    """The window/application icon at the usual sizes."""
    icon = QtGui.QIcon()
    for size in (16, 24, 32, 48, 64, 128, 256):
        icon.addPixmap(QtGui.QPixmap.fromImage(render_icon(size)))
    return icon
