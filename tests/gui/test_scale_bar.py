"""The scale bar: a length in mm that is that long on screen, at any zoom, only from a known spacing."""

from __future__ import annotations

import re

import numpy as np
import pytest
from PySide6 import QtCore, QtGui

from mammoview.gui.scale_bar import MAX_BAR_PX, bar_length
from mammoview.io.model import View
from tests.gui.conftest import mouse, write_view


def screen_px_per_mm(panel, row_mm: float, col_mm: float) -> float:  # type: ignore[no-untyped-def]
    """Logical pixels per mm across the image on screen, measured over 100 stored columns."""
    a = panel.view_box.mapViewToDevice(panel.stored_to_scene(0.0, 100.0))
    b = panel.view_box.mapViewToDevice(panel.stored_to_scene(100.0, 100.0))
    return abs(b.x() - a.x()) / (100.0 * col_mm)


def painted_bar_px(panel) -> int:  # type: ignore[no-untyped-def]
    """Length of the longest run of the bar's light grey along the bar widget's middle row, as painted."""
    bar = panel.labels.scale
    image = bar.grab().toImage().convertToFormat(QtGui.QImage.Format.Format_Grayscale8)
    dpr = image.devicePixelRatio()
    row = [QtGui.QColor(image.pixel(x, image.height() // 2)).value() for x in range(image.width())]
    best = run = 0
    for v in row:
        run = run + 1 if v > 200 else 0
        best = max(best, run)
    return round(best / dpr)


def test_bar_lengths_are_round_and_fit():
    assert bar_length(19.6) == 5.0  # 0.05 mm pixels at 98 %: 5 mm is 98 px
    assert bar_length(3.9) == 20.0
    assert bar_length(1.0) == 100.0
    assert bar_length(0.05) is None  # a thumbnail-sized panel: no bar worth drawing
    assert bar_length(0.0) is None and bar_length(float("nan")) is None
    for px_per_mm in np.geomspace(0.2, 200.0, 40):
        mm = bar_length(float(px_per_mm))
        assert mm is None or mm * px_per_mm <= MAX_BAR_PX or mm == 0.5


@pytest.mark.parametrize("spacing", [(0.1, 0.1), (0.1, 0.05)])
def test_the_bar_is_as_long_as_it_says_at_every_zoom(main_window, load, tmp_path, qtbot, spacing):
    folder = tmp_path / "study"
    for view in ("RCC", "LCC", "RMLO", "LMLO"):
        write_view(folder, f"{view}.dcm", view, pixel_spacing=spacing)
    load(main_window, [folder])
    row_mm, col_mm = spacing
    for zoom in (1.0, 0.25, 4.0):  # fitted, then zoomed in twice as far on one panel
        panel = main_window.panels[View.LCC]
        if zoom != 1.0:
            panel.view_box.scaleBy((zoom, zoom))
            qtbot.wait(30)
        for panel in main_window.panels.values():
            bar = panel.labels.scale
            assert bar.isVisible() and bar.text().endswith(" mm"), panel.view
            mm = float(bar.text().split()[0])
            want = mm * screen_px_per_mm(panel, row_mm, col_mm)
            assert bar.bar_px == pytest.approx(want, rel=0.01), (panel.view, zoom)
            assert abs(painted_bar_px(panel) - want) <= 3, (panel.view, zoom)  # + half a tick at each end


def test_no_bar_without_a_known_spacing_and_the_switch_is_saved(main_window, load, tmp_path, qtbot):
    folder = tmp_path / "study"
    for view in ("RCC", "LCC", "RMLO", "LMLO"):
        write_view(folder, f"{view}.dcm", view, pixel_spacing=None)
    load(main_window, [folder])
    for panel in main_window.panels.values():  # the CAD would guess a spacing; the bar does not
        assert panel.image.info.spacing is None or panel.image.info.spacing.estimated
        assert not panel.labels.scale.isVisible() and panel.labels.scale.text() == ""
    main_window.set_pixel_spacing(0.1)  # Image > Pixel spacing: now it is known
    qtbot.waitUntil(lambda: all(p.labels.scale.isVisible() for p in main_window.panels.values()), timeout=20_000)
    main_window.commands["scale_bar"].trigger()
    assert not main_window.scale_bar
    assert not any(p.labels.scale.isVisible() for p in main_window.panels.values())
    assert main_window.settings.flag("view/scale_bar", True) is False
    main_window.commands["scale_bar"].trigger()
    assert all(p.labels.scale.isVisible() for p in main_window.panels.values())


def test_the_bar_sits_under_the_view_label_in_the_outer_corner(main_window, load, synthetic_study):
    load(main_window, [synthetic_study])
    for panel in main_window.panels.values():
        bar, title = panel.labels.scale, panel.labels.title
        assert bar.y() >= title.y() + title.height()
        if panel.labels.study.isVisible():
            assert bar.y() >= panel.labels.study.y() + panel.labels.study.height()
        inner_right = panel.view.laterality.value == "L"  # left breast: chest wall on the panel's left
        if inner_right:
            assert bar.x() + bar.width() >= panel.width() - 10
        else:
            assert bar.x() <= 10
        assert QtCore.QRect(bar.pos(), bar.size()).intersected(panel.labels.info.geometry()).isEmpty()


@pytest.mark.parametrize(
    ("tags", "plane"),
    [({"pixel_spacing": None, "imager_spacing": (0.1, 0.1)}, " at detector"), ({"pixel_spacing": (0.1, 0.1)}, "")],
    ids=["ImagerPixelSpacing", "PixelSpacing"],
)
def test_the_bar_and_the_cursor_say_a_detector_planes_mm_as_a_length_does(main_window, load, tmp_path, tags, plane):
    """Imager Pixel Spacing (0018,1164) without a magnification factor is at the detector (PS3.3 C.8.11.4): a length
    read "10.0 mm at detector", while the bar beside it said a plain "10 mm" and the cursor a plain "x 12.3 mm"; a
    calibrated Pixel Spacing (0028,0030) reads as before."""
    folder = tmp_path / "study"
    for view in ("RCC", "LCC", "RMLO", "LMLO"):
        write_view(folder, f"{view}.dcm", view, **tags)
    w = main_window
    load(w, [folder])
    panel = w.panels[View.LCC]
    assert panel.image.info.spacing.at_detector is bool(plane)
    bar = panel.labels.scale
    assert bar.isVisible() and bar.text() == f"{float(bar.text().split()[0]):g} mm{plane}"
    assert bar.bar_px == pytest.approx(float(bar.text().split()[0]) * screen_px_per_mm(panel, 0.1, 0.1), rel=0.01)
    p = panel.view_box.mapViewToDevice(panel.stored_to_scene(123.5, 45.5))
    mouse(panel.graphics.viewport(), "move", (p.x(), p.y()))
    text = w._cursor_label.text()
    assert re.search(rf"· x [\d.]+ mm, y [\d.]+ mm{plane}  \(px \d+, \d+\) ·", text), text
    m = w.cad.measure_tool.measure(panel, (0.0, 0.0), (100.0, 0.0))
    assert m is not None and w.cad.length(m).text == f"10.0 mm{plane}"  # the wording the bar and cursor follow
