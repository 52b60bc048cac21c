"""The wheel's zoom stops short of the absurd: a free-spinning wheel or a touchpad flick sends a hundred notches at
once, each zooming by a quarter. Unbounded, 150 notches in left a view range 2e-11 pixels wide (its pixel size read
0, and the magnifier divided by it) and 300 notches out one of 1e27 (the magnifier asked numpy for a crop larger than
any array): an "unexpected error" dialog at every move of the mouse, and a view with nothing left to read."""

from __future__ import annotations

import time

from PySide6 import QtCore, QtGui, QtWidgets

from mammoview.gui.view_box import MAX_PIXEL_ZOOM, MIN_IMAGE_SHARE
from mammoview.io.model import View
from tests.gui.conftest import mouse

NONE = QtCore.Qt.MouseButton.NoButton


def spin(vp, notches: int) -> None:  # type: ignore[no-untyped-def]
    """``notches`` wheel notches over the middle of ``vp`` (positive: away from the reader, zooming in)."""
    local = QtCore.QPointF(vp.width() / 2, vp.height() / 2)
    glob = QtCore.QPointF(vp.mapToGlobal(local.toPoint()))
    for _ in range(abs(notches)):
        delta = QtCore.QPoint(0, 120 if notches > 0 else -120)
        event = QtGui.QWheelEvent(local, glob, QtCore.QPoint(0, 0), delta, NONE, QtCore.Qt.KeyboardModifier.NoModifier,
                                  QtCore.Qt.ScrollPhase.NoScrollPhase, False)  # fmt: skip
        QtWidgets.QApplication.sendEvent(vp, event)


def move_over(vp) -> None:  # type: ignore[no-untyped-def]
    for x in (0.4, 0.6):
        time.sleep(0.012)  # pyqtgraph drops moves closer together than its mouseRateLimit (100 Hz)
        mouse(vp, "move", (vp.width() * x, vp.height() / 2), NONE, NONE)


def test_the_wheel_zooms_in_and_out_only_so_far_and_the_magnifier_follows(main_window, load, synthetic_study, qtbot):
    w = main_window
    load(w, [synthetic_study])
    w.commands["magnifier"].trigger()
    panel = w.panels[View.LCC]
    vp = panel.graphics.viewport()
    fitted = panel.view_box.viewPixelSize()[1]
    spin(vp, 3)
    assert panel.view_box.viewPixelSize()[1] < 0.5 * fitted  # an ordinary zoom is as it was
    spin(vp, 150)
    move_over(vp)
    qtbot.wait(20)
    pixel = 1 / panel.view_box.viewPixelSize()[1]  # screen pixels per stored pixel
    assert MAX_PIXEL_ZOOM / 1.5 <= pixel <= MAX_PIXEL_ZOOM
    assert panel.loupe.isVisible()
    spin(vp, -300)
    move_over(vp)
    qtbot.wait(20)
    rows, cols = panel.image.shape
    shown = max(rows, cols * panel.aspect) / panel.view_box.viewPixelSize()[1]  # the image's longer side on screen
    side = min(panel.view_box.width(), panel.view_box.height())
    assert MIN_IMAGE_SHARE * side / 1.5 <= shown <= MIN_IMAGE_SHARE * side * 1.5
    assert panel.loupe.isVisible()
