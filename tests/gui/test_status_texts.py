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
