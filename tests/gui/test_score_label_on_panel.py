"""A CAD score label stays on its panel: a finding at the panel's top edge whose places below touch neighbours'
glyphs still shows its score below (a label pushed off the panel is a score nobody can read)."""

from __future__ import annotations

from dataclasses import replace

from PySide6 import QtCore

from mammoview.cad.types import FindingKind
from mammoview.io.model import View
from tests.gui import cad_support
from tests.gui.cad_support import finding, planted_result

cad_models, cad_window = cad_support.cad_models, cad_support.cad_window


def label_box(panel, item) -> QtCore.QRectF:  # type: ignore[no-untyped-def]
    return item.deviceTransform(panel.graphics.viewportTransform()).mapRect(item.boundingRect())


def test_a_label_at_the_top_edge_is_not_pushed_off_the_panel_by_neighbours_glyphs(cad_window, load, synthetic_study,
                                                                                  qtbot):  # fmt: skip
    w = cad_window
    load(w, [synthetic_study])
    w.resize(1100, 760)
    panel = w.panels[View.LCC]
    qtbot.waitUntil(lambda: panel.width() > 360 and panel.height() > 300, timeout=5_000)
    cx = panel.graphics.viewport().width() / 2

    def at(x: float, y: float, score: float, kind: FindingKind = FindingKind.MASS):  # type: ignore[no-untyped-def]
        sx, sy = panel.scene_to_stored(panel.view_box.mapDeviceToView(QtCore.QPointF(x, y)))
        return finding(kind, sx, sy, score, 0.4)

    top = at(cx, 4, 0.95)
    # a column of small glyphs on each side just below it: every place below it touches one of them
    sides = [at(cx + s * dx, y, 0.10, FindingKind.CALCIFICATION) for s in (-1, 1) for dx in (30, 60)
             for y in range(14, 120, 16)]  # fmt: skip
    w.cad.set_result(planted_result(w, {View.LCC: [top]}))
    w.commands["cad_first_read_done"].trigger()
    qtbot.wait(20)
    overlay = w.cad.overlays[View.LCC]
    overlay.build(replace(w.cad.image_result(panel), findings=(top, *sides)), [], w.cad.style)
    qtbot.wait(20)
    (label,) = [i for i in overlay.layers["scores:mass"] if i.finding_score == 0.95]
    screen = QtCore.QRectF(panel.graphics.viewport().rect())
    box = label_box(panel, label)
    assert screen.contains(box), (box, screen)  # it was placed wholly above the panel, out of sight
    anchors = tuple(label.anchor)
    overlay.place_labels()
    assert tuple(label.anchor) == anchors  # the same place each time
