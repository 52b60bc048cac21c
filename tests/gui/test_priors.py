"""The prior exam under the current one (View ▸ Layout ▸ CC / MLO pair over the prior's, Alt+5 / Alt+6)."""

from __future__ import annotations

import copy
import threading
from pathlib import Path

import pytest
from PySide6 import QtCore

from mammoview.gui import prior_compare
from mammoview.gui.export_picture import grab_shown
from mammoview.gui.hanging_layout import Layout
from mammoview.gui.loader import load_job
from mammoview.gui.prior_compare import NO_PRIOR, UNREADABLE
from mammoview.gui.window_level import dragged
from mammoview.io.model import LoadError, View
from tests.gui.conftest import drag, write_view

#: folder -> (Study Instance UID, Study Date); one patient's three exams
EXAMS = {"a-2024": ("1.2.3.24", "20240601"), "b-2022": ("1.2.3.22", "20220515"), "c-2019": ("1.2.3.19", "20190301")}


def exams(folder: Path, names: tuple[str, ...] = tuple(EXAMS), prior_spacing: object = (0.1, 0.1),
          oldest_first: bool = False) -> Path:  # fmt: skip
    """One patient's exams (the current one at 0.1 mm, the others at ``prior_spacing``; None: no spacing), in
    folders that list the newest first (or the oldest)."""
    for name in names:
        uid, date = EXAMS[name]
        spacing = (0.1, 0.1) if name == "a-2024" else prior_spacing
        sub = date if oldest_first else name
        for view in ("RCC", "LCC", "RMLO", "LMLO"):
            write_view(folder / sub, f"{view}.dcm", view, study_uid=uid, study_date=date, patient_id="PAT-1",
                       pixel_spacing=spacing)  # fmt: skip
    return folder


def ranges(panel) -> list[float]:  # type: ignore[no-untyped-def]
    (x0, x1), (y0, y1) = panel.view_box.viewRange()
    return [x0, x1, y0, y1]


def screen_px_per_mm(panel) -> float:  # type: ignore[no-untyped-def]
    return panel.device_scale() / panel.image.info.spacing.row_mm


def date_of(panel) -> str:  # type: ignore[no-untyped-def]
    return panel.image.info.meta.study_date if panel.image is not None else ""


def compare(window, qtbot, layout: Layout = Layout.PRIOR_CC):  # type: ignore[no-untyped-def]
    """Hang ``layout`` and wait until the prior's panels are filled (or said empty)."""
    with qtbot.waitSignal(window.priors.priorShown, timeout=20_000) as blocker:
        window.commands[f"layout_{layout.name.lower()}"].trigger()
    return blocker.args[0]


@pytest.fixture()
def opened(main_window, load, tmp_path):  # type: ignore[no-untyped-def]
    load(main_window, [exams(tmp_path / "exams")])
    assert date_of(main_window.panels[View.RCC]) == "20240601"  # the worklist opens the first (newest) exam
    return main_window


def test_the_prior_pair_hangs_under_the_current_pair(opened, qtbot):
    w = opened
    prior = compare(w, qtbot)
    assert prior is not None and prior.study.key == "1.2.3.22"  # the most recent earlier exam
    hanging = w.hanging
    assert hanging.prior_views() == [View.RCC, View.LCC]
    for view in (View.RCC, View.LCC):
        top, bottom = w.panels[view], hanging.prior_panels[view]
        assert top.isVisible() and bottom.isVisible() and date_of(top) == "20240601" and date_of(bottom) == "20220515"
        assert bottom.geometry().top() > top.geometry().bottom()  # below, same column
        assert abs(bottom.geometry().left() - top.geometry().left()) <= 1
        assert "prior (1 of 2) · 2 years before" in bottom.labels.title.text()
        assert bottom.display is not None and bottom.display.image.view is view  # mirrored like the current pair
    assert not any(p.isVisible() for v, p in w.panels.items() if v.projection.value == "MLO")
    assert not hanging.prior_panels[View.RMLO].isVisible()
    assert "Prior 2022-05-15" in hanging.prior_panels[View.LCC].labels.study.text()
    said = "Compared with the prior of 2022-05-15 (2 years before); Shift+P: an older one."
    assert w.statusBar().currentMessage() == said

    w.commands["magnifier"].trigger()
    w.commands["overlay"].trigger()  # patient/study text off: the prior's date goes too
    assert hanging.prior_panels[View.LCC].magnifier_enabled and hanging.prior_panels[View.LCC].labels.study.text() == ""
    w.commands["overlay"].trigger()

    mlo = compare(w, qtbot, Layout.PRIOR_MLO)  # the decoded prior is kept: no second load
    assert mlo is prior and date_of(hanging.prior_panels[View.LMLO]) == "20220515"
    w.commands["layout_four"].trigger()
    assert hanging.prior_views() == [] and not any(p.isVisible() for p in hanging.prior_panels.values())
    assert w.four_layout is Layout.FOUR  # the comparison is not the four-view layout Home returns to


