"""An anonymised export whose read holds a mark on an image that is no longer hung (the reader assigned an
unplaced image to a view, marked it, then undid the assignment): the findings' matching rows named that image by
its SOP Instance UID, which the anonymised export promises to leave out (the marks' list already said its view)."""

from __future__ import annotations

import json

import pydicom

from mammoview.gui.export import export_study
from mammoview.gui.read_state import MarkKind, image_key
from mammoview.io.model import View
from tests.gui.cad_support import PLANTED_MODEL, planted_result  # noqa: F401
from tests.gui.conftest import SYNTHETIC_VIEWS, write_view


def test_a_mark_on_an_image_no_longer_hung_does_not_leak_its_uid(main_window, load, tmp_path, monkeypatch):
    from mammoview.gui import dialogs

    monkeypatch.setattr(dialogs, "message_box", lambda *a, **k: None)
    folder = tmp_path / "study"
    for view in SYNTHETIC_VIEWS:
        write_view(folder, f"{view}.dcm", view)
    extra = write_view(folder, "extra.dcm", "LCC", laterality=None, projection=None)
    uid = str(pydicom.dcmread(extra, stop_before_pixels=True).SOPInstanceUID)
    w = main_window
    load(w, [folder])
    menu = w.commands.context_menu(w.panels[View.RCC])
    next(a for a in menu.actions() if a.text().startswith("Show extra.dcm here")).trigger()
    assert image_key(w.panels[View.RCC].image) == uid
    w.cad.reader.add(View.RCC, uid, 100, 200, MarkKind.MASS)  # the reader marks it
    menu = w.commands.context_menu(w.panels[View.RCC])
    next(a for a in menu.actions() if a.text().startswith("Undo the view assigned")).trigger()
    assert w.panels[View.RCC].image.path.name == "RCC.dcm"
    w.cad.set_result(planted_result(w, {}))
    w.commands["cad_first_read_done"].trigger()
    out = export_study(w, tmp_path / "out" / "x.png", anonymize=True)
    doc = json.loads(out.json.read_text())
    assert any(m["view"] == "RCC" for m in doc["reader_marks"])
    assert doc["matching"]["rows"], "the mark is listed"
    text = out.json.read_text()
    assert uid not in text and "extra.dcm" not in text
