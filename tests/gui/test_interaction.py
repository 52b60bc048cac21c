"""Window/level, linked zoom/pan (mirrored), maximise, 1:1, magnifier and the status bar, driven like a reader would."""

from __future__ import annotations

import re

import numpy as np
import pytest
from PySide6 import QtCore

from mammoview.gui.linking import LinkMode
from mammoview.gui.window_level import Preset
from mammoview.io.model import View
from tests.gui.conftest import drag, grab_gray, mouse, write_view
from tests.gui.test_worklist import batch

LEFT = QtCore.Qt.MouseButton.LeftButton
RIGHT = QtCore.Qt.MouseButton.RightButton


def centre(panel) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    vp = panel.graphics.viewport()
    return (vp.width() / 2, vp.height() / 2)


def flat(ranges) -> list[float]:  # type: ignore[no-untyped-def]
    return [v for pair in ranges for v in pair]


def inner(panel, fraction: float = 0.8) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    """A point ``fraction`` of the way from the outer edge to the chest wall, mid-height (on tissue)."""
    vp = panel.graphics.viewport()
    x = vp.width() * fraction if panel.chest_wall_right else vp.width() * (1 - fraction)
    return (x, vp.height() / 2)


def wall_px(panel) -> float:  # type: ignore[no-untyped-def]
    """Viewport x of the chest-wall line (scene x = 0), measured from the panel's inner edge."""
    x = panel.view_box.mapViewToDevice(QtCore.QPointF(0.0, 0.0)).x()
    width = panel.graphics.viewport().width()
    return width - x if panel.chest_wall_right else x


@pytest.fixture()
def study(main_window, load, synthetic_study):  # type: ignore[no-untyped-def]
    load(main_window, [synthetic_study])
    return main_window


def test_right_drag_changes_window_level_and_rendered_pixels(study, qtbot):
    rcc, lcc = study.panels[View.RCC], study.panels[View.LCC]
    before, before_l = grab_gray(rcc), grab_gray(lcc)
    voi_before = rcc.window_state.voi
    vp = rcc.graphics.viewport()
    drag(vp, inner(rcc), (inner(rcc)[0] + 80, inner(rcc)[1] + 60), RIGHT)  # wider, higher level
    assert rcc.window_state.voi.width > voi_before.width
    assert rcc.window_state.voi.center > voi_before.center
    after = grab_gray(rcc)
    tissue = before > 40
    assert np.abs(after[tissue].astype(int) - before[tissue]).mean() > 5
    # The view range did not move: right drag is window/level, not zoom.
    assert rcc.fitted
    # Synced by default: the partner changed too.
    assert not np.array_equal(grab_gray(lcc), before_l)


def test_presets_invert_and_reset(study):
    rcc = study.panels[View.RCC]
    default = grab_gray(rcc).astype(int)
    study.commands["preset_dense"].trigger()
    dense = rcc.window_state
    assert dense.name == Preset.DENSE.value
    assert dense.voi.center > rcc.display.stats.default_voi.center  # MONOCHROME2: dense = bright values
    assert not np.array_equal(grab_gray(rcc), default)
    study.commands["reset_image"].trigger()
    study.commands["invert"].trigger()
    inverted = grab_gray(rcc).astype(int)
    tissue = default > 60
    assert np.abs((255 - default[tissue]) - inverted[tissue]).mean() < 3
    study.commands["reset_image"].trigger()
    assert np.abs(grab_gray(rcc).astype(int) - default).mean() < 0.5


def test_linked_zoom_moves_the_partner_and_not_the_other_pair(study, qtbot):
    rcc, lcc, rmlo = study.panels[View.RCC], study.panels[View.LCC], study.panels[View.RMLO]
    mlo_before = rmlo.view_box.viewRange()
    rcc.view_box.scaleBy((0.5, 0.5), center=QtCore.QPointF(0.0, 250.0))
    qtbot.wait(10)
    assert flat(lcc.view_box.viewRange()) == pytest.approx(flat(rcc.view_box.viewRange()), abs=1e-6)
    assert lcc.device_scale() == pytest.approx(rcc.device_scale(), rel=1e-6)
    assert flat(rmlo.view_box.viewRange()) == pytest.approx(flat(mlo_before))
    # Zoomed on R CC's chest wall -> L CC shows its chest wall, on the mirrored side.
    assert wall_px(rcc) == pytest.approx(wall_px(lcc), abs=0.5)