def test_older_prior_steps_back_and_wraps(opened, qtbot):
    w = opened
    compare(w, qtbot)
    with qtbot.waitSignal(w.priors.priorShown, timeout=20_000) as blocker:
        w.commands["older_prior"].trigger()
    assert blocker.args[0].study.key == "1.2.3.19"
    panel = w.hanging.prior_panels[View.LCC]
    assert date_of(panel) == "20190301" and "prior (2 of 2) · 5 years before" in panel.labels.title.text()
    with qtbot.waitSignal(w.priors.priorShown, timeout=20_000):
        w.commands["older_prior"].trigger()
    assert date_of(panel) == "20220515"


def test_an_exam_without_prior_says_so(main_window, load, tmp_path, qtbot):
    w = main_window
    load(w, [exams(tmp_path / "exams", ("c-2019",))])
    assert compare(w, qtbot) is None
    panel = w.hanging.prior_panels[View.RCC]
    assert panel.isVisible() and panel.image is None
    assert NO_PRIOR in panel.labels.empty_text()
    assert "No prior study of this patient" in w.statusBar().currentMessage()


def test_stepping_to_the_prior_in_the_worklist_compares_it_with_its_own_prior(opened, load, qtbot):
    w = opened
    compare(w, qtbot)
    with qtbot.waitSignal(w.studyShown, timeout=20_000):
        w.commands["next_study"].trigger()  # it opens at the four views (tests/gui/test_layout_per_study.py)
    assert date_of(w.panels[View.RCC]) == "20220515"
    assert "view(s) shown" in w.statusBar().currentMessage()  # the study's own status line is not replaced
    compare(w, qtbot)
    assert date_of(w.hanging.prior_panels[View.RCC]) == "20190301"


def test_window_level_drag_on_the_prior_moves_the_prior_only(opened, qtbot):
    w = opened
    compare(w, qtbot)
    bottom, other, top = (w.hanging.prior_panels[View.RCC], w.hanging.prior_panels[View.LCC], w.panels[View.RCC])
    before = (bottom.window_state, other.window_state, top.window_state)
    viewport = bottom.graphics.viewport()
    c = viewport.rect().center()
    drag(viewport, (c.x(), c.y()), (c.x() + 60, c.y() + 40), QtCore.Qt.MouseButton.RightButton)
    assert bottom.window_state != before[0] and other.window_state != before[1]  # synchronised within the prior
    assert top.window_state == before[2]  # the current study keeps its window


def test_export_hides_the_priors_text_when_anonymised(opened, qtbot):
    w = opened
    compare(w, qtbot)
    label = w.hanging.prior_panels[View.LCC].labels.study
    seen = []
    original = w.hanging.grab

    def grab(*args):  # type: ignore[no-untyped-def]
        seen.append(label.isVisible())
        return original(*args)

    w.hanging.grab = grab  # type: ignore[method-assign]
    image = grab_shown(w, active_only=False, anonymize=True)
    assert seen == [False] and label.isVisible()  # hidden for the picture, back afterwards
    assert image.height() > 0


def test_one_spacing_one_scale_and_the_prior_pair_follows_the_current_pair(opened, qtbot):
    w = opened
    compare(w, qtbot)
    assert w.priors.cross_linked
    top, bottom = w.panels[View.LCC], w.hanging.prior_panels[View.LCC]
    assert top.device_scale() == pytest.approx(bottom.device_scale(), rel=1e-3)
    top.view_box.scaleBy((0.5, 0.5))  # the reader zooms in on the current L CC
    qtbot.wait(20)
    assert ranges(bottom) == pytest.approx(ranges(top), rel=1e-6)
    assert w.hanging.prior_panels[View.RCC].device_scale() == pytest.approx(top.device_scale(), rel=1e-3)
    w.commands["layout_four"].trigger()  # out of the comparison: the prior no longer follows
    w.panels[View.LCC].view_box.scaleBy((0.5, 0.5))
    assert ranges(bottom) != pytest.approx(ranges(top), rel=1e-6)


