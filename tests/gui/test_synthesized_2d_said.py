"""A synthesized 2-D view (Image Type GENERATED_2D, computed from tomosynthesis) is read by the CAD like an exposure:
the CAD panel and the export JSON (``synthesized_2d``) say so, as for a breast implant, since the networks were
trained on screen-film exposures only."""

from __future__ import annotations

import pydicom

from mammoview.cad.types import ImageCadResult, StudyCadResult
from mammoview.gui.export_findings import export_json
from mammoview.gui.score_labels import synthesized_text
from mammoview.io.model import View
from tests.gui import cad_support
from tests.gui.conftest import SYNTHETIC_VIEWS, write_view

cad_models, cad_window = cad_support.cad_models, cad_support.cad_window


def test_a_synthesized_2d_view_is_said_in_the_cad_panel_and_the_export(cad_window, load, tmp_path, qtbot):
    folder = tmp_path / "study"
    for view in SYNTHETIC_VIEWS:
        write_view(folder, f"{view}.dcm", view)
    lcc = pydicom.dcmread(folder / "LCC.dcm")
    lcc.ImageType = ["DERIVED", "PRIMARY", "TOMOSYNTHESIS", "GENERATED_2D"]  # PS3.3 C.8.11.7.1.4
    lcc.save_as(folder / "LCC.dcm")
    window = cad_window
    load(window, [folder])
    assert window.panels[View.LCC].image.info.meta.synthesized
    window.cad.run()
    qtbot.waitUntil(lambda: window.cad.result is not None, timeout=30_000)
    window.commands["cad_first_read_done"].trigger()
    state = window.cad.dock.state_label.text()
    assert ("Synthesized 2-D image in L CC (Image Type GENERATED_2D): the CAD was trained on screen-film exposures, "
            "not on images generated from tomosynthesis") in state, state  # fmt: skip
    said = {e["path"]: e["synthesized_2d"] for e in export_json(window, anonymize=True)["images"]}
    assert said == {"RCC": False, "LCC": True, "RMLO": False, "LMLO": False}


def test_only_the_synthesized_views_are_named():
    """A combo exam's L CC (its exposure and its synthesized 2-D both read) is named once; exposures only: nothing."""
    from dataclasses import replace

    def read(view: View, name: str, synthesized: bool = False) -> ImageCadResult:
        return ImageCadResult(path=name, width=400, height=600, view=view, pixel_spacing=(0.1, 0.1),
                              spacing_source="test", abnormal=0.1, malignant=0.05, findings=(),
                              synthesized=synthesized)  # fmt: skip

    images = (read(View.RCC, "rcc.dcm"), read(View.LCC, "lcc.dcm"), read(View.LCC, "lcc_cview.dcm", True))
    result = StudyCadResult(model=cad_support.PLANTED_MODEL, images=images, breasts={}, abnormal=0.1, malignant=0.05)
    assert synthesized_text(result).startswith("Synthesized 2-D image in L CC (Image Type GENERATED_2D):")
    exposures = replace(result, images=images[:2])
    assert synthesized_text(exposures) == ""