def test_pan_towards_the_chest_wall_is_mirrored_in_the_partner(study, qtbot):
    rcc, lcc = study.panels[View.RCC], study.panels[View.LCC]
    rcc.view_box.scaleBy((0.5, 0.5), center=QtCore.QPointF(0.0, 250.0))
    start_r, start_l = wall_px(rcc), wall_px(lcc)
    vp = rcc.graphics.viewport()
    x, y = centre(rcc)
    drag(vp, (x, y), (x - 60, y), LEFT)  # drag R CC's content left: away from its chest wall (right)
    qtbot.wait(10)
    moved_r, moved_l = wall_px(rcc) - start_r, wall_px(lcc) - start_l
    assert moved_r == pytest.approx(60, abs=2)  # chest wall line moved 60 px in from the inner edge
    assert moved_l == pytest.approx(moved_r, abs=0.5)  # ...and so did L CC's, towards the seam side
    assert not rcc.fitted and not lcc.fitted


def test_link_mode_none_and_all(study, qtbot):
    rcc, lcc, lmlo = study.panels[View.RCC], study.panels[View.LCC], study.panels[View.LMLO]
    study.commands["link_none"].trigger()
    assert study.link_mode is LinkMode.NONE
    before = lcc.view_box.viewRange()
    rcc.view_box.scaleBy((0.5, 0.5))
    assert flat(lcc.view_box.viewRange()) == pytest.approx(flat(before))
    study.commands["link_all"].trigger()  # relinks and refits
    rcc.view_box.scaleBy((0.5, 0.5), center=QtCore.QPointF(0.0, 250.0))
    qtbot.wait(10)
    assert lmlo.device_scale() == pytest.approx(rcc.device_scale(), rel=1e-6)
    assert wall_px(lmlo) == pytest.approx(wall_px(rcc), abs=0.5)


def test_double_click_maximises_and_restores(study, qtbot):
    lcc = study.panels[View.LCC]
    vp = lcc.graphics.viewport()
    mouse(vp, "press", centre(lcc), LEFT)
    mouse(vp, "release", centre(lcc), LEFT, QtCore.Qt.MouseButton.NoButton)
    mouse(vp, "double", centre(lcc), LEFT)
    mouse(vp, "release", centre(lcc), LEFT, QtCore.Qt.MouseButton.NoButton)
    qtbot.waitUntil(lambda: study.hanging.maximized is View.LCC, timeout=2000)
    assert [v for v, p in study.panels.items() if p.isVisible()] == [View.LCC]
    assert lcc.width() > 0.9 * study.hanging.width()
    left, _ = _edge_share(grab_gray(lcc))
    assert left > 0.3  # still justified to its chest wall
    study.commands["maximize"].trigger()
    assert study.hanging.maximized is None
    assert all(p.isVisible() for p in study.panels.values())


def test_the_next_study_goes_up_with_all_its_views_not_the_one_maximised(main_window, load, qtbot, tmp_path):
    """R CC maximised (Z, a double-click) to look closer, then PgDown: the next woman's study went up as her R CC
    alone, her other views hidden (or one empty panel, "R CC \N{EM DASH} no image", where she has none): a first
    read could be done without seeing them. A view maximised is a look at this study's image, not a layout."""
    w = main_window
    load(w, [batch(tmp_path / "batch")])
    w.commands["maximize"].trigger()
    assert w.hanging.visible_views() == [View.RCC]
    with qtbot.waitSignal(w.studyShown, timeout=20_000):
        w.commands["next_study"].trigger()
    assert w.hanging.maximized is None
    # her views: the batch's exams are of CC views alone, which open at their pair
    assert w.hanging.visible_views() == [View.RCC, View.LCC]
    assert all(w.panels[v].isVisible() for v in (View.RCC, View.LCC))