def test_different_spacings_same_mm_per_screen_pixel_not_linked(main_window, load, tmp_path, qtbot):
    w = main_window
    load(w, [exams(tmp_path / "exams", ("a-2024", "b-2022"), prior_spacing=(0.05, 0.05))])
    compare(w, qtbot)
    assert not w.priors.cross_linked
    for view in (View.RCC, View.LCC):
        top, bottom = w.panels[view], w.hanging.prior_panels[view]
        assert screen_px_per_mm(top) == pytest.approx(screen_px_per_mm(bottom), rel=1e-3)
        assert bottom.device_scale() == pytest.approx(top.device_scale() / 2, rel=1e-3)  # half the mm per pixel


def test_without_spacing_each_row_is_fitted_on_its_own(main_window, load, tmp_path, qtbot):
    w = main_window
    load(w, [exams(tmp_path / "exams", ("a-2024", "b-2022"), prior_spacing=None)])
    compare(w, qtbot)
    assert not w.priors.cross_linked
    bottom = w.hanging.prior_panels[View.LCC]
    assert bottom.fitted and bottom.display is not None


def test_the_worklist_opens_the_newest_exam_and_names_the_priors(main_window, load, tmp_path, qtbot):
    w = main_window
    load(w, [exams(tmp_path / "exams", oldest_first=True)])  # listed 2019, 2022, 2024
    wl = w.worklist
    assert date_of(w.panels[View.RCC]) == "20240601" and wl.current == 2  # not the 2019 exam, first in the list
    assert wl.prior_of == {0: 2, 1: 2} and wl.unread() == [2]
    assert [wl.status_text(i) for i in range(3)] == ["prior of #3", "prior of #3", "not read"]
    assert w.worklist_panel.tree.topLevelItem(0).text(2) == "prior of #3"
    assert wl.summary() == "Study 3 of 3 · 0 read · 2 priors"
    assert wl.neighbour(-1, unread_only=True) is None and wl.neighbour(-1) == 1  # PgUp still visits the priors


def test_a_prior_image_that_cannot_be_decoded_is_named_and_the_rest_shown(main_window, load, tmp_path, qtbot):
    w = main_window
    folder = exams(tmp_path / "exams", ("a-2024", "b-2022"))
    load(w, [folder])
    w.prefetch.cancel()  # the worklist's next study is the prior: its background decode must not stand in for it
    w._prefetched = None
    broken = folder / "b-2022" / "RCC.dcm"
    broken.write_bytes(broken.read_bytes()[:1000])  # cut short after the folder was read (a copy still running)
    with qtbot.waitSignal(w.problemsReported, timeout=20_000) as blocker:
        compare(w, qtbot)
    title, text = blocker.args
    assert title == "Prior study opened with problems" and "RCC.dcm" in text
    rcc, lcc = w.hanging.prior_panels[View.RCC], w.hanging.prior_panels[View.LCC]
    assert rcc.image is None and UNREADABLE in rcc.labels.empty_text()
    assert date_of(lcc) == "20220515"  # the other view of the prior is shown
    assert date_of(w.panels[View.RCC]) == "20240601"  # and the current study is untouched


def test_the_prefetched_next_study_is_the_prior_without_a_second_decode(opened, qtbot):
    w = opened
    qtbot.waitUntil(lambda: w.prefetched is not None, timeout=20_000)  # the worklist's next study: the 2022 exam
    prefetched = w.prefetched
    with qtbot.waitSignal(w.priors.priorShown, timeout=1_000) as blocker:
        w.commands["layout_prior_cc"].trigger()
    assert blocker.args[0] is prefetched and not w.priors.jobs.busy


def test_a_prefetch_landing_after_the_priors_own_decode_does_not_replace_it(opened, qtbot):
    w = opened
    w.prefetch.cancel()  # the comparison decodes the prior itself ...
    w._prefetched = None
    prior = compare(w, qtbot)
    bottom = w.hanging.prior_panels[View.RCC]
    viewport = bottom.graphics.viewport()
    c = viewport.rect().center()
    drag(viewport, (c.x(), c.y()), (c.x() + 60, c.y() + 40), QtCore.Qt.MouseButton.RightButton)
    windowed = bottom.window_state
    w._prefetched = copy.copy(prior)  # ... and the worklist's prefetch of the same exam lands after it
    mlo = compare(w, qtbot, Layout.PRIOR_MLO)
    assert mlo is prior  # the exam on screen stays, with the window the reader set on it
    assert compare(w, qtbot) is prior and w.hanging.prior_panels[View.RCC].window_state == windowed


