"""Views a study has no image for are said without a dialog: a worklist of MLO-only studies (mini-MIAS) opened a
modal "no image for R CC, L CC" at every PgDown, blocking the keyboard until it was clicked away, though nothing
had failed.  A file that could not be read still opens the dialog, which then names the missing views too."""

from __future__ import annotations

from mammoview.io.model import View
from tests.gui.conftest import write_view


def test_a_worklist_of_mlo_only_studies_steps_without_a_dialog(main_window, load, qtbot, tmp_path, monkeypatch):
    from mammoview.gui import dialogs

    boxes: list[str] = []
    monkeypatch.setattr(dialogs, "message_box", lambda _p, _i, title, text, details="": boxes.append(text))
    for patient, uid in (("A", "1.2.3.1"), ("B", "1.2.3.2")):
        for view in ("RMLO", "LMLO"):
            write_view(tmp_path / "batch" / patient, f"{view}.dcm", view, study_uid=uid, patient_id=patient)
    load(main_window, [tmp_path / "batch"])
    assert len(main_window.worklist) == 2
    with qtbot.waitSignal(main_window.studyShown, timeout=30_000):
        main_window.step_study(+1)
    assert not boxes, boxes
    said = main_window.statusBar().currentMessage()
    assert "2 view(s) shown. No image for R CC, L CC." in said and "problem" not in said, said
    for view in (View.RCC, View.LCC):
        assert main_window.panels[view].labels.empty_text() == f"{view.label} — no image"
