"""A view in which the CAD finds no breast (a blank exposure) is said: its scores of 0 read as a normal breast
("L breast: abnormal 0.00 · malignant 0.00", "CAD done") with nothing in the CAD panel nor in the export JSON saying
the CAD read nothing there (the JSON says ``breast_implant`` and ``pixel_spacing_estimated`` per image likewise)."""

from __future__ import annotations

import numpy as np
import pytest

from mammoview.gui.export_findings import export_json
from mammoview.io.model import View
from tests.gui import cad_support
from tests.gui.conftest import STUDY_UID, SYNTHETIC_VIEWS, write_view
from tests.synthetic import mammo_dataset, write_dataset

cad_models, cad_window = cad_support.cad_models, cad_support.cad_window


@pytest.fixture()
def blank_lcc_read(cad_window, load, tmp_path, qtbot):  # type: ignore[no-untyped-def]
    """The window after CAD on a study whose L CC is detector noise only, the first read done (CAD shown)."""
    folder = tmp_path / "study"
    for view in SYNTHETIC_VIEWS:
        if view != "LCC":
            write_view(folder, f"{view}.dcm", view)
    rng = np.random.default_rng(0)
    blank = np.clip(rng.normal(200, 40, (600, 400)), 0, 4095).astype(np.uint16)  # detector noise only
    write_dataset(mammo_dataset(blank, laterality="L", view="CC", study_uid=STUDY_UID), folder / "LCC.dcm")
    window = cad_window
    load(window, [folder])
    assert window.panels[View.LCC].image is not None
    window.cad.run()
    qtbot.waitUntil(lambda: window.cad.result is not None, timeout=30_000)
    window.commands["cad_first_read_done"].trigger()
    return window


def test_a_view_without_breast_is_said_in_the_cad_panel(blank_lcc_read):
    state = blank_lcc_read.cad.dock.state_label.text()
    assert "No breast found in L CC" in state and "the CAD read nothing there" in state, state
    assert "R CC" not in state.split("No breast found in")[1].split("(")[0]  # the views with a breast are not named


def test_the_export_json_says_a_view_had_no_breast(blank_lcc_read):
    doc = export_json(blank_lcc_read, anonymize=True)
    by_name = {e["path"]: e for e in doc["images"]}  # (anonymized: the slot's name)
    assert by_name[View.LCC.value].get("breast_found") is False, by_name[View.LCC.value]
    assert by_name[View.RCC.value].get("breast_found") is True