def test_the_priors_own_decode_landing_after_the_prefetch_was_used_is_dropped(opened, qtbot, monkeypatch):
    w, release = opened, threading.Event()
    w.prefetch.cancel()
    w._prefetched = None
    slow = lambda info, max_workers=None, **kw: lambda p, c: (release.wait(20), load_job(info)(p, c))[1]  # noqa: E731
    monkeypatch.setattr(prior_compare, "load_job", slow)
    w.commands["layout_prior_cc"].trigger()  # the comparison's own decode starts (held) ...
    w._prefetched = load_job(w.priors.prior)(lambda _m: None, lambda: False)  # ... the prefetch lands first
    w.commands["layout_prior_mlo"].trigger()  # shown from the prefetch at once
    bottom = w.hanging.prior_panels[View.RMLO]
    bottom.set_window(dragged(bottom.window_state, 60, 40, bottom.display.stats))
    display, windowed = bottom.display, bottom.window_state
    release.set()
    qtbot.waitUntil(lambda: not w.priors.jobs._threads, timeout=20_000)
    assert bottom.display is display and bottom.window_state == windowed


def test_a_failed_decode_of_a_prior_no_longer_compared_leaves_the_one_shown(opened, qtbot, monkeypatch):
    w = opened
    w.prefetch.cancel()
    w._prefetched = None
    compare(w, qtbot)

    def fail(info, max_workers=None, **kw):  # type: ignore[no-untyped-def]
        def run(progress, cancelled):  # type: ignore[no-untyped-def]
            raise LoadError(info.images[0].path, "cannot be prepared for display")

        return run

    monkeypatch.setattr(prior_compare, "load_job", fail)
    w.older_prior()  # the 2019 exam's decode starts (and will fail) ...
    w.older_prior()  # ... but the reader is back on the 2022 one, still in memory
    qtbot.waitUntil(lambda: not w.priors.jobs._threads, timeout=20_000)
    assert date_of(w.hanging.prior_panels[View.RCC]) == "20220515"


def test_a_prior_that_could_not_be_opened_is_not_decoded_and_reported_again(opened, qtbot, monkeypatch):
    """Alt+5, Alt+6, Alt+5 on a prior whose decode fails decoded it anew each time, with a modal dialog each time."""
    w = opened
    w.prefetch.cancel()
    w._prefetched = None
    runs: list[object] = []

    def fail(info, max_workers=None, **kw):  # type: ignore[no-untyped-def]
        def run(progress, cancelled):  # type: ignore[no-untyped-def]
            runs.append(info)
            raise LoadError(info.images[0].path, "cannot be prepared for display")

        return run

    monkeypatch.setattr(prior_compare, "load_job", fail)
    reports: list[tuple[str, str]] = []
    w.problemsReported.connect(lambda title, text: reports.append((title, text)))
    with qtbot.waitSignal(w.priors.priorShown, timeout=20_000):
        w.commands["layout_prior_cc"].trigger()
    qtbot.waitUntil(lambda: bool(reports), timeout=20_000)
    assert len(runs) == 1 and reports[0][0] == "Could not open the prior study"
    for layout in ("layout_prior_mlo", "layout_prior_cc"):
        with qtbot.waitSignal(w.priors.priorShown, timeout=2_000) as blocker:
            w.commands[layout].trigger()
        assert blocker.args[0] is None
        assert "could not be opened: " in w.statusBar().currentMessage()
    assert len(runs) == 1 and len(reports) == 1
    assert prior_compare.NOT_OPENED in w.hanging.prior_panels[View.RCC].labels.empty_text()
    w.older_prior()  # another prior is decoded as ever
    qtbot.waitUntil(lambda: len(runs) == 2, timeout=20_000)


def test_the_export_json_says_which_prior_is_in_the_picture(opened, qtbot, tmp_path):
    import json

    from mammoview.gui.export import export_study

    w = opened
    compare(w, qtbot)
    doc = json.loads(export_study(w, tmp_path / "anon.png").json.read_text())
    assert doc["prior"] == {"interval": "2 years before", "views": ["RCC", "LCC"]}  # no key, no date
    doc = json.loads(export_study(w, tmp_path / "named.png", anonymize=False).json.read_text())
    assert doc["prior"]["key"] == "1.2.3.22" and doc["prior"]["study_date"] == "20220515"
    assert [Path(p).parent.name for p in doc["prior"]["images"]] == ["b-2022", "b-2022"]
    assert "prior" not in json.loads(export_study(w, tmp_path / "one.png", active_only=True).json.read_text())
    w.commands["layout_four"].trigger()
    assert "prior" not in json.loads(export_study(w, tmp_path / "four.png").json.read_text())


