"""Giving a pixel spacing (Image > Pixel spacing, Ctrl+Alt+S) shows the study on screen again with it: the reader's
undo history of marks and measurements survives that (it was emptied, as if another study had been opened), and the
lengths it brings back read in the new spacing's mm."""

from __future__ import annotations

from mammoview.gui.read_state import MarkKind
from mammoview.gui.read_store import ReadStore
from mammoview.gui.reader_marks import ReaderMarks
from mammoview.io.model import View
from tests.gui.conftest import write_view


def test_giving_a_pixel_spacing_keeps_the_undo_history(main_window, load, tmp_path, qtbot):
    folder = tmp_path / "study"
    for view in ("RCC", "LCC", "RMLO", "LMLO"):
        write_view(folder, f"{view}.dcm", view, pixel_spacing=None)  # no spacing in the files (CBIS-DDSM, a PNG)
    w = main_window
    load(w, [folder])
    w.commands["measure"].trigger()
    tool, reader = w.cad.measure_tool, w.cad.reader
    m1 = tool.measure(w.panels[View.LCC], (50.0, 60.0), (150.0, 60.0))
    m2 = tool.measure(w.panels[View.LCC], (50.0, 100.0), (50.0, 150.0))
    assert m1 is not None and m2 is not None and tool.length(m1).text == "100 px"
    assert reader.remove_measurement(m1.id)
    with qtbot.waitSignal(w.studyShown, timeout=30_000):
        w.set_pixel_spacing(0.1)  # what Ctrl+Alt+S does once the reader typed 0.1
    assert [m.id for m in reader.measurements] == [m2.id] and tool.length(m2).text == "5.0 mm"
    assert reader.can_undo and w.cad.actions["undo"].isEnabled()  # the history was gone: "Nothing to undo."
    w.commands["cad_undo"].trigger()  # the deletion of M1
    assert [m.id for m in reader.measurements] == [m1.id, m2.id] and tool.length(m1).text == "10.0 mm"
    drawn = [i.textItem.toPlainText() for i in tool.items(View.LCC) if hasattr(i, "textItem")]
    assert drawn == ["10.0 mm", "5.0 mm"]
    w.commands["cad_undo"].trigger()  # M2
    assert [m.id for m in reader.measurements] == [m1.id]
    w.commands["cad_redo"].trigger()
    assert [m.id for m in reader.measurements] == [m1.id, m2.id]


def test_opening_another_study_still_starts_an_empty_history(tmp_path, qtbot):
    reader = ReaderMarks(ReadStore(tmp_path))
    reader.open_study("P_00001")
    reader.add(View.LCC, "img", 10.0, 20.0, MarkKind.MASS)
    reader.open_study("P_00001")  # the same study shown again (a pixel spacing given): the history stays
    assert reader.can_undo
    reader.open_study("P_00002")
    assert not reader.can_undo and not reader.can_redo
