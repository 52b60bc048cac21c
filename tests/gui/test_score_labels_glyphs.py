"""CAD score labels keep off the other findings' glyphs, also in the small panels of a small window."""

from __future__ import annotations

from dataclasses import replace

import pytest
from PySide6 import QtCore

from mammoview.cad.types import FindingKind
from mammoview.gui.marks import GLYPH_SIZE, label_anchors
from mammoview.gui.read_state import MarkKind, image_key
from mammoview.io.model import View
from tests.gui import cad_support
from tests.gui.cad_support import corner_texts, finding, planted_result
from tests.gui.conftest import SYNTHETIC_VIEWS

cad_models, cad_window = cad_support.cad_models, cad_support.cad_window

BLOB = SYNTHETIC_VIEWS["LCC"][6][0]


def glyph_box(panel, f) -> QtCore.QRectF:  # type: ignore[no-untyped-def]
    """The finding's glyph on screen (viewport pixels): drawn at a fixed size around its centre."""
    p = panel.view_box.mapViewToDevice(panel.stored_to_scene(*f.center))
    half = GLYPH_SIZE[f.kind] / 2
    return QtCore.QRectF(p.x() - half, p.y() - half, 2 * half, 2 * half)


def label_box(panel, item) -> QtCore.QRectF:  # type: ignore[no-untyped-def]
    return item.deviceTransform(panel.graphics.viewportTransform()).mapRect(item.boundingRect())


@pytest.fixture()
def small(cad_window, load, synthetic_study, qtbot):  # type: ignore[no-untyped-def]
    """The 2x2 layout in a small window (panels about 200 x 250 px), one finding on L CC, first read done."""
    w = cad_window
    load(w, [synthetic_study])
    w.resize(800, 560)
    qtbot.waitUntil(lambda: w.panels[View.LCC].width() < 260, timeout=5_000)
    w.cad.set_result(planted_result(w, {View.LCC: [finding(FindingKind.MASS, BLOB.x, BLOB.y, 0.95, 0.4)]}))
    w.commands["cad_first_read_done"].trigger()
    qtbot.wait(20)
    return w


def test_a_label_moves_off_a_neighbours_glyph_where_its_default_place_would_cover_it(small, qtbot):
    panel, overlay = small.panels[View.LCC], small.cad.overlays[View.LCC]
    (first,) = overlay.layers["scores:mass"]
    a = finding(FindingKind.MASS, BLOB.x, BLOB.y, 0.95, 0.4)  # the fixture's
    default = label_box(panel, first)  # the best score's label at its default place (outer side, above)
    x, y = panel.scene_to_stored(panel.view_box.mapDeviceToView(default.center()))
    b = finding(FindingKind.CALCIFICATION, x, y, 0.90, 0.3)  # a second finding right under that label
    result = small.cad.image_result(panel)
    overlay.build(replace(result, findings=(a, b)), [], small.cad.style)
    qtbot.wait(20)
    (mass,), (calc,) = overlay.layers["scores:mass"], overlay.layers["scores:calcification"]
    assert not label_box(panel, mass).intersects(glyph_box(panel, b)), "the mass's score covers the triangle"
    assert not label_box(panel, calc).intersects(glyph_box(panel, a)), "the triangle's score covers the star"
    assert not label_box(panel, mass).intersects(label_box(panel, calc))


