"""A findings row of a mark whose image no longer hangs as the mark's view (the reader assigned the image to another
view after marking it) centred that view on the image hung there now and drew the selection square on its tissue at
the mark's coordinates: a place on another image, often the other breast, that the reader never marked.  The row
now says where the mark's image is, and highlights nothing.  A measurement's row said the line was selected and that
Del deletes it, with nothing drawn nor selected."""

from __future__ import annotations

from mammoview.io.model import View
from tests.gui import test_read_with_cad
from tests.gui.test_read_with_cad import left_cc_shown_as_right
from tests.gui.test_reader_marks import click_stored

quiet = test_read_with_cad.quiet  # the fixture: message boxes not shown


def test_a_mark_row_whose_image_hangs_elsewhere_highlights_no_other_image(main_window, load, tmp_path, quiet):
    w = main_window
    lcc = left_cc_shown_as_right(w, load, tmp_path / "study")
    w.commands["cad_mark_mode"].trigger()
    click_stored(w.panels[View.RCC], 120, 300)  # R1 on it, as R CC
    w.assign_view(lcc, View.LCC)  # "This image is really… L CC": R CC shows RCC.dcm again
    assert w.panels[View.RCC].image.path.name == "RCC.dcm"
    w.cad.findings.select_row(0)  # the reader clicks R1's row
    assert not w.cad.overlays[View.RCC]._highlight, "R1's square drawn on RCC.dcm, an image it was never placed on"
    assert w.cad.selected_mark is None  # nor is Del about R1 now
    assert "LCC.dcm" in w.statusBar().currentMessage()  # where the mark's image is


def test_a_measurement_row_whose_image_hangs_elsewhere_says_where_it_is(main_window, load, tmp_path, quiet):
    w = main_window
    lcc = left_cc_shown_as_right(w, load, tmp_path / "study")
    m = w.cad.measure_tool.measure(w.panels[View.RCC], (60.0, 200.0), (160.0, 300.0))  # M1 on it, as R CC
    w.assign_view(lcc, View.LCC)
    w.cad.focus_measurement(m)  # the reader clicks M1's row
    message = w.statusBar().currentMessage()
    assert "Del deletes it" not in message, "M1 is said selected, but it is not drawn and Del does nothing"
    assert "LCC.dcm" in message and w.cad.measure_tool.selected is None