def test_after_a_layout_change_the_keys_act_on_a_view_on_screen(study, qtbot):
    """R MLO clicked, then Alt+2 (CC pair): the active view stayed the hidden R MLO, no panel on screen had the
    blue frame, and Z showed R MLO alone (a view not in the layout read) while 1 zoomed, N and Ctrl+I worked on the
    hidden panel."""
    rmlo, rcc = study.panels[View.RMLO], study.panels[View.RCC]
    mouse(rmlo.graphics.viewport(), "press", centre(rmlo), LEFT)
    mouse(rmlo.graphics.viewport(), "release", centre(rmlo), LEFT, QtCore.Qt.MouseButton.NoButton)
    assert study.active_view is View.RMLO
    study.commands["layout_cc"].trigger()
    qtbot.wait(10)
    assert study.active_panel() is rcc  # the shown view of its side, framed
    assert [v for v, p in study.panels.items() if p.palette().window().color().name() == "#3d7edb"] == [View.RCC]
    study.commands["maximize"].trigger()
    assert study.hanging.visible_views() == [View.RCC]
    study.commands["maximize"].trigger()
    assert study.hanging.visible_views() == [View.RCC, View.LCC]
    study.commands["one_to_one"].trigger()
    assert rcc.device_scale() == pytest.approx(1.0, rel=1e-6)


def _edge_share(gray: np.ndarray) -> tuple[float, float]:
    return float((gray[:, :3] > 40).any(axis=1).mean()), float((gray[:, -3:] > 40).any(axis=1).mean())


def test_one_to_one_shows_stored_pixels(study):
    rcc = study.panels[View.RCC]
    study.commands["one_to_one"].trigger()
    assert rcc.device_scale() == pytest.approx(1.0, rel=1e-6)
    assert study.panels[View.LCC].device_scale() == pytest.approx(1.0, rel=1e-6)
    assert rcc.image_item.level_index == 0
    assert np.shares_memory(rcc.image_item.image, rcc.image.stored)  # the raw 16-bit array itself
    study.commands["fit"].trigger()
    assert rcc.fitted and rcc.device_scale() < 1.0


def test_status_bar_reads_position_in_mm_and_values(study):
    rcc = study.panels[View.RCC]
    x, y = inner(rcc)
    mouse(rcc.graphics.viewport(), "move", (x, y))
    text = study._cursor_label.text()
    match = re.search(r"x ([\d.]+) mm, y ([\d.]+) mm  \(px (\d+), (\d+)\) · stored (\d+) · display (\d+)", text)
    assert text.startswith("R CC") and match, text
    col, row, stored, shown = (int(v) for v in match.groups()[2:])
    assert float(match.group(1)) == pytest.approx(col * 0.1, abs=0.1)  # 0.1 mm spacing in the file
    assert stored == int(rcc.image.stored[row, col])
    offset, lut = rcc.image_item.display_lookup()
    assert shown == int(lut[stored - offset])
    # Stored R CC was flipped for display: the cursor near the chest wall (right) is near stored column 0.
    assert col < rcc.image.shape[1] / 2


def test_magnifier_follows_the_cursor(study):
    study.commands["magnifier"].trigger()
    rcc = study.panels[View.RCC]
    x, y = inner(rcc)
    mouse(rcc.graphics.viewport(), "move", (x, y))
    assert rcc.loupe.isVisible()
    loupe_centre = rcc.loupe.mapTo(study, rcc.loupe.rect().center())
    target = rcc.graphics.viewport().mapTo(study, QtCore.QPoint(int(x), int(y)))
    assert abs(loupe_centre.x() - target.x()) <= 2 and abs(loupe_centre.y() - target.y()) <= 2
    shot = rcc.loupe.grab().toImage()
    assert not shot.isNull()
    # at the chest wall (the panel's inner edge, R CC's right) the loupe spills over L CC instead of being cut off
    edge = rcc.graphics.viewport().width() - 3
    mouse(rcc.graphics.viewport(), "move", (edge, y))
    assert rcc.loupe.isVisible()
    on_window = QtCore.QRect(rcc.loupe.mapTo(study, QtCore.QPoint(0, 0)), rcc.loupe.size())
    assert on_window.right() > rcc.mapTo(study, QtCore.QPoint(rcc.width(), 0)).x() + 20
    visible = rcc.loupe.visibleRegion().boundingRect()
    assert visible.width() == rcc.loupe.width()  # the whole loupe is drawn
    study.commands["magnifier"].trigger()
    assert not rcc.loupe.isVisible()


