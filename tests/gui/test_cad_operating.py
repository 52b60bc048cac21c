"""Choosing the CAD marks' operating point (false marks per image on the model's validation curve)."""

from __future__ import annotations

from dataclasses import dataclass, replace

import pytest
from PySide6 import QtCore

from mammoview.cad.operating import OperatingCurve, format_rate
from mammoview.cad.render import threshold_level
from mammoview.cad.types import Finding, FindingKind, StudyCadResult, heat_probability
from mammoview.gui.cad_overlays import load_style
from mammoview.gui.export_findings import export_json
from mammoview.gui.export_picture import legend_info
from mammoview.gui.matching import Category
from mammoview.io.model import View
from tests.gui import cad_support
from tests.gui.cad_support import PLANTED_MODEL, finding, planted_result

cad_models, cad_window = cad_support.cad_models, cad_support.cad_window

CURVE = OperatingCurve(thresholds=(0.995, 0.95, 0.8, 0.5, 0.2), fpi=(0.0, 0.25, 0.5, 1.0, 2.5),
                       sensitivity=(0.1, 0.3, 0.4, 0.6, 0.8), images=40, lesions=30, data="test")  # fmt: skip
MODEL = replace(PLANTED_MODEL, finding_threshold=0.95, operating_curve=CURVE)
SCORES = (0.99, 0.9, 0.6, 0.35)  # candidates of the R CC view


@dataclass(frozen=True)
class CutAt:
    """Stands for the kept maps: the candidates at or above a threshold, regions growing as it falls."""

    scores: tuple[float, ...]

    def findings(self, threshold: float) -> tuple[Finding, ...]:
        half = 10 + 20 * (1 - threshold)
        return tuple(finding(FindingKind.MASS, 60 + 60 * i, 200, s, half=half)
                     for i, s in enumerate(self.scores) if s >= threshold)  # fmt: skip


def with_sources(result: StudyCadResult, model=MODEL) -> StudyCadResult:  # type: ignore[no-untyped-def]
    images = []
    for r in result.images:
        src = CutAt(SCORES if r.view is View.RCC else ())  # other views: no candidate
        images.append(replace(r, findings=src.findings(model.finding_threshold), threshold=model.finding_threshold,
                              source=src))  # fmt: skip
    return replace(result, model=model, images=tuple(images))


def cad_rows(w) -> list:  # type: ignore[no-untyped-def]
    return [r for r in w.cad.findings.rows if r.finding is not None]


@pytest.fixture()
def shown(cad_window, load, synthetic_study):  # type: ignore[no-untyped-def]
    w = cad_window
    load(w, [synthetic_study])
    w.cad.set_result(with_sources(planted_result(w, {})))
    w.commands["cad_first_read_done"].trigger()
    return w


def test_the_marks_combo_offers_the_model_default_and_the_rates_its_curve_reaches(shown):
    combo = shown.cad.dock.operating
    assert combo.isEnabled()
    assert [combo.itemData(i) for i in range(combo.count())] == [0.0, 0.25, 0.5, 1.0, 2.0]
    assert combo.itemText(0) == "Default · 0.2 FP/img · finds 30%" and combo.currentIndex() == 0
    assert "p ≥ 0.950" in combo.itemData(0, QtCore.Qt.ItemDataRole.ToolTipRole)
    assert combo.itemText(4) == f"2 FP/img · finds {CURVE.sensitivity_at(CURVE.threshold_for(2.0)):.0%}"
    assert [r.finding.score for r in cad_rows(shown)] == [0.99]  # the model's own threshold (0.95)


def test_choosing_an_operating_point_recuts_the_findings_and_is_kept(shown, qtbot):
    w, combo = shown, shown.cad.dock.operating
    default_box = cad_rows(w)[0].finding.bbox
    combo.setCurrentIndex(combo.findData(2.0))  # the reader picks 2 FP/img
    thr = CURVE.threshold_for(2.0)
    assert thr == pytest.approx(0.3)
    assert [r.finding.score for r in cad_rows(w)] == [s for s in SCORES if s >= thr]
    assert cad_rows(w)[0].finding.bbox != default_box  # the region of the new threshold, not the old one filtered
    assert all(r.threshold == thr for r in w.cad.result.images)
    assert w.cad.computed.images[0].threshold == 0.95  # what was computed is kept
    assert load_style(w.settings).operating_fpi == 2.0
    assert legend_info(w, anonymize=True).operating == "p ≥ 0.300 · 2 FP/img · finds 73%"
    assert "at p ≥ 0.300 · 2 FP/img" in w.cad.findings.note.text()
    point = export_json(w)["display"]["operating_point"]
    assert point["chosen_fp_per_image"] == 2.0 and point["threshold"] == pytest.approx(0.3)
    assert point["validation_fp_per_image"] == pytest.approx(2.0)
    assert w.cad.findings.counts()[Category.CAD_ONLY] == 4
    combo.setCurrentIndex(combo.findData(0.5))
    assert [r.finding.score for r in cad_rows(w)] == [0.99, 0.9]
    combo.setCurrentIndex(0)  # back to the model's own threshold
    assert [r.finding.score for r in cad_rows(w)] == [0.99] and cad_rows(w)[0].finding.bbox == default_box


