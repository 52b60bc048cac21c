"""The two-view aid: a selected finding's distance from the nipple, drawn as a band on the breast's other view."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from mammoview.cad.types import FindingKind, ImageCadResult
from mammoview.gui.nipple_band import BAND_MM, arc, other_view
from mammoview.io.model import View
from tests.gui import cad_support
from tests.gui.cad_support import colourful, finding, grab_rgb, planted_result

cad_models, cad_window = cad_support.cad_models, cad_support.cad_window


def result(nipple: tuple[float, float] | None, spacing=(0.1, 0.1), width=320, height=500) -> ImageCadResult:  # type: ignore[no-untyped-def]
    return ImageCadResult(path="x", width=width, height=height, view=View.LCC, pixel_spacing=spacing,
                          spacing_source="test", abnormal=0.1, malignant=0.1, findings=(), nipple=nipple)  # fmt: skip


def test_the_arc_is_a_half_circle_in_mm_towards_the_chest_wall():
    r = result((300.0, 200.0))  # nipple on the right: the chest wall is on the left
    pts = arc(r, 10.0)
    assert np.nanmax(pts[:, 0]) <= 300.0 + 1e-9
    assert np.hypot((pts[:, 0] - 300) * 0.1, (pts[:, 1] - 200) * 0.1) == pytest.approx(10.0)
    assert pts[len(pts) // 2] == pytest.approx((200.0, 200.0))  # straight towards the chest wall
    # anisotropic grid: 10 mm are 50 columns at 0.2 mm but 100 rows at 0.1 mm
    aniso = arc(replace(r, pixel_spacing=(0.1, 0.2)), 10.0)
    assert aniso[len(aniso) // 2] == pytest.approx((250.0, 200.0)) and aniso[0] == pytest.approx((300.0, 100.0))
    mirrored = arc(replace(r, nipple=(20.0, 200.0)), 10.0)  # nipple on the left
    assert np.nanmin(mirrored[:, 0]) >= 20.0 - 1e-9
    big = arc(r, 30.0)  # leaves the image above and below: those points are NaN
    assert np.isnan(big).any() and not np.isnan(big[len(big) // 2]).any()
    assert arc(result(None), 10.0).shape == (0, 2) and arc(r, -1.0).shape == (0, 2)
    assert {other_view(v) for v in View} == set(View) and other_view(View.LCC) is View.LMLO


def plant_with_nipples(w, lmlo: list | None = None) -> tuple[ImageCadResult, ...]:  # type: ignore[no-untyped-def, type-arg]
    """A mass on L CC (and ``lmlo``'s findings on L MLO) with each view's nipple at the synthetic breast's tip (chest
    wall left at 0.8 of the width on the CC views: tests/synthetic.py); set as the CAD result, its images returned."""
    planted = planted_result(w, {View.LCC: [finding(FindingKind.MASS, 30, 260, 0.8, 0.7)], View.LMLO: lmlo or []})
    images = tuple(replace(r, nipple=(0.8 * r.width if r.view in (View.LCC, View.RCC) else r.width * 0.2,
                                      r.height / 2)) for r in planted.images)  # fmt: skip
    w.cad.set_result(replace(planted, images=images))
    return images


def test_selecting_a_finding_draws_the_band_on_the_other_view(cad_window, load, synthetic_study):
    w = cad_window
    load(w, [synthetic_study])
    images = plant_with_nipples(w)
    w.commands["cad_first_read_done"].trigger()
    panel = w.cad.findings
    (row,) = [r for r in panel.rows if r.finding is not None]
    lcc = next(r for r in images if r.view is View.LCC)
    assert row.nipple_mm == pytest.approx(np.hypot(0.8 * lcc.width - 30, lcc.height / 2 - 260) * 0.1)  # ~23 mm
    lmlo = w.panels[View.LMLO]
    before = colourful(grab_rgb(lmlo)).sum()
    panel.select_row(panel.rows.index(row))
    assert w.cad.band.view is View.LMLO and w.cad.band.distance_mm == pytest.approx(row.nipple_mm)
    # the inner arc (~3 mm), the nipple circle and the label; the outer arc (~43 mm, 430 px) lies wholly
    # outside the 330 px image
    assert len(w.cad.band.items()) == 3
    assert f"at {row.nipple_mm:.0f} mm from the nipple" in w.statusBar().currentMessage()
    assert colourful(grab_rgb(lmlo)).sum() > before  # the cyan arcs are on screen
    assert BAND_MM == 20.0
    from mammoview.gui.export_findings import export_json

    exported = {e["view"] + e["laterality"]: e["nipple"] for e in export_json(w, anonymize=True)["images"]}
    assert exported["MLOL"] == [pytest.approx(0.2 * lmlo.image.shape[1]), pytest.approx(lmlo.image.shape[0] / 2)]
    w.commands["cad_show"].trigger()  # all CAD off: the band goes too
    assert w.cad.band.view is None and not w.cad.band.items()


def test_a_view_without_a_nipple_says_why_no_band_is_drawn(cad_window, load, synthetic_study):
    """The other view's nipple is unknown (e.g. an image stored a quarter turn): no band, and the status bar said
    nothing, so the reader could not tell a missing band from a broken one."""
    w = cad_window
    load(w, [synthetic_study])
    planted = planted_result(w, {View.LCC: [finding(FindingKind.MASS, 30, 260, 0.8, 0.7)]})
    images = tuple(replace(r, nipple=(0.8 * r.width, r.height / 2) if r.view is View.LCC else None)
                   for r in planted.images)  # fmt: skip
    w.cad.set_result(replace(planted, images=images))
    w.commands["cad_first_read_done"].trigger()
    panel = w.cad.findings
    (row,) = [r for r in panel.rows if r.finding is not None]
    w.statusBar().clearMessage()
    panel.select_row(panel.rows.index(row))
    assert w.cad.band.view is None
    assert "L MLO: no nipple found" in w.statusBar().currentMessage()


def test_the_bands_label_does_not_cover_a_cad_score_label(cad_window, load, synthetic_study, qtbot):
    """The band runs where the lesion should be, so its label lands on that view's finding: the finding's score label
    moves clear of it (it was drawn under the band's label, unreadable)."""
    import pyqtgraph as pg

    w = cad_window
    load(w, [synthetic_study])

    def select_lcc_row() -> None:
        panel = w.cad.findings
        panel.select_row(next(i for i, r in enumerate(panel.rows) if r.view is View.LCC))
        qtbot.wait(20)

    plant_with_nipples(w)
    w.commands["cad_first_read_done"].trigger()
    select_lcc_row()
    band_label = next(i for i in w.cad.band.items() if isinstance(i, pg.TextItem))
    at = band_label.pos()
    plant_with_nipples(w, [finding(FindingKind.MASS, at.x(), at.y(), 0.9, 0.5)])  # where the band's label sits
    select_lcc_row()
    overlay = w.cad.overlays[View.LMLO]
    band_label = next(i for i in w.cad.band.items() if isinstance(i, pg.TextItem))
    band_box = overlay._label_box(band_label, (band_label.anchor.x(), band_label.anchor.y()))
    (score,) = [i for i in overlay.layers["scores:mass"] if i.isVisible()]
    score_box = overlay._label_box(score, (score.anchor.x(), score.anchor.y()))
    assert band_box is not None and score_box is not None
    assert not band_box.intersects(score_box)


def test_the_bands_label_stays_whole_in_its_panel_beside_the_chest_wall(cad_window, load, synthetic_study, qtbot):
    """A lesion about as far from the nipple as the breast is deep: the band's middle, where its label was centred,
    lies by the chest wall, at the panel's edge on the seam, and the label was cut there ("~50 ± 20 mm from n")."""
    import pyqtgraph as pg
    from PySide6 import QtCore

    w = cad_window
    load(w, [synthetic_study])
    plant_with_nipples(w)
    w.commands["cad_first_read_done"].trigger()
    panel = w.cad.findings
    panel.select_row(next(i for i, r in enumerate(panel.rows) if r.view is View.LCC))
    qtbot.wait(20)
    lmlo = w.panels[View.LMLO]
    label = next(i for i in w.cad.band.items() if isinstance(i, pg.TextItem))
    box = w.cad.overlays[View.LMLO]._label_box(label, (label.anchor.x(), label.anchor.y()))
    screen = QtCore.QRectF(lmlo.graphics.viewport().rect())
    assert box is not None and screen.contains(box), (box, screen)