def test_no_label_covers_a_neighbours_glyph_wherever_the_neighbour_sits(small, qtbot):
    """Two findings 15-45 screen pixels apart all around each other: the best score's label finds a side clear of the
    other glyph; the second's does too, and of the first's label and the panel's text, wherever one of its places
    is (by the corner text of these small panels some arrangements leave none: it then covers the least of them, and
    a glyph's edge is less than the first label, which it covered, both scores unreadable); the same place each time
    it is placed (deterministic)."""
    panel, overlay = small.panels[View.LCC], small.cad.overlays[View.LCC]
    result = small.cad.image_result(panel)
    screen = QtCore.QRectF(panel.graphics.viewport().rect())
    step = panel.view_box.viewPixelSize()[0] * 15  # 15 screen px in stored px
    a = finding(FindingKind.MASS, BLOB.x, BLOB.y, 0.95, 0.4)
    with_room = 0
    for dx in range(-3, 4):
        for dy in range(-3, 4):
            if max(abs(dx), abs(dy)) < 1:
                continue
            b = finding(FindingKind.CALCIFICATION, BLOB.x + dx * step, BLOB.y + dy * step, 0.90, 0.3)
            overlay.build(replace(result, findings=(a, b)), [], small.cad.style)
            scores = {i.finding_score: i for k in ("mass", "calcification") for i in overlay.layers[f"scores:{k}"]}
            first = label_box(panel, scores[0.95])
            assert not first.intersects(glyph_box(panel, b)), (dx, dy)
            taken = [glyph_box(panel, a), first, *corner_texts(panel)]
            places = [overlay._label_box(scores[0.90], anchor) for anchor in label_anchors(overlay._outer_left)]
            if any(screen.contains(p) and not any(p.intersects(t) for t in taken) for p in places):
                with_room += 1
                assert not any(label_box(panel, scores[0.90]).intersects(t) for t in taken), (dx, dy)
            assert screen.contains(label_box(panel, scores[0.90])), (dx, dy)
            anchors = [tuple(i.anchor) for i in scores.values()]
            overlay.place_labels()
            assert [tuple(i.anchor) for i in scores.values()] == anchors
    assert with_room > 24, with_room  # most of the 48 arrangements (not a test of nothing)


def test_three_close_findings_labels_stack_clear_of_each_other(cad_window, load, synthetic_study, qtbot):
    """The demo's L MLO at 1280 x 800 (positions on screen as there): a star near the chest wall beside another and
    a third above them.  The third label's eight places each covered a glyph, a label or lay off the panel, and
    it went onto the second's label ("M 0.53" unreadable under "0.90 · 0.7 FP/img"): it now stacks below it."""
    w = cad_window
    load(w, [synthetic_study])
    w.resize(1100, 760)
    panel = w.panels[View.LCC]
    qtbot.waitUntil(lambda: panel.width() > 360 and panel.height() > 300, timeout=5_000)
    assert not panel.chest_wall_right  # the chest wall on the left, as on L MLO

    def at(x: float, y: float, score: float, rate: float, mal: float):  # type: ignore[no-untyped-def]
        sx, sy = panel.scene_to_stored(panel.view_box.mapDeviceToView(QtCore.QPointF(x, y)))
        return replace(finding(FindingKind.MASS, sx, sy, score, mal), fp_per_image=rate)

    found = [at(78, 83, 0.939, 0.5, 0.53), at(63, 150, 0.927, 0.6, 0.53), at(11, 150, 0.904, 0.7, 0.62)]
    ring = at(65, 93, 0.0, 0.0, 0.0).center  # the reader's mark on the first, its label below it
    w.cad.reader.add(View.LCC, image_key(panel.image), *ring, MarkKind.MASS)
    w.cad.set_result(planted_result(w, {View.LCC: found}))
    w.commands["cad_first_read_done"].trigger()
    qtbot.wait(20)
    overlay = w.cad.overlays[View.LCC]
    labels = {i.finding_score: i for i in overlay.layers["scores:mass"]}
    assert len(labels) == 3
    boxes = {s: label_box(panel, i) for s, i in labels.items()}
    (reader,) = [label_box(panel, i) for i in overlay.layers["reader"] if hasattr(i, "textItem")]
    screen = QtCore.QRectF(panel.graphics.viewport().rect())
    for s, box in boxes.items():
        assert not box.intersects(reader), s
        assert screen.contains(box), s
        for t, other in boxes.items():
            assert t == s or not box.intersects(other), (s, t)
        for f in found:
            assert f.score == s or not box.intersects(glyph_box(panel, f)), (s, f.score)
