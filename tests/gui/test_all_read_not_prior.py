"""A worklist whose studies are all read (reopened to review them) opens its first study to read, not a listed prior:
README, "such a prior ... is not opened first"."""

from __future__ import annotations

from mammoview.io.model import View
from mammoview.io.study import read_key
from tests.gui.test_priors import date_of, exams


def test_a_fully_read_worklist_does_not_open_a_prior_first(main_window, load, tmp_path):
    w = main_window
    root = exams(tmp_path / "exams", oldest_first=True)  # folders 20190301, 20220515, 20240601: the priors listed first
    load(w, [root])
    assert date_of(w.panels[View.RCC]) == "20240601" and w.worklist.current == 2
    w.cad.reader.set_first_read_done()  # the batch's only study to read is read
    assert w.worklist.store.peek(read_key(w.worklist.entries[2].study)).first_read_done
    load(w, [root])  # reopened (File ▸ Reopen last worklist) to review it
    assert w.worklist.current not in w.worklist.prior_of, w.worklist.status_text(w.worklist.current)
    assert date_of(w.panels[View.RCC]) == "20240601"
