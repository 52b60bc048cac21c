"""A view in which the CAD finds no breast (a blank exposure) is said in the CAD panel: its scores of 0 read as a
normal breast ("L breast: abnormal 0.00 · malignant 0.00", "CAD done") with nothing saying the CAD read nothing."""

from __future__ import annotations

import numpy as np

from mammoview.io.model import View
from tests.gui import cad_support
from tests.gui.conftest import STUDY_UID, SYNTHETIC_VIEWS, write_view
from tests.synthetic import mammo_dataset, write_dataset

cad_models, cad_window = cad_support.cad_models, cad_support.cad_window


def test_a_view_without_breast_is_said_in_the_cad_panel(cad_window, load, tmp_path, qtbot):
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
    state = window.cad.dock.state_label.text()
    assert "No breast found in L CC" in state and "the CAD read nothing there" in state, state
    assert "R CC" not in state.split("No breast found in")[1].split("(")[0]  # the views with a breast are not named
