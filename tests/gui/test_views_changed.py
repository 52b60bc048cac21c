"""a view assigned while the CAD is still running must not leave the old views' result on screen."""

from __future__ import annotations

from mammoview.io.model import Laterality, View
from tests.gui.cad_support import cad_models, cad_window  # noqa: F401  (fixtures)
from tests.gui.conftest import SYNTHETIC_VIEWS, write_view


def test_an_assignment_while_the_cad_runs_does_not_show_the_old_views_result(cad_window, load, tmp_path, qtbot,  # noqa: F811
                                                                              monkeypatch):  # fmt: skip
    from mammoview.gui import dialogs

    monkeypatch.setattr(dialogs, "message_box", lambda *a, **k: None)
    folder = tmp_path / "study"
    for view in SYNTHETIC_VIEWS:
        if view != "LCC":
            write_view(folder, f"{view}.dcm", view)
    write_view(folder, "LCC.dcm", "LCC", laterality="R")  # the left CC, labelled R by the modality
    window = cad_window
    load(window, [folder])
    window.commands["cad_first_read_done"].trigger()  # CAD shown from now on: it starts
    assert window.cad.runner.running
    lcc = next(d for d in window.choices[View.RCC] if d.image.path.name == "LCC.dcm")
    window.assign_view(lcc, View.LCC)  # while that run (of the old views) is still going
    qtbot.waitUntil(lambda: not window.cad.runner.running and window.cad.result is not None, timeout=30_000)
    qtbot.wait(200)
    qtbot.waitUntil(lambda: not window.cad.runner.running and window.cad.result is not None, timeout=30_000)
    result = window.cad.result
    lcc_result = window.cad.result_for(window.panels[View.LCC].image)
    assert lcc_result is not None and lcc_result.view is View.LCC
    assert result.breasts[Laterality.LEFT].n_views == 2 and result.breasts[Laterality.RIGHT].n_views == 2