def test_a_study_change_while_a_view_is_maximised_shows_the_new_studys_prior_when_compared(opened, qtbot):
    w = opened
    compare(w, qtbot)
    w.toggle_maximize_active()  # the prior's row is hidden while one view fills the window
    with qtbot.waitSignal(w.studyShown, timeout=20_000):
        w.commands["next_study"].trigger()  # now the 2022 exam, whose prior is the 2019 one
    assert w.hanging.maximized is None and w.hanging.layout_mode is Layout.FOUR  # all its views, not one alone
    compare(w, qtbot)
    assert date_of(w.hanging.prior_panels[View.RCC]) == "20190301"


def test_a_prior_decoded_while_a_view_is_maximised_is_shown_on_restore(opened, qtbot):
    w = opened
    w.prefetch.cancel()
    w._prefetched = None
    w.commands["layout_prior_cc"].trigger()
    w.toggle_maximize_active()
    qtbot.waitUntil(lambda: w.priors.loaded is not None, timeout=20_000)
    w.toggle_maximize_active()
    assert date_of(w.hanging.prior_panels[View.RCC]) == "20220515"


def test_another_patient_without_prior_keeps_nothing_of_the_last_comparison(main_window, load, tmp_path, qtbot):
    w = main_window
    folder = exams(tmp_path / "p1", ("a-2024", "b-2022"))
    load(w, [folder])
    compare(w, qtbot)
    assert w.priors.cross_linked
    own = tmp_path / "p2"
    for view in ("RCC", "LCC", "RMLO", "LMLO"):
        write_view(own, f"{view}.dcm", view, study_uid="9.9", study_date="20240601", patient_id="PAT-2")
    load(w, [own])
    assert w.priors.loaded is None  # P1's decoded prior is let go with the comparison (the new study: four views)
    compare(w, qtbot)
    panel, top = w.hanging.prior_panels[View.LCC], w.panels[View.LCC]
    assert NO_PRIOR in panel.labels.empty_text() and panel.labels.study.text() == ""  # not P1's prior date
    assert w.priors.loaded is None and not w.priors.cross_linked  # P1's decoded prior is let go
    fitted = top.fit_content
    w.refit()
    assert top.fit_content == fitted  # the current pair has its own fit, not the union with P1's prior


def test_a_spacing_given_later_reaches_a_prior_without_one(main_window, load, tmp_path, qtbot):
    w = main_window
    load(w, [exams(tmp_path / "exams", ("a-2024", "b-2022"), prior_spacing=None)])
    compare(w, qtbot)
    assert not w.priors.cross_linked
    with qtbot.waitSignal(w.priors.priorShown, timeout=20_000):
        w.set_pixel_spacing(0.1)  # the current study has its own: only the prior changes
    assert w.priors.cross_linked and w.hanging.prior_panels[View.LCC].image.info.spacing.row_mm == 0.1


def test_a_new_window_starts_in_the_four_view_layout_not_a_comparison(opened, qtbot):
    from mammoview.gui.main_window import MainWindow

    compare(opened, qtbot)
    assert opened.hanging.layout_mode is Layout.PRIOR_CC
    again = MainWindow(settings=opened.settings)  # the next start: a comparison belongs to a study, not a session
    qtbot.addWidget(again)
    assert again.hanging.layout_mode is Layout.FOUR and again.hanging.prior_views() == []
    again.priors.shutdown()


def test_the_read_log_names_the_listed_priors(main_window, load, tmp_path):
    from mammoview.gui.read_log import read_log_rows

    w = main_window
    load(w, [exams(tmp_path / "exams", oldest_first=True)])  # listed 2019, 2022, 2024
    rows = read_log_rows([e.study for e in w.worklist.entries], w.worklist.store)
    assert [r["prior_of"] for r in rows] == ["3", "3", ""]


