"""Labels in a crowded panel: the CAD scores at 2 FP/img keep off each other, and a reader's mark label keeps off the
panel's corner text, each label staying beside its own mark (measured in viewport pixels)."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest
from PySide6 import QtCore

from mammoview.cad.types import FindingKind
from mammoview.gui.marks import GLYPH_SIZE, READER_SIZE
from mammoview.gui.read_state import MarkKind, image_key
from mammoview.io.model import View
from tests.gui import cad_support
from tests.gui.cad_support import corner_texts, finding, planted_result

cad_models, cad_window = cad_support.cad_models, cad_support.cad_window

#: The demo's L CC at 2 FP/img in a 1600 x 1000 window (mammoview-vgg 1.3.7), in viewport pixels: four stars,
#: two of them at the chest wall, the reader's R1 ring on the best one (score, FP/img, malignancy, x, y).
DEMO_LCC = ((0.975, 0.3, 0.52, 91, 280), (0.972, 0.3, 0.57, 18, 159), (0.966, 0.4, 0.47, 6, 304),
            (0.585, 1.7, 0.55, 79, 353))  # fmt: skip
DEMO_RING = (98, 268)


def on_screen(panel, item) -> QtCore.QRectF:  # type: ignore[no-untyped-def]
    return item.deviceTransform(panel.graphics.viewportTransform()).mapRect(item.boundingRect())


def distance(box: QtCore.QRectF, x: float, y: float) -> float:
    """From a mark's centre to the nearest point of a label's box (0 inside)."""
    dx = max(box.left() - x, 0.0, x - box.right())
    dy = max(box.top() - y, 0.0, y - box.bottom())
    return math.hypot(dx, dy)


@pytest.fixture()
def big(cad_window, load, synthetic_study, qtbot):  # type: ignore[no-untyped-def]
    """The synthetic study in a 1600 x 1000 window, as the demo's screenshot."""
    w = cad_window
    load(w, [synthetic_study])
    w.resize(1600, 1000)
    panel = w.panels[View.LCC]
    qtbot.waitUntil(lambda: panel.graphics.viewport().width() > 500, timeout=5_000)
    assert not panel.chest_wall_right  # as on the demo's L CC
    return w


def stored(panel, x: float, y: float) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    return panel.scene_to_stored(panel.view_box.mapDeviceToView(QtCore.QPointF(x, y)))


def crowd(w, qtbot):  # type: ignore[no-untyped-def]
    """Plant the demo's L CC findings and R1 ring; the overlay and its labels by score ("R1" for the ring's)."""
    panel = w.panels[View.LCC]
    found = [replace(finding(FindingKind.MASS, *stored(panel, x, y), s, m, half=8), fp_per_image=r)
             for s, r, m, x, y in DEMO_LCC]  # fmt: skip
    w.cad.reader.add(View.LCC, image_key(panel.image), *stored(panel, *DEMO_RING), MarkKind.MASS)
    w.cad.set_result(planted_result(w, {View.LCC: found}))
    w.commands["cad_first_read_done"].trigger()
    qtbot.wait(20)
    overlay = w.cad.overlays[View.LCC]
    labels = {i.finding_score: i for i in overlay.layers["scores:mass"]}
    (ring,) = [i for i in overlay.layers["reader"] if hasattr(i, "textItem")]
    return overlay, {**labels, "R1": ring}


def test_crowded_score_labels_at_2_fp_per_image_cover_no_other_label(big, qtbot):
    """The star at the chest wall had every place around it touching a glyph, a label or the panel's edge, and its
    score went onto the best finding's ("0.98 · 0.3 FP/img" unreadable under "0.97 · 0.4 FP/img")."""
    panel = big.panels[View.LCC]
    _, labels = crowd(big, qtbot)
    boxes = {key: on_screen(panel, item) for key, item in labels.items()}
    screen = QtCore.QRectF(panel.graphics.viewport().rect())
    centres = {s: (x, y) for s, _, _, x, y in DEMO_LCC} | {"R1": DEMO_RING}
    for key, box in boxes.items():
        assert screen.contains(box), key
        for other, other_box in boxes.items():
            assert other == key or not box.intersects(other_box), (key, other)
        for text in corner_texts(panel):
            assert not box.intersects(text), key
        height = box.height()
        assert distance(box, *centres[key]) < 2 * height, f"{key}'s label is not beside its mark"