def test_the_loupe_does_not_keep_the_last_patients_pixels_over_a_panel_left_empty(study, load, tmp_path):
    """Magnifier on, the mouse resting on R CC, the next study has no R CC: the loupe stayed on screen with the last
    patient's magnified breast over the empty panel, and stayed (not even moving) while the mouse moved over it."""
    study.commands["magnifier"].trigger()
    rcc = study.panels[View.RCC]
    mouse(rcc.graphics.viewport(), "move", inner(rcc))
    assert rcc.loupe.isVisible()
    left_only = tmp_path / "left-only"
    for view in ("LCC", "LMLO"):
        write_view(left_only, f"{view}.dcm", view, study_uid="1.2.826.0.1.3680043.8.498.2002", patient_id="SYN-0002")
    load(study, [left_only])
    assert rcc.image is None
    assert not rcc.loupe.isVisible(), "the previous study's pixels are still magnified over the empty R CC"
    mouse(rcc.graphics.viewport(), "move", inner(rcc, 0.5))
    assert not rcc.loupe.isVisible()


def test_overlay_text_toggles(study):
    rcc, lcc = study.panels[View.RCC], study.panels[View.LCC]
    assert "Synthetic Patient" in rcc.labels.study.text()
    assert "2024-01-02" in lcc.labels.study.text()
    study.commands["overlay"].trigger()
    assert rcc.labels.study.text() == "" and not rcc.labels.study.isVisible()
    assert rcc.labels.title.text().startswith("<b>R CC")


def test_right_click_opens_the_panel_menu(study, qtbot):
    from PySide6 import QtWidgets

    lmlo = study.panels[View.LMLO]
    vp = lmlo.graphics.viewport()
    mouse(vp, "press", inner(lmlo), RIGHT)
    mouse(vp, "release", inner(lmlo), RIGHT, QtCore.Qt.MouseButton.NoButton)
    qtbot.waitUntil(lambda: any(m.isVisible() for m in study.findChildren(QtWidgets.QMenu)), timeout=2000)
    menu = next(m for m in study.findChildren(QtWidgets.QMenu) if m.isVisible())
    texts = [a.text() for a in menu.actions()]
    assert Preset.DENSE.value in texts and "This image is really…" in texts
    assert study.active_view is View.LMLO
    menu.close()


def test_window_level_mode_turns_left_drag_into_window_level(study):
    rcc = study.panels[View.RCC]
    study.commands["wl_mode"].trigger()
    before_range, before_voi = flat(rcc.view_box.viewRange()), rcc.window_state.voi
    drag(rcc.graphics.viewport(), inner(rcc), (inner(rcc)[0] - 50, inner(rcc)[1]), LEFT)
    assert flat(rcc.view_box.viewRange()) == pytest.approx(before_range)  # no pan
    assert rcc.window_state.voi.width < before_voi.width
    study.commands["wl_mode"].trigger()
    drag(rcc.graphics.viewport(), inner(rcc), (inner(rcc)[0] - 50, inner(rcc)[1]), LEFT)
    assert flat(rcc.view_box.viewRange()) != pytest.approx(before_range)  # pans again


def test_non_square_pixels_are_shown_in_their_true_proportions(main_window, load, tmp_path):
    """A file whose columns are half as wide as its rows (PixelSpacing 0.2 \\ 0.1 mm) is drawn half as wide in
    stored columns: the breast keeps its shape, and everything in stored coordinates follows."""
    from tests.gui.conftest import SYNTHETIC_VIEWS, write_view

    folder = tmp_path / "aniso"
    for view in SYNTHETIC_VIEWS:
        write_view(folder, f"{view}.dcm", view, pixel_spacing=(0.2, 0.1) if view == "LCC" else (0.1, 0.1))
    w = main_window
    load(w, [folder])
    lcc, rcc = w.panels[View.LCC], w.panels[View.RCC]
    rows, cols = lcc.image.shape
    assert lcc.aspect == 0.5 and rcc.aspect == 1.0
    assert lcc.content_size() == (cols * 0.5, rows) and rcc.content_size() == (rcc.image.shape[1], rcc.image.shape[0])
    # a stored point and the scene: x is half as far from the chest wall, y unchanged; and back again
    p = lcc.stored_to_scene(100, 300)
    far = lcc.stored_to_scene(cols - 1, 300)
    assert abs(far.x() - p.x()) == pytest.approx((cols - 1 - 100) * 0.5) and p.y() == pytest.approx(300)
    assert lcc.scene_to_stored(p) == pytest.approx((100, 300))
    # the rendered breast: its width on screen over its height is the physical ratio, not the stored one
    gray = grab_gray(lcc)
    tissue = gray > 40
    ys, xs = np.nonzero(tissue)
    shown_ratio = (xs.max() - xs.min()) / (ys.max() - ys.min())
    stored_tissue = lcc.image.stored > np.percentile(lcc.image.stored, 60)
    sy, sx = np.nonzero(stored_tissue)
    assert shown_ratio == pytest.approx(0.5 * (sx.max() - sx.min()) / (sy.max() - sy.min()), rel=0.15)
    mouse(lcc.graphics.viewport(), "move", (float(np.median(xs)), float(np.median(ys))))  # on the breast
    text = w._cursor_label.text()  # the read-out maps back to stored pixels and mm per axis
    match = re.search(r"x ([\d.]+) mm, y ([\d.]+) mm  \(px (\d+), (\d+)\)", text)
    assert match, text
    assert float(match.group(1)) == pytest.approx(int(match.group(3)) * 0.1, abs=0.1)
    assert float(match.group(2)) == pytest.approx(int(match.group(4)) * 0.2, abs=0.2)


