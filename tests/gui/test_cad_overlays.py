"""CAD overlays: hidden until the first read is done, toggles, colours, exact placement on flipped views."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6 import QtCore
from scipy import ndimage as ndi

from mammoview.cad.types import FindingKind
from mammoview.io.model import View
from tests.gui import cad_support
from tests.gui.cad_support import colourful, finding, grab_rgb, magenta, planted_result
from tests.gui.conftest import SYNTHETIC_VIEWS, grab_gray

#: The shared CAD fixtures (tests/gui/cad_support.py), bound here so pytest finds them.
cad_models, cad_window = cad_support.cad_models, cad_support.cad_window

RCC_BLOB = SYNTHETIC_VIEWS["RCC"][6][0]  # (90, 200), r 14: R CC is stored chest-wall-left, so it is shown flipped
LCC_BLOB = SYNTHETIC_VIEWS["LCC"][6][0]


def grab_all(window) -> np.ndarray:  # type: ignore[no-untyped-def]
    return np.concatenate([grab_rgb(window.panels[v]).reshape(-1, 3) for v in View])


def planted(window):  # type: ignore[no-untyped-def]
    return planted_result(window, {
        View.RCC: [finding(FindingKind.CALCIFICATION, RCC_BLOB.x, RCC_BLOB.y, 0.87, 0.43)],
        View.LCC: [finding(FindingKind.MASS, LCC_BLOB.x, LCC_BLOB.y, 0.66, 0.62, half=25)],
    })  # fmt: skip


@pytest.fixture()
def study(cad_window, load, synthetic_study):  # type: ignore[no-untyped-def]
    load(cad_window, [synthetic_study])
    return cad_window


@pytest.fixture()
def shown(study, qtbot):  # type: ignore[no-untyped-def]
    """The planted result, after the first read is done."""
    study.cad.set_result(planted(study))
    study.commands["cad_first_read_done"].trigger()
    qtbot.wait(20)
    return study


def device_point(panel, x: float, y: float) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    p = panel.view_box.mapViewToDevice(panel.stored_to_scene(x, y))
    return (p.x(), p.y())


def test_heatmap_colours_appear_after_first_read_done_not_before(study, qtbot):
    with qtbot.waitSignal(study.cad.runner.resultReady, timeout=60_000):
        study.commands["cad_run"].trigger()  # the real worker and the tiny test model
    study.cad.nudge("threshold", -1.0)  # every non-zero value coloured: the test model's maps are mild
    qtbot.wait(20)
    assert study.cad.result is not None
    assert colourful(grab_all(study)).sum() == 0, "CAD must not be drawn before the first read is done"
    assert not study.cad.scores.shown_texts() and not study.cad.findings.rows
    assert all(not o.layers.get("heatmap") for o in study.cad.overlays.values())
    assert not study.commands["cad_show"].isEnabled() and "first read" in study.commands["cad_show"].toolTip()
    study.commands["cad_first_read_done"].trigger()
    qtbot.wait(20)
    assert colourful(grab_all(study)).sum() > 1000
    assert "heatmap" in study.cad.overlays[View.LMLO].visible_layers()


def test_a_mark_is_drawn_over_its_image_pixels_on_a_flipped_panel(study, qtbot):
    rcc = study.panels[View.RCC]
    assert rcc.image.display.flip_horizontal, "the synthetic R CC must be shown flipped"
    expected = device_point(rcc, RCC_BLOB.x, RCC_BLOB.y)
    # The rendered image has its blob there (so the mapping of the image itself is right)...
    gray = ndi.gaussian_filter(grab_gray(rcc).astype(float), 3)
    by, bx = np.unravel_index(np.argmax(gray), gray.shape)
    assert abs(bx - expected[0]) < 6 and abs(by - expected[1]) < 6
    # ...and the CAD mark is drawn over the same pixels.
    study.cad.set_result(planted(study))
    study.commands["cad_first_read_done"].trigger()
    study.commands["cad_layer_heatmap"].trigger()  # marks only, for a clean colour mask
    qtbot.wait(20)
    ys, xs = np.nonzero(magenta(grab_rgb(rcc)))
    assert len(xs) > 30
    # The triangle outline's centroid lies a sixth of its height below the centre.
    assert abs(xs.mean() - expected[0]) < 4 and abs(ys.mean() - (expected[1] + 3)) < 4
    # Zoom and pan: the mark stays on the blob.
    rcc.view_box.scaleBy((0.5, 0.5), center=rcc.stored_to_scene(RCC_BLOB.x, RCC_BLOB.y))
    rcc.view_box.translateBy((12, -8))
    qtbot.wait(20)
    expected = device_point(rcc, RCC_BLOB.x, RCC_BLOB.y)
    ys, xs = np.nonzero(magenta(grab_rgb(rcc)))
    assert abs(xs.mean() - expected[0]) < 4 and abs(ys.mean() - (expected[1] + 3)) < 4


@pytest.mark.parametrize("action", ["cad_show", "cad_layer_heatmap", "cad_layer_marks", "cad_layer_contours",
                                    "cad_layer_scores", "cad_layer_mass", "cad_layer_calcification"])  # fmt: skip
def test_each_toggle_changes_the_rendered_pixels(shown, qtbot, action):
    before = grab_all(shown)
    shown.commands[action].trigger()
    qtbot.wait(10)
    after = grab_all(shown)
    assert np.abs(after.astype(int) - before).sum() > 500, f"{action} changed nothing on screen"
    shown.commands[action].trigger()
    qtbot.wait(10)
    assert np.abs(grab_all(shown).astype(int) - before).mean() < 0.5, f"{action} twice is not a no-op"


def test_show_cad_hides_every_cad_layer_and_the_breast_scores(shown, qtbot):
    assert shown.cad.scores.shown_texts() == {
        View.RCC: "R breast: abnormal 0.87 · malignant 0.43",
        View.LCC: "L breast: abnormal 0.66 · malignant 0.33",
    }
    assert shown.cad.overlays[View.LCC].visible_layers() >= {"heatmap", "marks:mass", "contours", "scores:mass"}
    shown.commands["cad_show"].trigger()  # C
    assert all(not (o.visible_layers() - {"reader"}) for o in shown.cad.overlays.values())
    assert not shown.cad.scores.shown_texts()
    assert colourful(grab_all(shown)).sum() == 0


def test_breast_score_labels_stay_inside_their_panels_when_narrow(shown, qtbot):
    """A narrow window breaks each breast's label over lines rather than cut it at the panel's edge, where the two
    would run together across the midline and read as one sentence naming the wrong side."""
    texts = shown.cad.scores.shown_texts()
    shown.resize(700, 600)  # panels about 120 px wide beside the dock
    qtbot.waitUntil(lambda: shown.panels[View.RCC].width() < 250, timeout=5_000)
    qtbot.wait(20)
    boxes = {}
    for view in (View.RCC, View.LCC):
        panel, label = shown.panels[view], shown.cad.scores.labels[view]
        assert label.geometry().left() >= 0 and label.geometry().right() < panel.width()
        assert "\n" in label.text() or label.wordWrap()
        boxes[view] = QtCore.QRect(panel.mapTo(shown, label.geometry().topLeft()), label.size())
    assert not boxes[View.RCC].intersects(boxes[View.LCC])
    assert shown.cad.scores.shown_texts() == texts  # the same words
    shown.resize(1600, 1000)
    qtbot.waitUntil(lambda: "\n" not in shown.cad.scores.labels[View.LCC].text(), timeout=5_000)  # one line again
    assert not shown.cad.scores.labels[View.LCC].wordWrap()


def test_score_labels_keep_clear_of_the_panels_own_text(study, qtbot):
    """A finding just below the view label and study lines: its score label goes where it covers neither."""
    rcc = study.panels[View.RCC]
    viewport = rcc.graphics.viewport()
    text = rcc.labels.study.geometry().united(rcc.labels.title.geometry())
    below = viewport.mapFrom(rcc, text.bottomRight()) + QtCore.QPoint(15, 10)
    x, y = rcc.scene_to_stored(rcc.view_box.mapDeviceToView(QtCore.QPointF(below)))
    study.cad.set_result(planted_result(study, {View.RCC: [finding(FindingKind.MASS, x, y, 0.9, 0.5, half=8)]}))
    study.commands["cad_first_read_done"].trigger()
    qtbot.wait(20)
    overlay = study.cad.overlays[View.RCC]
    [label] = [i for i in overlay.layers["scores:mass"] if i.isVisible()]
    box = overlay._label_box(label, (label.anchor.x(), label.anchor.y()))
    occupied = QtCore.QRectF(QtCore.QRect(viewport.mapFrom(rcc, text.topLeft()), text.size()))
    assert box is not None and not box.intersects(occupied)
    assert QtCore.QRectF(viewport.rect()).contains(box)


def test_threshold_opacity_and_map_controls(shown, qtbot):
    lcc = shown.panels[View.LCC]
    heat = shown.cad.overlays[View.LCC].heatmap
    assert heat is not None and heat.item.opacity() == pytest.approx(shown.cad.style.opacity)
    base = colourful(grab_rgb(lcc)).sum()
    shown.cad.dock.opacity.setValue(100)
    assert heat.item.opacity() == pytest.approx(1.0)
    shown.cad.dock.threshold.setValue(255)  # the top level: every value but the maximum is transparent
    qtbot.wait(10)
    assert colourful(grab_rgb(lcc), 120).sum() < base
    shown.commands["cad_map_malignant"].trigger()
    assert heat.map_name == "malignant" and shown.cad.dock.map_combo.currentData() == "malignant"
    shown.commands["cad_next_map"].trigger()
    assert heat.map_name == "abnormal"
    assert shown.settings.value("cad/style/map_name") == "abnormal"  # remembered


def test_overlays_are_rebuilt_when_a_panel_changes_image(shown, qtbot):
    lcc = shown.panels[View.LCC]
    display = lcc.display
    lcc.set_image(None)
    assert not shown.cad.overlays[View.LCC].layers.get("heatmap")
    lcc.set_image(display)
    assert shown.cad.overlays[View.LCC].visible_layers() >= {"heatmap", "marks:mass"}


def test_score_labels_of_close_findings_do_not_cover_each_other(study, qtbot):
    x, y = LCC_BLOB.x, LCC_BLOB.y
    close = [finding(FindingKind.MASS, x, y, 0.88, 0.44), finding(FindingKind.MASS, x + 4, y + 3, 0.87, 0.22),
             finding(FindingKind.CALCIFICATION, x - 3, y + 5, 0.80, 0.30)]  # fmt: skip
    study.cad.set_result(planted_result(study, {View.LCC: close}))
    study.commands["cad_first_read_done"].trigger()
    qtbot.wait(20)
    overlay = study.cad.overlays[View.LCC]
    labels = [i for k in ("mass", "calcification") for i in overlay.layers[f"scores:{k}"]]
    assert len(labels) == 3

    def boxes():
        return [i.mapRectToScene(i.boundingRect()) for i in labels]

    def overlapping(rects):
        return [(a, b) for n, a in enumerate(rects) for b in rects[n + 1 :] if a.intersects(b)]

    assert not overlapping(boxes())
    # the best score keeps its outer side above the glyph (half a label higher than the default place, which
    # would cover the edges of the neighbours' glyphs a few pixels off its own)
    default = overlay_default_anchor(overlay)
    assert labels[0].anchor.x() == pytest.approx(default[0]) and labels[0].anchor.y() >= default[1]
    # zooming re-places them; still apart (and all back at the default once there is room)
    study.panels[View.LCC].view_box.scaleBy((0.05, 0.05))
    qtbot.wait(20)
    assert not overlapping(boxes())
    assert all(tuple(i.anchor) == pytest.approx(overlay_default_anchor(overlay)) for i in labels)


def on_screen(panel, item):  # type: ignore[no-untyped-def]
    """An overlay item's box in the panel's viewport pixels (labels keep their screen size at any zoom)."""
    return item.deviceTransform(panel.graphics.viewportTransform()).mapRect(item.boundingRect())


def overlay_default_anchor(overlay) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    from mammoview.gui.marks import label_anchors

    return label_anchors(overlay._outer_left)[0]


def test_score_labels_keep_off_the_readers_labels(study, qtbot):
    """Wherever the reader's mark sits around a finding, the CAD label does not cover its ``R1`` label."""
    from mammoview.gui.read_state import MarkKind, ReaderMark, image_key

    x, y = LCC_BLOB.x, LCC_BLOB.y
    study.cad.set_result(planted_result(study, {View.LCC: [finding(FindingKind.MASS, x, y, 0.88, 0.44)]}))
    study.commands["cad_first_read_done"].trigger()
    qtbot.wait(20)
    overlay, panel = study.cad.overlays[View.LCC], study.panels[View.LCC]
    (score,) = overlay.layers["scores:mass"]
    step = panel.view_box.viewPixelSize()[0] * 12  # 12 screen px in stored px
    moved = 0
    for dx in range(-4, 5):
        for dy in range(-4, 5):
            mark = ReaderMark(id=1, view=View.LCC, image=image_key(panel.image), x=x + dx * step, y=y + dy * step,
                              kind=MarkKind.MASS)  # fmt: skip
            overlay.set_reader_marks([mark], study.cad.style)
            (label,) = [i for i in overlay.layers["reader"] if hasattr(i, "textItem")]
            a, b = (on_screen(panel, i) for i in (score, label))
            assert not a.intersects(b), (dx, dy)
            moved += tuple(score.anchor) != pytest.approx(overlay_default_anchor(overlay))
    assert moved, "some positions of the mark must have pushed the score label off its default place"
