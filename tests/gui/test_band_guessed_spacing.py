"""The CC/MLO band's distance from the nipple rests on the CAD's guessed spacing where the files have none (CBIS-DDSM
DICOMs, PNGs, the demo study): the band and the status bar mark it "~", as the findings panel's Nipple column does."""

from __future__ import annotations

from dataclasses import replace

from mammoview.cad.types import FindingKind
from mammoview.io.model import View
from tests.gui import cad_support
from tests.gui.cad_support import finding, planted_result

cad_models, cad_window = cad_support.cad_models, cad_support.cad_window


def test_the_band_of_a_guessed_spacing_is_marked_as_a_guess(cad_window, load, synthetic_study):
    w = cad_window
    load(w, [synthetic_study])
    planted = planted_result(w, {View.LCC: [finding(FindingKind.MASS, 30, 260, 0.8, 0.7)]})
    images = tuple(replace(r, spacing_estimated=True,
                           nipple=(0.8 * r.width if r.view in (View.LCC, View.RCC) else r.width * 0.2, r.height / 2))
                   for r in planted.images)  # fmt: skip
    w.cad.set_result(replace(planted, images=images))
    w.commands["cad_first_read_done"].trigger()
    panel = w.cad.findings
    (row,) = [r for r in panel.rows if r.finding is not None]
    assert row.mm_estimated
    item = next(panel.tree.topLevelItem(i) for i in range(panel.tree.topLevelItemCount())
                if panel.tree.topLevelItem(i).childCount())  # fmt: skip
    fn = f"~{row.nipple_mm:.0f}"
    assert any(item.child(k).text(5) == fn for k in range(item.childCount()))  # the panel: "~23"
    panel.select_row(panel.rows.index(row))
    assert w.cad.band.view is View.LMLO
    labels = [i.textItem.toPlainText() for i in w.cad.band.items() if hasattr(i, "textItem")]
    # was "FN 23 ± 20 mm": a guess shown as a measurement, and "FN" (from the nipple) read as false negatives
    assert labels == [f"{fn} ± 20 mm from nipple"], labels
    assert f"at {fn} mm from the nipple" in w.statusBar().currentMessage()