def test_the_mlo_pair_can_hang_on_top_and_stays_the_four_view_layout(study):
    """Some sites hang MLOs above CCs: Alt+4; Home (reset) and going to a hidden view bring that layout back."""
    from mammoview.gui.hanging_layout import Layout
    from mammoview.gui.review import focus_on

    w = study
    w.commands["layout_four_mlo_top"].trigger()
    assert w.hanging.rows() == ((View.RMLO, View.LMLO), (View.RCC, View.LCC))
    rmlo, rcc = w.panels[View.RMLO], w.panels[View.RCC]
    assert rmlo.geometry().top() == 0 and rcc.geometry().top() > rmlo.geometry().bottom()
    assert rmlo.geometry().left() == 0 and w.panels[View.LMLO].geometry().left() > rmlo.geometry().right()
    w.commands["layout_cc"].trigger()
    focus_on(w, View.LMLO, (100.0, 100.0))  # a findings row on a hidden view
    assert w.hanging.layout_mode is Layout.FOUR_MLO_TOP
    w.commands["layout_cc"].trigger()
    w.commands["reset_view"].trigger()
    assert w.hanging.layout_mode is Layout.FOUR_MLO_TOP and w.settings.value("view/four_layout") == "FOUR_MLO_TOP"
    w.commands["layout_four"].trigger()
    w.commands["reset_view"].trigger()
    assert w.hanging.layout_mode is Layout.FOUR


def test_an_exam_of_one_breast_opens_without_a_problem_note(main_window, load, tmp_path, monkeypatch):
    """After a mastectomy (and in most CBIS-DDSM cases) an exam holds one breast: said in the status bar only."""
    from mammoview.gui import dialogs
    from tests.gui.conftest import write_view

    boxes: list[str] = []
    monkeypatch.setattr(dialogs, "message_box", lambda _p, _i, title, text, details="": boxes.append(text))
    for view in ("RCC", "RMLO"):
        write_view(tmp_path / "right", f"{view}.dcm", view)
    load(main_window, [tmp_path / "right"])
    assert not boxes and main_window.panels[View.LCC].image is None
    assert "No image for L CC, L MLO (an exam of one breast)." in main_window.statusBar().currentMessage()


def test_the_loupe_follows_zoom_and_window_under_a_resting_mouse(study):
    """Magnifier on and the mouse still: 1:1 (a key) or a window preset changed the view, but the loupe kept showing
    the old magnification and the old grey levels until the mouse moved."""
    study.commands["magnifier"].trigger()
    rcc = study.panels[View.RCC]
    mouse(rcc.graphics.viewport(), "move", inner(rcc))
    assert rcc.loupe.isVisible()
    shots = [rcc.loupe.grab().toImage()]
    rcc.zoom_one_to_one()  # the 1 key on this panel: zoomed in around its centre, the mouse where it was
    rcc.grab()  # painted (the view box applies a new range when it is painted)
    shots.append(rcc.loupe.grab().toImage())
    study.commands["invert"].trigger()  # the grey levels inverted
    shots.append(rcc.loupe.grab().toImage())
    mouse(rcc.graphics.viewport(), "move", inner(rcc))  # what a mouse move shows there: the loupe showed it already
    assert rcc.loupe.grab().toImage() == shots[-1]
    assert shots[0] != shots[1], "zoom"
    assert shots[1] != shots[2], "invert"