def test_a_length_measured_on_the_prior_belongs_to_this_read(opened, qtbot, tmp_path):
    import json

    from mammoview.gui.export import export_study

    w = opened
    compare(w, qtbot)
    w.commands["measure"].trigger()  # measure mode reaches the prior's panels too
    bottom = w.hanging.prior_panels[View.LCC]
    assert bottom.view_box.measure_mode
    m = w.cad.prior_measure.measure(bottom, (50.0, 60.0), (150.0, 60.0))  # 100 px at 0.1 mm
    assert m is not None and m.image == bottom.image.info.meta.sop_uid and m.view is View.LCC
    assert w.cad.prior_measure.items(View.LCC) and not w.cad.measure_tool.items(View.LCC)  # drawn on the prior only
    texts = [w.cad.findings.tree.topLevelItem(i) for i in range(w.cad.findings.tree.topLevelItemCount())]
    group = next(t for t in texts if t.text(0).startswith("Your measurements"))
    assert group.child(0).text(2) == "M1 10.0 mm · prior"
    doc = json.loads(export_study(w, tmp_path / "anon.png").json.read_text())
    assert [(x["image"], x["length"], x["unit"]) for x in doc["measurements"]] == [("LCC (prior)", 10.0, "mm")]
    w.commands["layout_four"].trigger()  # the prior off screen: its length still from its header's spacing
    assert w.cad.length(m).text == "10.0 mm"
    compare(w, qtbot)
    w.cad.focus_measurement(m)  # the findings row: selected on the prior's panel
    assert w.cad.prior_measure.selected == m and w.cad.measure_tool.selected is None
    w.cad.delete_selected_mark()
    assert w.cad.reader.measurements == ()


def measured_on_prior(w, qtbot):  # type: ignore[no-untyped-def]
    """Hang the CC comparison and measure 100 px on the prior's L CC; returns the measurement."""
    compare(w, qtbot)
    w.commands["measure"].trigger()
    return w.cad.prior_measure.measure(w.hanging.prior_panels[View.LCC], (50.0, 60.0), (150.0, 60.0))


def test_del_deletes_the_selection_on_screen_not_an_older_one_on_the_prior(opened, qtbot):
    w = opened
    m = measured_on_prior(w, qtbot)
    w.cad.focus_measurement(m)
    mark = w.cad.marks_tool.place(w.panels[View.LCC], 100.0, 200.0)
    w.cad._select_mark(mark)  # the reader clicked a mark after selecting the prior's line
    w.cad.delete_selected_mark()
    assert w.cad.reader.mark(mark.id) is None and w.cad.reader.measurement(m.id) is not None
    w.cad.focus_measurement(m)
    w.commands["layout_four"].trigger()  # the prior's row off screen
    w.cad.findings.tree.setCurrentItem(None)
    w.cad.delete_selected_mark()
    assert w.cad.reader.measurement(m.id) is not None  # not deleted unseen


def test_a_prior_measurement_when_the_comparison_is_not_hung(opened, qtbot, tmp_path):
    import json

    from mammoview.gui.export import export_study

    w = opened
    m = measured_on_prior(w, qtbot)
    w.commands["layout_four"].trigger()
    w.cad.focus_measurement(m)  # its findings row: where it is, nothing selected, the current view not moved
    assert w.statusBar().currentMessage().startswith("M1 was measured on the prior exam: hang it with Alt+5")
    assert w.cad.measure_tool.selected is None and w.cad.prior_measure.selected is None
    mark = w.cad.marks_tool.place(w.panels[View.RCC], 90.0, 200.0)
    w.cad._select_mark(mark)  # a mark's row, then the prior measurement's row: Del means neither
    w.cad.focus_measurement(m)
    w.cad.delete_selected_mark()
    assert w.cad.reader.mark(mark.id) is not None and w.cad.selected_mark is None
    w.commands["layout_prior_mlo"].trigger()  # the prior hung, but its MLO pair
    doc = json.loads(export_study(w, tmp_path / "x.png").json.read_text())
    assert [x["image"] for x in doc["measurements"]] == ["LCC (prior)"]  # not "LCC", the current exam's


def test_files_without_sop_uids_keep_the_two_exams_apart(main_window, load, tmp_path, qtbot):
    import pydicom

    w = main_window
    folder = exams(tmp_path / "exams", ("a-2024", "b-2022"))
    for path in folder.rglob("*.dcm"):  # same file names in both exams, no SOP Instance UID
        ds = pydicom.dcmread(path)
        del ds.SOPInstanceUID
        ds.save_as(path)
    load(w, [folder])
    m = measured_on_prior(w, qtbot)
    assert m.image == "1.2.3.22/LCC.dcm"  # the study's UID tells it from the current exam's LCC.dcm
    assert w.cad.prior_measure.items(View.LCC) and not w.cad.measure_tool.items(View.LCC)
    assert w.cad.on_prior(m) and w.cad.length(m).text == "10.0 mm"
