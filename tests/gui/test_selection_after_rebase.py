"""A mark (or measurement) selected while its save waited (the reads folder another viewer's) is renumbered by the save
that adds it to the read that viewer saved meanwhile: the selection follows it to its new number, and Del deletes it."""

from __future__ import annotations

from PySide6 import QtCore

from mammoview.gui.read_state import Measurement, ReadState, image_key
from mammoview.io.model import View
from tests.gui.test_read_saved_meanwhile import mark, saved_by_another_viewer
from tests.gui.test_reader_marks import selected_r1
from tests.gui.test_reads_saved_again import refused_window, the_other_viewer_quits  # noqa: F401  (fixture)


def test_a_selected_mark_renumbered_by_a_rebase_stays_selected_and_del_deletes_it(
    refused_window,  # noqa: F811  (the fixture)
    load,
    synthetic_study,
    qtbot,
):
    """The selection kept the mark as numbered before (R1, the other viewer's now): its square stayed where the mark
    is, and Del said "R1 is not on screen"."""
    w = refused_window
    load(w, [synthetic_study])
    reader = w.cad.reader
    selected_r1(w)  # placed (not saved: the folder is the other viewer's) and selected
    (ours,) = reader.marks
    assert w.cad.selected_mark == ours and reader.unsaved
    saved_by_another_viewer(reader.store.folder, reader.read_key.key, ReadState(marks=(mark(1, View.LMLO),)))
    the_other_viewer_quits(w)
    qtbot.waitUntil(lambda: w.reads_refused is None, timeout=5_000)
    assert [(m.id, m.view) for m in reader.marks] == [(1, View.LMLO), (2, View.RCC)] and not reader.unsaved
    assert w.cad.selected_mark == reader.marks[1], w.cad.selected_mark
    assert w.cad.overlays[View.RCC]._highlight  # (its square, where the mark is)
    w.commands["cad_delete_mark"].trigger()
    QtCore.QCoreApplication.processEvents()
    assert [m.view for m in reader.marks] == [View.LMLO], w.statusBar().currentMessage()
    assert "R2 deleted" in w.statusBar().currentMessage(), w.statusBar().currentMessage()


def test_a_selected_measurement_renumbered_by_a_rebase_stays_selected_and_del_deletes_it(
    refused_window,  # noqa: F811  (the fixture)
    load,
    synthetic_study,
    qtbot,
):
    """The selection kept the measurement as numbered before (M1, the other viewer's now, on another view): that one
    was drawn highlighted, and the reader's own went unselected."""
    w = refused_window
    load(w, [synthetic_study])
    reader, tool = w.cad.reader, w.cad.measure_tool
    image = image_key(w.panels[View.RCC].image)
    ours = reader.add_measurement(View.RCC, image, (50.0, 60.0), (90.0, 120.0))
    assert ours is not None and reader.unsaved
    tool.select(ours)
    theirs = Measurement(1, View.LCC, image_key(w.panels[View.LCC].image), 10.0, 10.0, 40.0, 40.0, created="2024")
    saved_by_another_viewer(reader.store.folder, reader.read_key.key, ReadState(measurements=(theirs,)))
    the_other_viewer_quits(w)
    qtbot.waitUntil(lambda: w.reads_refused is None, timeout=5_000)
    assert [(m.id, m.view) for m in reader.measurements] == [(1, View.LCC), (2, View.RCC)] and not reader.unsaved
    assert tool.selected == reader.measurements[1], tool.selected
    w.commands["cad_delete_mark"].trigger()
    assert [m.view for m in reader.measurements] == [View.LCC], w.statusBar().currentMessage()
