"""Views the reader assigns or the file names: what the title says, undoing an assignment, the CAD after one."""

from __future__ import annotations

import pydicom
import pytest

from mammoview.io.model import Laterality, View
from tests.gui.cad_support import cad_models, cad_window  # noqa: F401  (fixtures)
from tests.gui.conftest import SYNTHETIC_VIEWS, write_view
from tests.synthetic import code_item


@pytest.fixture()
def mislabelled(cad_window, load, tmp_path, monkeypatch):  # type: ignore[no-untyped-def]  # noqa: F811
    """The CAD window on a study whose left CC the modality labelled R (it hangs behind R CC, L CC is empty)."""
    from mammoview.gui import dialogs

    monkeypatch.setattr(dialogs, "message_box", lambda *a, **k: None)
    folder = tmp_path / "study"
    for view in SYNTHETIC_VIEWS:
        if view != "LCC":
            write_view(folder, f"{view}.dcm", view)
    write_view(folder, "LCC.dcm", "LCC", laterality="R")
    load(cad_window, [folder])
    return cad_window


def left_cc(window):  # type: ignore[no-untyped-def]
    """The mislabelled left CC's display (among R CC's images)."""
    return next(d for d in window.choices[View.RCC] if d.image.path.name == "LCC.dcm")


def test_cad_after_the_reader_moves_a_mislabelled_image_uses_its_new_side(mislabelled, qtbot):
    window = mislabelled
    assert window.panels[View.LCC].image is None and len(window.choices[View.RCC]) == 2
    window.cad.run()
    qtbot.waitUntil(lambda: window.cad.result is not None, timeout=30_000)
    first = window.cad.result
    assert first.breasts[Laterality.RIGHT].n_views == 3 and first.breasts[Laterality.LEFT].n_views == 1
    # the reader shows it where it belongs ("This image is really… L CC"), then asks the CAD again
    window.assign_view(left_cc(window), View.LCC)
    assert window.panels[View.LCC].image.path.name == "LCC.dcm"
    # the result on screen counted it in the right breast: dropped at once (first read not done: not re-run)
    assert window.cad.result is None and "views changed" in window.statusBar().currentMessage()
    window.cad.run()
    qtbot.wait(50)
    qtbot.waitUntil(lambda: window.cad.result is not None and not window.cad.runner.running, timeout=30_000)
    result = window.cad.result
    lcc_result = window.cad.result_for(window.panels[View.LCC].image)
    assert lcc_result is not None and lcc_result.view is View.LCC
    assert result.breasts[Laterality.LEFT].n_views == 2 and result.breasts[Laterality.RIGHT].n_views == 2


def test_a_mistaken_assignment_of_an_unplaced_image_can_be_undone(main_window, load, tmp_path, monkeypatch):
    from mammoview.gui import dialogs

    monkeypatch.setattr(dialogs, "message_box", lambda *a, **k: None)
    folder = tmp_path / "study"
    for view in SYNTHETIC_VIEWS:
        write_view(folder, f"{view}.dcm", view)
    write_view(folder, "extra.dcm", "LCC", laterality=None, projection=None)  # no view in its tags or name
    window = main_window
    load(window, [folder])
    assert [d.image.path.name for d in window.unplaced] == ["extra.dcm"]
    menu = window.commands.context_menu(window.panels[View.RCC])
    assign = next(a for a in menu.actions() if a.text().startswith("Show extra.dcm here"))
    assign.trigger()  # a slip: it is not the right CC
    assert window.panels[View.RCC].image.path.name == "extra.dcm"
    assert window.unplaced == []
    # the reader wants it back among the unplaced images: the panel's menu offers it
    menu = window.commands.context_menu(window.panels[View.RCC])
    undo = [a for a in menu.actions() if a.text().startswith("Undo the view assigned")]
    assert undo, "the assignment cannot be undone"
    undo[0].trigger()
    assert [d.image.path.name for d in window.unplaced] == ["extra.dcm"]
    assert window.panels[View.RCC].image.path.name == "RCC.dcm"
    assert [d.image.path.name for d in window.choices[View.RCC]] == ["RCC.dcm"]  # the CAD no longer reads it as R CC


