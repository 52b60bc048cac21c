"""Fit to breast: films with wide margins open zoomed to the tissue, still mirrored and justified to the chest wall."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6 import QtCore

from mammoview.gui.breast_fit import otsu_threshold, tissue_box
from mammoview.io.model import View
from tests.synthetic import mammo_dataset, synthetic_breast, write_dataset

#: view -> (laterality, projection, stored chest-wall side)
FILM = {"RCC": ("R", "CC", "right"), "LCC": ("L", "CC", "left"), "RMLO": ("R", "MLO", "right"),
        "LMLO": ("L", "MLO", "left")}  # fmt: skip


@pytest.fixture()
def film_study(tmp_path):  # type: ignore[no-untyped-def]
    """Four 'scanned films': a 300x180 breast against the chest-wall edge of a 640x480 black film with a label."""
    folder = tmp_path / "film"
    for i, (view, (lat, proj, side)) in enumerate(FILM.items()):
        breast = synthetic_breast(300, 180, chest_wall=side, seed=i)
        film = np.zeros((640, 480), np.uint16)
        x0 = 0 if side == "left" else 480 - 180
        film[200 + 10 * i : 500 + 10 * i, x0 : x0 + 180] = breast
        film[20:50, 200:280] = 4000  # a film label: bright, but not the breast
        ds = mammo_dataset(film, laterality=lat, view=proj, study_uid="1.2.3.4.5")
        write_dataset(ds, folder / f"{view}.dcm")
    return folder


def wall_px(panel) -> float:  # type: ignore[no-untyped-def]
    x = panel.view_box.mapViewToDevice(QtCore.QPointF(0.0, 0.0)).x()
    return panel.graphics.viewport().width() - x if panel.chest_wall_right else x


def test_otsu_separates_two_levels():
    values = np.concatenate([np.full(1000, 0.1), np.full(500, 0.7)])
    assert 0.1 <= otsu_threshold(values) < 0.7


def test_tissue_box_ignores_the_film_label(main_window, load, film_study):
    load(main_window, [film_study])
    x0, y0, x1, y1 = tissue_box(main_window.panels[View.LCC].display)
    assert x0 == pytest.approx(0, abs=8) and x1 == pytest.approx(180 * 0.8, abs=16)  # the half-ellipse's reach
    assert y0 == pytest.approx(210 + 0.08 * 300, abs=16) and y1 == pytest.approx(510 - 0.08 * 300, abs=16)


def test_films_open_fitted_to_the_breast_mirrored_and_at_the_chest_wall(main_window, load, film_study, qtbot):
    w = main_window
    assert w.fit_breast_default
    load(w, [film_study])
    rcc, lcc = w.panels[View.RCC], w.panels[View.LCC]
    breast_scale = rcc.device_scale()
    flat = [v for pair in lcc.view_box.viewRange() for v in pair]
    assert [v for pair in rcc.view_box.viewRange() for v in pair] == pytest.approx(flat, abs=1e-6)  # one range
    assert wall_px(rcc) == pytest.approx(0, abs=1.5) and wall_px(lcc) == pytest.approx(0, abs=1.5)
    for panel in (rcc, lcc):  # the whole breast stays in view
        x0, y0, x1, y1 = tissue_box(panel.display)
        for x, y in ((x0, y0), (x1, y1)):
            p = panel.view_box.mapViewToDevice(panel.stored_to_scene(x, y))
            assert -2 <= p.x() <= panel.graphics.viewport().width() + 2
            assert -2 <= p.y() <= panel.graphics.viewport().height() + 2
    w.commands["fit"].trigger()  # F: the whole film
    assert rcc.device_scale() < breast_scale / 1.25
    w.commands["fit_breast"].trigger()  # B
    assert rcc.device_scale() == pytest.approx(breast_scale, rel=1e-3)
    w.resize(w.width() - 60, w.height())  # a resize keeps the breast fit
    qtbot.wait(30)
    assert rcc.fitted and wall_px(rcc) == pytest.approx(0, abs=1.5)
    w.commands["fit_breast_default"].trigger()  # off: studies open with the whole image
    assert not w.fit_breast_default and rcc.device_scale() < breast_scale / 1.2


def test_images_the_breast_fills_keep_the_whole_image_fit(main_window, load, synthetic_study):
    load(main_window, [synthetic_study])
    rcc = main_window.panels[View.RCC]
    scale = rcc.device_scale()
    main_window.commands["fit"].trigger()
    assert rcc.device_scale() == pytest.approx(scale, rel=1e-3)


def test_a_header_window_that_whites_out_the_breast_does_not_move_the_breast_fit(demo_dir, tmp_path):
    """The CAD reads the full range of the values, not the header's display window (278295c); the breast box of
    Fit to breast (B, and the fit a study opens with) read the windowed picture: with a window that whites out the
    breast the film edges joined it and the box was the whole image height, so the study opened (and B fitted)
    smaller than the same films without the window, e.g. against the prior in Alt+5 (19 % against 25 %)."""
    import pydicom

    from mammoview.gui.display_image import prepare_display
    from mammoview.io.reader import read_image

    ds = pydicom.dcmread(demo_dir / "1-282.dcm")
    ds.WindowCenter, ds.WindowWidth = "2000", "1000"  # the breast (~45000) all white
    ds.save_as(tmp_path / "windowed.dcm")
    plain = tissue_box(prepare_display(read_image(demo_dir / "1-282.dcm")))
    windowed = tissue_box(prepare_display(read_image(tmp_path / "windowed.dcm")))
    assert plain is not None and windowed == pytest.approx(plain, abs=0.02 * 2344)
