"""An exam the modality sent as two studies (CC views, MLO views; one Patient ID, Accession Number and Study Date):
one worklist row, four views hung, and the status bar says it was joined."""

from __future__ import annotations

from pathlib import Path

import pydicom

from mammoview.io.model import View
from tests.gui.conftest import write_view


def test_an_exam_sent_as_two_studies_is_one_worklist_row(main_window, load, tmp_path: Path) -> None:
    for view, uid in (("RCC", "1.2.840.5.1"), ("LCC", "1.2.840.5.1"), ("RMLO", "1.2.840.5.2"), ("LMLO", "1.2.840.5.2")):
        path = write_view(tmp_path / uid, f"{view}.dcm", view, study_uid=uid, patient_id="0012345")
        ds = pydicom.dcmread(path)
        ds.AccessionNumber, ds.PatientBirthDate = "ACC77", "19650412"
        ds.save_as(path)
    load(main_window, [tmp_path])
    assert len(main_window.worklist) == 1 and main_window.worklist_panel.tree.topLevelItemCount() == 1
    assert all(main_window.panels[v].image is not None for v in View)
    assert "One exam sent as 2 studies" in main_window.statusBar().currentMessage()