@pytest.mark.parametrize(
    ("slot", "position", "code"),
    [
        ("RMLO", "ML", ("SCT", "399260004", "medio-lateral")),
        ("LMLO", "LM", ("SCT", "399352003", "latero-medial")),
        ("RCC", "XCCL", ("SCT", "399192008", "cranio-caudal exaggerated laterally")),
        ("LCC", "FB", ("SCT", "399196006", "caudo-cranial (from below)")),
    ],
)
@pytest.mark.parametrize("tag", ["ViewPosition", "ViewCodeSequence"])
def test_a_view_hung_in_another_views_slot_is_named_on_its_panel(main_window, load, tmp_path, monkeypatch, slot,
                                                                 position, code, tag):  # fmt: skip
    from mammoview.gui import dialogs

    monkeypatch.setattr(dialogs, "message_box", lambda *a, **k: None)
    folder = tmp_path / "study"
    for view in SYNTHETIC_VIEWS:
        if view != slot:
            write_view(folder, f"{view}.dcm", view)
    path = write_view(folder, f"{slot}_{position}.dcm", slot)
    ds = pydicom.dcmread(path)
    if tag == "ViewPosition":
        ds.ViewPosition = position
    else:
        del ds.ViewPosition
        ds.ViewCodeSequence = [code_item(*code)]
    ds.save_as(path)
    load(main_window, [folder])
    panel = main_window.panels[View(slot)]
    assert panel.image is not None and panel.image.path.name == path.name
    # an ML / LM / XCCL ... is not the MLO / CC its slot is named after: the reader must be told
    title = panel.labels.title.text()
    extra = title.split("<small>", 1)[1].split("</small>", 1)[0] if "<small>" in title else ""
    assert position in extra.split(" · "), title


def test_an_assignment_after_the_first_read_computes_the_cad_again(mislabelled, qtbot):
    """With CAD shown, moving an image to its right view left the breast scores of the old view on screen."""
    window = mislabelled
    window.commands["cad_first_read_done"].trigger()
    qtbot.waitUntil(lambda: window.cad.result is not None, timeout=30_000)
    with qtbot.waitSignal(window.cad.runner.resultReady, timeout=30_000):
        window.assign_view(left_cc(window), View.LCC)
    qtbot.waitUntil(lambda: window.cad.result is not None, timeout=30_000)
    assert window.cad.result.breasts[Laterality.LEFT].n_views == 2
    with qtbot.waitSignal(window.cad.runner.resultReady, timeout=30_000):  # undone: the old views again
        window.undo_assignment(window.panels[View.LCC].display)
    qtbot.waitUntil(lambda: window.cad.result is not None, timeout=30_000)
    assert window.cad.result.breasts[Laterality.LEFT].n_views == 1


def test_an_assignment_while_the_cad_runs_does_not_show_the_old_views_result(mislabelled, qtbot):
    """A view assigned while the CAD still ran on the old views: that run's result landed on screen."""
    window = mislabelled
    window.commands["cad_first_read_done"].trigger()  # CAD shown from now on: it starts
    assert window.cad.runner.running
    window.assign_view(left_cc(window), View.LCC)  # while that run (of the old views) is still going
    qtbot.wait(200)
    qtbot.waitUntil(lambda: not window.cad.runner.running and window.cad.result is not None, timeout=30_000)
    lcc_result = window.cad.result_for(window.panels[View.LCC].image)
    assert lcc_result is not None and lcc_result.view is View.LCC
    assert window.cad.result.breasts[Laterality.LEFT].n_views == 2
    assert window.cad.result.breasts[Laterality.RIGHT].n_views == 2
