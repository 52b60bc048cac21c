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
