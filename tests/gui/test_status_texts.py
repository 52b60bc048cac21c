"""What the status bar says: no worklist to step through, a length measured on the prior, the cursor read-out."""

from __future__ import annotations


def test_pgdown_with_no_study_open_says_there_is_nothing_to_step_to(main_window, load, synthetic_study):
    """PgDown before any study was open said "One study open: …"."""
    w = main_window
    w.commands["next_study"].trigger()
    said = w.statusBar().currentMessage()
    assert said.startswith("No study open: no worklist to step through") and "Ctrl+O" in said, said
    load(w, [synthetic_study])
    w.commands["previous_study"].trigger()
    assert w.statusBar().currentMessage().startswith("One study open: no other to step to")


def test_a_length_measured_on_the_prior_says_it_is_the_priors(main_window, load, qtbot, tmp_path):
    """A line drawn on the prior's L CC was said as "M1: 10.0 mm (L CC)", as on the current exam's L CC."""
    from mammoview.io.model import View
    from tests.gui.test_priors import compare, exams

    w = main_window
    load(w, [exams(tmp_path / "exams", ("a-2024", "b-2022"))])
    compare(w, qtbot)
    w.commands["measure"].trigger()
    w.cad.prior_measure.measure(w.hanging.prior_panels[View.LCC], (50.0, 60.0), (150.0, 60.0))
    assert "10.0 mm (prior's L CC)" in w.statusBar().currentMessage()
    w.cad.measure_tool.measure(w.panels[View.LCC], (50.0, 60.0), (150.0, 60.0))
    assert "10.0 mm (L CC)" in w.statusBar().currentMessage()


def test_the_cursor_read_out_does_not_name_a_panel_the_layout_took_off_screen(main_window, load, qtbot, tmp_path):
    """The mouse over the prior's L CC, then Alt+1 (the keys, the mouse not moved): the status bar still read
    "Prior L CC · x … · stored …", a panel no longer on screen."""
    from mammoview.io.model import View
    from tests.gui.conftest import mouse
    from tests.gui.test_interaction import inner
    from tests.gui.test_priors import compare, exams

    w = main_window
    load(w, [exams(tmp_path / "exams", ("a-2024", "b-2022"))])
    compare(w, qtbot)
    prior = w.hanging.prior_panels[View.LCC]
    mouse(prior.graphics.viewport(), "move", inner(prior))
    assert w._cursor_label.text().startswith("Prior L CC · ")
    w.commands["layout_four"].trigger()
    assert not prior.isVisible() and w._cursor_label.text() == ""


def test_the_cursor_read_out_is_cleared_when_another_study_goes_up(main_window, load, qtbot, tmp_path):
    """The mouse over R CC, then PgDown (the mouse not moved): the read-out still gave the last woman's pixel values
    under the next woman's image until the mouse moved."""
    from mammoview.io.model import View
    from tests.gui.conftest import mouse
    from tests.gui.test_interaction import batch, inner

    w = main_window
    load(w, [batch(tmp_path / "batch")])
    rcc = w.panels[View.RCC]
    mouse(rcc.graphics.viewport(), "move", inner(rcc))
    assert w._cursor_label.text().startswith("R CC")
    with qtbot.waitSignal(w.studyShown, timeout=20_000):
        w.commands["next_study"].trigger()
    assert w._cursor_label.text() == ""
