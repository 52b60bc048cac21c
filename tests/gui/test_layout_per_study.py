"""The layout a study opens in: the CC-only and MLO-only layouts (Alt+2 / Alt+3) and the comparisons with the prior
(Alt+5 / Alt+6) carried over to the next study and were remembered between sessions, so that the next woman's
exam could open showing two of her four views and a first read be done without the others on screen.  As a hanging
protocol starts each study at its first step, a study opens at the four-view layout the reader hangs (Alt+1, or
Alt+4 with the MLO pair on top); a pair layout stays only for the study on which it was chosen."""

from __future__ import annotations

import pytest

from mammoview.gui.hanging_layout import Layout
from mammoview.io.model import View
from tests.gui.conftest import SYNTHETIC_VIEWS, write_view
from tests.gui.test_priors import compare, exams
from tests.gui.test_worklist import step


def without_spacing(folder):  # type: ignore[no-untyped-def]
    """Two women's four-view studies whose files carry no pixel spacing."""
    for n, pid in enumerate(("PAT-A", "PAT-B")):
        for view in SYNTHETIC_VIEWS:
            write_view(folder / pid, f"{view}.dcm", view, study_uid=f"1.2.3.{n + 1}", patient_id=pid,
                       pixel_spacing=None)  # fmt: skip
    return folder


@pytest.mark.parametrize("four, pair", [("layout_four", "layout_cc"), ("layout_four_mlo_top", "layout_mlo")])
def test_the_next_study_opens_at_the_four_view_layout(main_window, load, qtbot, tmp_path, four, pair):
    w = main_window
    load(w, [without_spacing(tmp_path / "batch")])
    w.commands[four].trigger()
    w.commands[pair].trigger()
    assert len(w.hanging.visible_views()) == 2
    with qtbot.waitSignal(w.studyShown, timeout=20_000):
        w.set_pixel_spacing(0.1)  # the same study shown again: the layout chosen on it stays
    assert len(w.hanging.visible_views()) == 2 and w.commands[pair].isChecked()
    step(w, qtbot, "next_study")
    expected = Layout.FOUR if four == "layout_four" else Layout.FOUR_MLO_TOP
    assert w.hanging.layout_mode is expected and set(w.hanging.visible_views()) == set(View)
    assert all(p.isVisible() for p in w.panels.values()) and w.commands[four].isChecked()


def test_a_new_window_starts_at_the_four_view_layout_not_a_pair(main_window, qtbot):
    from mammoview.gui.main_window import MainWindow

    main_window.commands["layout_four_mlo_top"].trigger()
    main_window.commands["layout_mlo"].trigger()
    again = MainWindow(settings=main_window.settings)  # the next session
    qtbot.addWidget(again)
    assert again.hanging.layout_mode is Layout.FOUR_MLO_TOP and again.commands["layout_four_mlo_top"].isChecked()
    again.priors.shutdown()


def test_the_next_study_opens_at_the_four_views_not_over_its_prior(main_window, load, qtbot, tmp_path):
    """A comparison belongs to the study it was hung on: stepping to the woman's prior (itself with a prior) opened
    it in the comparison, a pair of her views on screen."""
    w = main_window
    load(w, [exams(tmp_path / "exams", ("a-2024", "b-2022", "c-2019"))])
    compare(w, qtbot)
    step(w, qtbot, "next_study")  # the 2022 exam, whose prior is the 2019 one
    assert w.hanging.layout_mode is Layout.FOUR and w.hanging.prior_views() == []
    assert not any(p.isVisible() for p in w.hanging.prior_panels.values())


def test_a_study_of_one_projection_opens_at_its_pair(main_window, load, qtbot, tmp_path):
    """An exam of MLO views alone (mini-MIAS's, a follow-up) went up in the four-view layout, half the screen two
    empty "no image" panels and its images at half the size: it opens at its pair, every image it has on screen; the
    next exam, of four views, at the four-view layout again."""
    folder = tmp_path / "batch"
    for view in ("RMLO", "LMLO"):
        write_view(folder / "PAT-A", f"{view}.dcm", view, study_uid="1.2.3.1", patient_id="PAT-A")
    for view in SYNTHETIC_VIEWS:
        write_view(folder / "PAT-B", f"{view}.dcm", view, study_uid="1.2.3.2", patient_id="PAT-B")
    w = main_window
    load(w, [folder])
    assert w.hanging.layout_mode is Layout.MLO and set(w.hanging.visible_views()) == {View.RMLO, View.LMLO}
    step(w, qtbot, "next_study")
    assert w.hanging.layout_mode is Layout.FOUR and set(w.hanging.visible_views()) == set(View)