def test_a_rate_the_models_curve_does_not_reach_shows_in_the_combo_as_applied(shown):
    """2 FP/img chosen with one model; the next model's curve stops at 1.5: the combo, the marks, the note and the
    legend name one point (the combo read "Default" while the marks were cut at 1.5 FP/img, and choosing Default
    then did nothing)."""
    w, combo = shown, shown.cad.dock.operating
    combo.setCurrentIndex(combo.findData(2.0))
    short = OperatingCurve(thresholds=(0.995, 0.95, 0.8, 0.5, 0.4), fpi=(0.0, 0.25, 0.5, 1.0, 1.5),
                           sensitivity=(0.1, 0.3, 0.4, 0.6, 0.7), images=40, lesions=30, data="test")  # fmt: skip
    w.cad.set_result(with_sources(planted_result(w, {}), replace(MODEL, operating_curve=short)))
    assert [combo.itemData(i) for i in range(combo.count())] == [0.0, 0.25, 0.5, 1.0]
    applied = w.cad.operating_fpi()
    assert combo.currentData() == (applied or 0.0)
    thr = short.threshold_for(applied) if applied else MODEL.finding_threshold
    assert all(r.threshold == thr for r in w.cad.result.images)
    assert applied == 1.0 and combo.currentText().startswith("1 FP/img")  # the loosest point of the menu
    assert (
        " · 1 FP/img · " in legend_info(w, anonymize=True).operating and " · 1 FP/img · " in w.cad.findings.note.text()
    )
    assert export_json(w)["display"]["operating_point"]["chosen_fp_per_image"] == applied
    assert load_style(w.settings).operating_fpi == 2.0  # the reader's choice is kept for a model that reaches it


def test_a_model_without_curve_or_a_result_without_maps_keeps_its_marks(shown):
    w = shown
    w.cad.dock.operating.setCurrentIndex(w.cad.dock.operating.findData(1.0))
    w.cad.set_result(planted_result(w, {View.RCC: [finding(FindingKind.MASS, 100, 100, 0.9)]}))  # no curve
    assert not w.cad.dock.operating.isEnabled() and w.cad.dock.operating.count() == 1
    assert [r.finding.score for r in cad_rows(w)] == [0.9]
    no_maps = replace(planted_result(w, {View.RCC: [finding(FindingKind.MASS, 100, 100, 0.9)]}), model=MODEL)
    w.cad.set_result(no_maps)  # e.g. imported: findings as computed, and the status bar says why
    assert [r.finding.score for r in cad_rows(w)] == [0.9]
    assert "kept no maps" in w.statusBar().currentMessage()


def test_breast_and_exam_scores_read_as_false_marks_per_image(shown, qtbot):
    """The abnormal scores of a confident network crowd near 1; the validation rate at them tells them apart."""
    from mammoview.cad.types import BreastScore
    from mammoview.gui.score_labels import breast_text, exam_text
    from mammoview.io.model import Laterality

    right, left = Laterality.RIGHT, Laterality.LEFT
    breasts = {right: BreastScore(right, 0.87, 0.43, 2), left: BreastScore(left, 0.1, 0.05, 2)}
    shown.cad.set_result(replace(shown.cad.result, breasts=breasts, abnormal=0.87))
    qtbot.wait(10)
    texts = shown.cad.scores.shown_texts()
    # 0.87 lies between the curve's 0.95 (0.25 FP/img) and 0.8 (0.5): 0.38; 0.1 is below its loosest point (0.2)
    assert texts[View.RCC] == "R breast: abnormal 0.87 (0.4 FP/img) · malignant 0.43"
    assert texts[View.LCC] == "L breast: abnormal 0.10 · malignant 0.05"
    assert exam_text(shown.cad.result).startswith("Exam: abnormal 0.87 (0.4 FP/img) · malignant")
    assert breast_text(breasts[right]) == "R breast: abnormal 0.87 · malignant 0.43"  # no curve, no rate