def test_crowded_score_labels_at_2_fp_per_image_cover_no_other_glyph(big, qtbot):
    """With no place above or below it free, the chest-wall star's score went over the top of the star below it
    (read as that star's score); level with its own star there is room between the neighbours."""
    panel = big.panels[View.LCC]
    _, labels = crowd(big, qtbot)
    for key, item in labels.items():
        box = on_screen(panel, item)
        for score, _, _, x, y in DEMO_LCC:
            half = GLYPH_SIZE[FindingKind.MASS] / 2
            glyph = QtCore.QRectF(x - half, y - half, 2 * half, 2 * half)
            assert score == key or not box.intersects(glyph), (key, score)


def test_crowded_labels_stay_put_while_panning(big, qtbot):
    """Panning moves every mark and label alike: away from the panel's edges and text nothing changes place."""
    panel = big.panels[View.LCC]
    _, labels = crowd(big, qtbot)
    anchors = {key: tuple(item.anchor) for key, item in labels.items()}
    for dx, dy in ((3.0, 0.0), (7.0, 5.0), (12.0, -4.0), (20.0, 9.0)):
        panel.view_box.translateBy(x=-dx * panel.view_box.viewPixelSize()[0], y=0.0)
        panel.view_box.translateBy(x=0.0, y=dy * panel.view_box.viewPixelSize()[1])
        qtbot.wait(5)
        assert {key: tuple(item.anchor) for key, item in labels.items()} == anchors, (dx, dy)


def test_a_readers_mark_label_keeps_off_the_study_text_when_zoomed(cad_window, load, synthetic_study, qtbot):
    """Zoomed in, a mark just left of the end of the study line (R CC: the text in the left corners): its label,
    drawn below the ring on the outer side, lay over "Study ..." and the view label."""
    w = cad_window
    load(w, [synthetic_study])
    panel = w.panels[View.RCC]
    assert panel.chest_wall_right  # outer side (labels, corner text) on the left
    panel.view_box.scaleBy((0.5, 0.5))
    qtbot.wait(20)
    study = panel.labels.study
    assert study.isVisible() and study.text()
    viewport = panel.graphics.viewport()
    text = QtCore.QRectF(QtCore.QRect(viewport.mapFrom(panel, study.pos()), study.size()))
    ring = (text.right() - 4, text.top() + 2)
    w.cad.reader.add(View.RCC, image_key(panel.image), *stored(panel, *ring), MarkKind.MASS)
    qtbot.wait(20)
    overlay = w.cad.overlays[View.RCC]
    (label,) = [i for i in overlay.layers["reader"] if hasattr(i, "textItem")]
    box = on_screen(panel, label)
    for corner in corner_texts(panel):
        assert not box.intersects(corner), (box, corner)
    assert QtCore.QRectF(viewport.rect()).contains(box)
    assert distance(box, *ring) < box.height(), "the label left its ring"


def test_a_score_label_keeps_off_a_readers_ring(big, qtbot):
    """A reader's mark at the end of where a finding's score would sit (a lesion beside the one the CAD marked, its
    ``R1`` label further out): the score covered the ring, the placement avoiding only the CAD's glyphs."""
    panel = big.panels[View.LCC]
    x, y = 200, 200
    big.cad.set_result(planted_result(big, {View.LCC: [finding(FindingKind.MASS, *stored(panel, x, y), 0.9, 0.4)]}))
    big.commands["cad_first_read_done"].trigger()
    qtbot.wait(20)
    overlay = big.cad.overlays[View.LCC]
    (score,) = overlay.layers["scores:mass"]
    default = on_screen(panel, score)
    ring = (default.right() + 6, default.center().y())
    big.cad.reader.add(View.LCC, image_key(panel.image), *stored(panel, *ring), MarkKind.MASS)
    qtbot.wait(20)
    box = on_screen(panel, score)
    half = READER_SIZE / 2
    assert not box.intersects(QtCore.QRectF(ring[0] - half, ring[1] - half, 2 * half, 2 * half)), box
    assert distance(box, x, y) < box.height(), "the score left its glyph"
