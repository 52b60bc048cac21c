"""A shown CAD mark's score never reads below the threshold the marks are said to be cut at."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from mammoview.cad.operating import describe_point, format_threshold
from mammoview.cad.types import FindingKind
from mammoview.gui.marks import format_score
from mammoview.io.model import View
from tests.gui import cad_support
from tests.gui.cad_support import PLANTED_MODEL, finding, planted_result

cad_models, cad_window = cad_support.cad_models, cad_support.cad_window


@pytest.mark.parametrize("threshold", [0.983, 0.9849, 0.5013, 0.97, 0.99949, 0.9995, 0.99971, 0.8])
def test_a_score_at_or_above_the_threshold_never_prints_below_it(threshold):
    shown = float(describe_point(threshold, None).split()[-1])
    assert shown == float(format_threshold(threshold))
    for p in np.linspace(threshold, 1.0, 2001):
        assert float(format_score(float(p), threshold)) >= shown, (p, threshold)


def test_the_threshold_adds_decimals_only_where_two_would_read_below_it():
    assert format_score(0.9846, 0.983) == "0.985"  # "0.98" beside "p >= 0.983"
    assert format_score(0.9846) == "0.98"  # no threshold said: as before
    assert format_score(0.87, 0.5) == "0.87" and format_score(0.503, 0.5) == "0.50"  # ordinary values: 2 decimals
    assert format_score(0.503, 0.501) == "0.503"
    assert format_score(0.9996, 0.99955) == "1.000"  # three decimals already reach the four of the threshold
    assert format_score(0.97, 0.983) == "0.97"  # below the threshold (a breast's score without marks): as it is


def test_labels_findings_panel_and_breast_score_agree_with_the_note(cad_window, load, synthetic_study, qtbot):
    w = cad_window
    load(w, [synthetic_study])
    result = planted_result(w, {View.LCC: [finding(FindingKind.MASS, 120, 300, 0.9846, 0.31)]})
    w.cad.set_result(replace(result, model=replace(PLANTED_MODEL, finding_threshold=0.983)))
    w.commands["cad_first_read_done"].trigger()
    qtbot.wait(20)
    assert "p \u2265 0.983" in w.cad.findings.note.text()
    (label,) = w.cad.overlays[View.LCC].layers["scores:mass"]
    assert label.textItem.toPlainText().split()[0] == "0.985"
    group = w.cad.findings.tree.topLevelItem(1)
    assert group.text(0) == "CAD only (1)"
    row = group.child(0)
    assert row.text(1) == "mass 0.985" and row.text(3) == "0.31"
    assert "abnormal 0.985 " in w.cad.scores.shown_texts()[View.LCC]
    assert "Exam: abnormal 0.985 " in w.cad.dock.state_label.text()
