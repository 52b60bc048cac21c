"""A wheel zoom in the middle of a measure drag: the line's start stays on the image point the reader pressed on (it
moved with the zoom: the start was mapped from the press's screen position again at every move, through the zoomed
view), the end follows the cursor."""

from __future__ import annotations

import time

import pytest
from PySide6 import QtCore, QtGui, QtWidgets

from mammoview.io.model import View
from tests.gui.conftest import mouse

LEFT = QtCore.Qt.MouseButton.LeftButton
NONE = QtCore.Qt.MouseButton.NoButton


def device_point(panel, x: float, y: float) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    p = panel.view_box.mapViewToDevice(panel.stored_to_scene(x, y))
    return (p.x(), p.y())


def move(vp, panel, stored: tuple[float, float]) -> None:  # type: ignore[no-untyped-def]
    time.sleep(0.012)  # pyqtgraph drops moves closer together than its mouseRateLimit (100 Hz)
    mouse(vp, "move", device_point(panel, *stored), NONE, LEFT)


def wheel_zoom_in(vp, pos: tuple[float, float]) -> None:  # type: ignore[no-untyped-def]
    local = QtCore.QPointF(*pos)
    glob = QtCore.QPointF(vp.mapToGlobal(local.toPoint()))
    event = QtGui.QWheelEvent(local, glob, QtCore.QPoint(0, 0), QtCore.QPoint(0, 240), LEFT,
                              QtCore.Qt.KeyboardModifier.NoModifier, QtCore.Qt.ScrollPhase.NoScrollPhase,
                              False)  # fmt: skip
    QtWidgets.QApplication.sendEvent(vp, event)


def test_a_wheel_zoom_during_a_measure_drag_keeps_the_start_on_its_image_point(main_window, load, synthetic_study):
    w = main_window
    load(w, [synthetic_study])
    w.commands["measure"].trigger()
    panel = w.panels[View.LCC]
    vp = panel.graphics.viewport()
    before = panel.view_box.viewRange()
    mouse(vp, "press", device_point(panel, 60, 150), LEFT)
    for p in ((70, 160), (85, 170), (100, 180)):
        move(vp, panel, p)
    wheel_zoom_in(vp, device_point(panel, 100, 180))
    assert panel.view_box.viewRange() != before  # it zoomed (about the cursor)
    for p in ((110, 190), (125, 200), (140, 210)):
        move(vp, panel, p)
    rubber = [i for i in w.cad.measure_tool._rubber[View.LCC] if hasattr(i, "textItem")]
    assert [(i.pos().x(), i.pos().y()) for i in rubber] == [
        pytest.approx((140, 210), abs=1.5)
    ]  # the end follows the cursor
    mouse(vp, "release", device_point(panel, 140, 210), LEFT, NONE)
    (m,) = w.cad.reader.measurements
    assert (m.x0, m.y0) == pytest.approx((60, 150), abs=1.5)  # was where the press's screen point lay after the zoom
    assert (m.x1, m.y1) == pytest.approx((140, 210), abs=1.5)
    assert w.cad.measure_tool.length(m).text == "10.0 mm"  # 80 x 60 px at 0.1 mm
