"""The export JSON of a study with a view in which the CAD found no breast: its scores of 0 and no finding must not
read as a normal view there either (the JSON says ``breast_implant`` and ``pixel_spacing_estimated`` per image)."""

from __future__ import annotations

import numpy as np

from mammoview.gui.export import export_json
from mammoview.io.model import View
from tests.gui import cad_support
from tests.gui.conftest import STUDY_UID, SYNTHETIC_VIEWS, write_view
from tests.synthetic import mammo_dataset, write_dataset

cad_models, cad_window = cad_support.cad_models, cad_support.cad_window


def test_the_export_json_says_a_view_had_no_breast(cad_window, load, tmp_path, qtbot):
    folder = tmp_path / "study"
    for view in SYNTHETIC_VIEWS:
        if view != "LCC":
            write_view(folder, f"{view}.dcm", view)
    rng = np.random.default_rng(0)
    blank = np.clip(rng.normal(200, 40, (600, 400)), 0, 4095).astype(np.uint16)  # detector noise only
    write_dataset(mammo_dataset(blank, laterality="L", view="CC", study_uid=STUDY_UID), folder / "LCC.dcm")
    window = cad_window
    load(window, [folder])
    window.cad.run()
    qtbot.waitUntil(lambda: window.cad.result is not None, timeout=30_000)
    window.commands["cad_first_read_done"].trigger()
    doc = export_json(window, anonymize=True)
    by_name = {e["path"]: e for e in doc["images"]}  # (anonymized: the slot's name)
    assert by_name[View.LCC.value].get("breast_found") is False, by_name[View.LCC.value]
    assert by_name[View.RCC.value].get("breast_found") is True