def test_the_dock_says_when_the_cad_guessed_a_views_pixel_spacing(shown, qtbot):
    from mammoview.gui.score_labels import spacing_text

    assert spacing_text(shown.cad.result) == ""  # the synthetic study carries its spacing
    assert "pixel spacing" not in shown.cad.dock.state_label.text()
    images = tuple(replace(r, spacing_estimated=r.view in (View.RCC, View.LMLO)) for r in shown.cad.result.images)
    shown.cad.set_result(replace(shown.cad.result, images=images))
    qtbot.wait(10)
    text = spacing_text(shown.cad.result)
    assert text.startswith("No pixel spacing in the files of R CC, L MLO: the CAD assumed ")
    assert text in shown.cad.dock.state_label.text()


def test_heatmap_threshold_moves_on_the_maps_levels_and_reads_as_false_marks(shown, qtbot):
    dock = shown.cad.dock
    assert shown.cad.style.threshold == pytest.approx(0.80)  # the default
    assert dock.threshold.maximum() == 255 and dock.threshold.value() == threshold_level(0.80)
    dock.threshold.setValue(threshold_level(0.95))
    assert shown.cad.style.threshold == pytest.approx(float(heat_probability(threshold_level(0.95))))
    assert threshold_level(shown.cad.style.threshold) == threshold_level(0.95)
    rate = CURVE.fp_per_image(shown.cad.style.threshold)
    assert 0.2 <= rate <= 0.25  # p 0.95 is the curve's 0.25 point (+- half a level)
    assert f"made {format_rate(rate, unit=False)} false marks per validation image" in dock.threshold.toolTip()
    assert dock.threshold_value.text() == "0.95"
    assert dock.scale.threshold == shown.cad.style.threshold  # the colour scale's threshold line follows
    bar = dock.scale.grab().toImage()
    reds = [bar.pixelColor(x, 10) for x in range(bar.width())]
    assert any(c.red() > 150 and c.blue() < 60 for c in reds)  # the scale's red end is painted
    before = dock.threshold.value()
    shown.commands["cad_threshold_up"].trigger()  # }: one step = 8 levels, half a log-odds unit
    assert dock.threshold.value() == before + 8
    assert float(shown.settings.value("cad/style/heat_threshold")) == shown.cad.style.threshold
    shown.commands["cad_threshold_down"].trigger()
    shown.commands["cad_threshold_down"].trigger()
    assert dock.threshold.value() == before - 8
    assert load_style(shown.settings).threshold == shown.cad.style.threshold


def test_with_a_verifier_the_heatmap_threshold_reads_the_detectors_own_curve(shown, qtbot):
    """The verifier's curve is of the re-scored marks; the heatmap draws the detector's map, whose curve is its own."""
    from mammoview.cad.operating import OperatingCurve
    from mammoview.cad.types import ModelInfo

    result = shown.cad.result
    verifier = ModelInfo(name="test-verifier", version="1.0.0", sha256="cd" * 32)
    two_stage = OperatingCurve(thresholds=(0.99, 0.6), fpi=(0.5, 1.5), sensitivity=(0.6, 0.8))
    verified = replace(result.model, verifier=verifier, operating_curve=two_stage, detector_curve=CURVE)
    assert verified.heatmap_curve is CURVE and result.model.heatmap_curve is result.model.operating_curve
    shown.cad.set_result(replace(result, model=verified))
    dock = shown.cad.dock
    dock.threshold.setValue(threshold_level(0.95))
    rate = CURVE.fp_per_image(shown.cad.style.threshold)
    tip = dock.threshold.toolTip()
    assert f"the detector alone (before verification) made {format_rate(rate, unit=False)} false marks" in tip
    assert dock.operating.isEnabled()  # the marks' operating points read the two-stage curve
    offered = [dock.operating.itemData(i) for i in range(dock.operating.count())]
    assert offered == [0.0] + [r for r, _, _ in two_stage.points()] != [0.0] + [r for r, _, _ in CURVE.points()]
    # a verifier without the detector's curve (e.g. a result from before): no rate rather than a wrong one
    shown.cad.set_result(replace(result, model=replace(verified, detector_curve=None)))
    dock.threshold.setValue(threshold_level(0.90))
    assert "false marks" not in dock.threshold.toolTip()
    shown.cad.set_result(result)
    dock.threshold.setValue(threshold_level(0.95))
    assert f"the CAD made {format_rate(rate, unit=False)} false marks per validation image" in dock.threshold.toolTip()


def test_a_threshold_saved_on_the_old_linear_scale_is_not_carried_over(shown):
    shown.settings.set_value("cad/style/threshold", 0.3)  # the key before the log-odds levels
    assert load_style(shown.settings).threshold == pytest.approx(0.80)
