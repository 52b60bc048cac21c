"""The worklist: a folder of several studies is read in turn (PgDown / PgUp / next not read), with saved status."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6 import QtWidgets

from mammoview.gui.read_state import MarkKind, ReadState, image_key
from mammoview.gui.read_store import ReadStore
from mammoview.gui.window_level import dragged
from mammoview.gui.worklist import ReadProgress, Worklist, read_progress
from mammoview.io import open_paths
from mammoview.io.model import LoadError, View
from tests.gui.conftest import SYNTHETIC_VIEWS, write_view

PATIENTS = ("PAT-A", "PAT-B", "PAT-C")


def batch(folder: Path) -> Path:
    """Three two-view studies (different patients and study UIDs) in one folder."""
    for n, pid in enumerate(PATIENTS):
        for view in ("RCC", "LCC"):
            write_view(folder / pid, f"{view}.dcm", view, study_uid=f"1.2.3.{n + 1}", patient_id=pid,
                       patient_name=f"Batch^{pid}")  # fmt: skip
    return folder


def shown_patient(window) -> str:  # type: ignore[no-untyped-def]
    return window.panels[View.LCC].image.info.meta.patient_id


def step(window, qtbot, action: str) -> None:  # type: ignore[no-untyped-def]
    with qtbot.waitSignal(window.studyShown, timeout=20_000):
        window.commands[action].trigger()


@pytest.fixture()
def opened(main_window, load, tmp_path):  # type: ignore[no-untyped-def]
    load(main_window, [batch(tmp_path / "batch")])
    return main_window


def test_read_progress_from_the_saved_state():
    assert read_progress(None) is ReadProgress.UNREAD
    assert read_progress(ReadState()) is ReadProgress.UNREAD
    from mammoview.gui.read_state import ReaderMark

    mark = ReaderMark(1, View.LCC, "x", 1.0, 2.0, MarkKind.MASS)
    assert read_progress(ReadState(marks=(mark,))) is ReadProgress.STARTED
    assert read_progress(ReadState(first_read_done=True)) is ReadProgress.DONE


def test_neighbours_and_first_unread(tmp_path):
    studies, _ = open_paths([batch(tmp_path / "b")])
    store = ReadStore(tmp_path / "reads")
    store.save(studies[0].key, ReadState(first_read_done=True))
    wl = Worklist(store)
    wl.set_studies(studies)
    assert [e.progress for e in wl.entries] == [ReadProgress.DONE, ReadProgress.UNREAD, ReadProgress.UNREAD]
    assert wl.first_unread() == 1
    assert wl.neighbour(+1) == 0 and wl.neighbour(-1) == 2  # nothing current: from either end
    wl.set_current(1)
    assert (wl.neighbour(+1), wl.neighbour(-1), wl.neighbour(-1, unread_only=True)) == (2, 0, None)
    wl.set_current(2)
    assert wl.neighbour(+1) is None
    assert wl.summary() == "Study 3 of 3 · 1 read"
    with pytest.raises(IndexError):
        wl.set_current(3)


def test_a_damaged_read_file_is_not_touched_by_the_status_column(tmp_path):
    store = ReadStore(tmp_path / "reads")
    path = store.path_for("1.2.3")
    path.parent.mkdir(parents=True)
    path.write_text("{ not json")
    assert store.peek("1.2.3") is None
    assert path.read_text() == "{ not json"  # opening the study (load) sets it aside; a peek must not


def test_a_folder_of_studies_fills_the_worklist_and_opens_the_first(opened):
    wl = opened.worklist
    assert opened.worklist_dock.isVisible()
    assert [e.study.meta.patient_id for e in wl.entries] == list(PATIENTS)
    assert wl.current == 0 and shown_patient(opened) == "PAT-A"
    tree = opened.worklist_panel.tree
    assert tree.topLevelItemCount() == 3
    assert tree.topLevelItem(0).text(0).startswith("▶") and tree.topLevelItem(0).font(1).bold()
    assert [tree.topLevelItem(i).text(2) for i in range(3)] == ["not read"] * 3
    assert tree.topLevelItem(0).text(3) == "no R MLO, L MLO"  # two-view studies
    assert opened.windowTitle().startswith("[1/3] ")
    assert "Study 1 of 3" in opened.worklist_panel.header.text()


def test_page_down_and_up_step_through_the_batch(opened, qtbot):
    step(opened, qtbot, "next_study")
    assert shown_patient(opened) == "PAT-B" and opened.worklist.current == 1
    assert opened.windowTitle().startswith("[2/3] ")
    step(opened, qtbot, "previous_study")
    assert shown_patient(opened) == "PAT-A"
    opened.commands["previous_study"].trigger()  # at the start: stays, says so
    assert "First study of the worklist" in opened.statusBar().currentMessage()
    assert shown_patient(opened) == "PAT-A"


def test_the_read_status_follows_the_reader_and_next_not_read_skips_read_studies(opened, qtbot, load, tmp_path):
    step(opened, qtbot, "next_study")
    reader = opened.cad.reader
    reader.add(View.LCC, image_key(opened.panels[View.LCC].image), 10.0, 20.0, MarkKind.MASS)
    assert opened.worklist_panel.tree.topLevelItem(1).text(2) == "started · 1 mark"
    reader.set_first_read_done()
    assert opened.worklist.entries[1].progress is ReadProgress.DONE
    assert opened.worklist_panel.tree.topLevelItem(1).text(2) == "read · 1 mark"
    step(opened, qtbot, "previous_study")
    step(opened, qtbot, "next_unread")
    assert shown_patient(opened) == "PAT-C"  # PAT-B is read
    opened.commands["next_study"].trigger()
    assert "Last study of the worklist" in opened.statusBar().currentMessage()
    assert "not read yet: #1, #3" in opened.statusBar().currentMessage()  # PAT-A and PAT-C (on screen)
    opened.commands["next_unread"].trigger()
    assert opened.statusBar().currentMessage().startswith("Every later study of the worklist is read (")
    # The status is saved: reopening the batch shows it and starts at the first study not read.
    reader.set_first_read_done()  # PAT-C
    load(opened, [tmp_path / "batch"])
    assert [e.progress for e in opened.worklist.entries] == [ReadProgress.UNREAD, ReadProgress.DONE,
                                                              ReadProgress.DONE]  # fmt: skip
    assert shown_patient(opened) == "PAT-A"
    # and after a restart: File > Reopen last worklist
    opened.worklist.set_studies([])
    with qtbot.waitSignal(opened.studyShown, timeout=20_000):
        opened.commands["reopen_worklist"].trigger()
    assert len(opened.worklist) == 3 and shown_patient(opened) == "PAT-A"


def test_the_next_study_is_prefetched_and_shown_without_a_load(opened, qtbot):
    qtbot.waitUntil(lambda: opened._prefetched is not None, timeout=20_000)
    assert opened._prefetched.study.key == opened.worklist.entries[1].study.key
    shown: list[object] = []
    opened.studyShown.connect(shown.append)
    opened.commands["next_study"].trigger()
    assert len(shown) == 1 and shown_patient(opened) == "PAT-B"  # synchronously: no decode job
    assert not opened.jobs.busy
    qtbot.waitUntil(lambda: opened._prefetched is not None, timeout=20_000)  # and the one after it
    assert opened._prefetched.study.key == opened.worklist.entries[2].study.key


def test_stepping_back_prefetches_the_study_before_not_the_one_just_left(opened, qtbot):
    step(opened, qtbot, "next_study")
    step(opened, qtbot, "next_study")
    qtbot.waitUntil(lambda: not opened.prefetch.busy, timeout=20_000)
    step(opened, qtbot, "previous_study")  # PAT-B: PAT-A is the study to decode, PAT-C was just on screen
    assert shown_patient(opened) == "PAT-B"
    qtbot.waitUntil(lambda: opened._prefetched is not None, timeout=20_000)
    assert opened._prefetched.study.key == opened.worklist.entries[0].study.key
    shown: list[object] = []
    opened.studyShown.connect(shown.append)
    opened.commands["previous_study"].trigger()
    assert len(shown) == 1 and shown_patient(opened) == "PAT-A" and not opened.jobs.busy  # no decode job
    step(opened, qtbot, "next_study")  # forwards again: the next one
    qtbot.waitUntil(lambda: opened._prefetched is not None, timeout=20_000)
    assert opened._prefetched.study.key == opened.worklist.entries[2].study.key


def test_after_next_not_read_the_prefetch_skips_read_studies_too(opened, qtbot):
    opened.worklist.set_state(opened.worklist.entries[2].study.key, ReadState(first_read_done=True))  # PAT-C: read
    step(opened, qtbot, "next_unread")  # PAT-B; the next not read: none, so nothing to decode (PAT-C is skipped)
    assert shown_patient(opened) == "PAT-B" and opened._prefetching is None


def test_a_double_click_on_a_row_opens_that_study(opened, qtbot):
    tree = opened.worklist_panel.tree
    with qtbot.waitSignal(opened.studyShown, timeout=20_000):
        tree.itemActivated.emit(tree.topLevelItem(2), 0)
    assert shown_patient(opened) == "PAT-C" and opened.worklist.current == 2


def test_one_study_opened_makes_a_one_row_worklist_and_steps_say_why(main_window, load, synthetic_study):
    load(main_window, [synthetic_study])
    assert len(main_window.worklist) == 1 and not main_window.worklist_dock.isVisible()
    main_window.commands["next_study"].trigger()
    assert "open a folder of several studies" in main_window.statusBar().currentMessage()
    main_window.commands["reopen_worklist"].trigger()  # a single study is no worklist
    assert "No worklist to reopen" in main_window.statusBar().currentMessage()
    assert not main_window.windowTitle().startswith("[")


def test_a_study_that_fails_to_load_leaves_the_worklist_on_the_study_shown(opened, qtbot, monkeypatch):
    import mammoview.gui.study_opening as mw

    def boom(info, max_workers=None, **kw):  # type: ignore[no-untyped-def]
        def run(progress, cancelled):  # type: ignore[no-untyped-def]
            raise OSError("disk on fire")

        return run

    opened.prefetch.cancel()
    opened._prefetched = None
    monkeypatch.setattr(mw, "load_job", boom)
    with qtbot.waitSignal(opened.problemsReported, timeout=10_000):
        opened.commands["next_study"].trigger()
    assert shown_patient(opened) == "PAT-A" and opened.worklist.current == 0
    assert "disk on fire" in opened.last_message[1]


def test_a_read_change_redraws_one_row_not_the_batch(opened):
    full: list[int] = []
    rows: list[int] = []
    opened.worklist.changed.connect(lambda: full.append(1))
    opened.worklist.rowChanged.connect(rows.append)
    item = opened.worklist_panel.tree.topLevelItem(0)
    opened.cad.reader.add(View.LCC, image_key(opened.panels[View.LCC].image), 10.0, 20.0, MarkKind.MASS)
    assert not full and rows == [0]
    assert opened.worklist_panel.tree.topLevelItem(0) is item  # updated in place
    assert item.text(2) == "started · 1 mark"


def test_pgup_before_the_next_study_lands_keeps_the_study_on_screen(main_window, load, qtbot, tmp_path):
    w = main_window
    load(w, [batch(tmp_path / "batch")])
    w.prefetch.cancel()  # the next study is decoded on PgDown, not taken from the prefetch
    w._prefetched = None
    shown, lcc = w.loaded, w.panels[View.LCC]
    lcc.set_window(dragged(lcc.window_state, 60, 40, lcc.display.stats))
    windowed = lcc.window_state
    w.commands["next_study"].trigger()
    w.commands["previous_study"].trigger()  # back before the next study is on screen
    qtbot.waitUntil(lambda: not w.jobs._threads, timeout=30_000)  # (busy turns false at once on a cancel)
    assert w.loaded is shown and lcc.window_state == windowed  # not decoded again, the reader's window kept


def without_spacing(folder: Path, uid: str, patient_id: str = "PAT-1") -> str:
    """One four-view study whose files carry no pixel spacing."""
    for view in SYNTHETIC_VIEWS:
        write_view(folder, f"{view}.dcm", view, study_uid=uid, patient_id=patient_id, pixel_spacing=None)
    return str(folder)


def test_a_spacing_given_while_the_folder_is_read_applies(main_window, qtbot, tmp_path):
    w = main_window
    w.open_paths([without_spacing(tmp_path / "a", "1.2.3.7")])
    w.set_pixel_spacing(0.2)  # before the scan lands
    with qtbot.waitSignal(w.studyShown, timeout=30_000) as shown:
        pass
    assert all(i.spacing is not None and i.spacing.row_mm == 0.2 for i in shown.args[0].study.info.images)


def test_a_spacing_given_while_another_folder_is_read_keeps_that_folder(main_window, load, qtbot, tmp_path):
    w = main_window
    load(w, [without_spacing(tmp_path / "a", "1.2.3.7")])
    w.open_paths([without_spacing(tmp_path / "b", "1.2.3.8")])
    w.set_pixel_spacing(0.2)  # the shown study is not decoded again over the folder being read
    with qtbot.waitSignal(w.studyShown, timeout=30_000):
        pass
    qtbot.waitUntil(lambda: not w.jobs._threads, timeout=30_000)
    assert w.loaded.study.key == "1.2.3.8"
    assert all(i.spacing is not None and i.spacing.row_mm == 0.2 for i in w.loaded.study.info.images)


def test_the_window_fits_a_laptop_screen_with_every_dock_open(main_window, load, tmp_path):
    """The worklist, the CAD panel and the findings stacked beside the images: the CAD panel scrolls rather than
    set the window's smallest height (it was 757 px: a 768 px screen lost the status bar and the findings)."""
    load(main_window, [batch(tmp_path / "batch")])
    docks = ("worklist_dock", "cad_dock", "findings_dock")
    assert all(main_window.findChild(QtWidgets.QDockWidget, name).isVisible() for name in docks)
    assert main_window.minimumSizeHint().height() <= 650


def without_spacing_batch(folder: Path) -> Path:
    """Two four-view studies of two patients whose files carry no pixel spacing."""
    for n, pid in enumerate(PATIENTS[:2]):
        without_spacing(folder / pid, f"1.2.3.{n + 1}", pid)
    return folder


def given_spacings(window) -> set[float | None]:  # type: ignore[no-untyped-def]
    return {i.spacing.row_mm if i.spacing is not None else None for i in window.loaded.study.info.images}


def test_a_spacing_given_while_an_empty_folder_is_read_reaches_the_one_on_screen(main_window, load, qtbot, tmp_path):
    w = main_window
    load(w, [without_spacing_batch(tmp_path / "batch") / "PAT-A"])
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "notes.txt").write_text("no images here")
    w.open_paths([str(tmp_path / "empty")])
    w.set_pixel_spacing(0.2)  # while the folder is read: it has no study to take it
    qtbot.waitUntil(lambda: given_spacings(w) == {0.2}, timeout=30_000)


def test_a_spacing_given_while_the_next_study_fails_reaches_the_one_on_screen(main_window, load, qtbot, tmp_path,
                                                                              monkeypatch):  # fmt: skip
    from mammoview.gui import loader

    w = main_window
    load(w, [without_spacing_batch(tmp_path / "batch")])
    w.prefetch.cancel()
    w._prefetched = None

    def failing_second(info, max_workers=None, **kw):  # type: ignore[no-untyped-def]
        def fail(progress, cancelled):  # type: ignore[no-untyped-def]
            raise LoadError(info.images[0].path, "cannot be prepared for display")

        return fail if info.key == "1.2.3.2" else loader.load_job(info, max_workers, **kw)

    monkeypatch.setattr("mammoview.gui.study_opening.load_job", failing_second)
    w.commands["next_study"].trigger()
    w.set_pixel_spacing(0.2)
    qtbot.waitUntil(lambda: w.loaded.study.key == "1.2.3.1" and given_spacings(w) == {0.2}, timeout=30_000)


def test_pgup_back_to_the_study_on_screen_after_a_spacing_change(main_window, load, qtbot, tmp_path):
    w = main_window
    load(w, [without_spacing_batch(tmp_path / "batch")])
    with qtbot.waitSignal(w.studyShown, timeout=30_000):
        w.set_pixel_spacing(0.2)  # the study on screen is decoded again: equal to its worklist entry, not the same
    qtbot.waitUntil(lambda: not w.jobs._threads, timeout=30_000)
    w.prefetch.cancel()
    w._prefetched = None
    shown, lcc = w.loaded, w.panels[View.LCC]
    lcc.set_window(dragged(lcc.window_state, 60, 40, lcc.display.stats))
    windowed = lcc.window_state
    w.commands["next_study"].trigger()
    w.commands["previous_study"].trigger()
    qtbot.waitUntil(lambda: not w.jobs._threads, timeout=30_000)
    assert w.loaded is shown and lcc.window_state == windowed


def test_pgdown_during_the_prefetch_waits_for_it_instead_of_decoding_it_again(main_window, load, qtbot, tmp_path,
                                                                                monkeypatch):  # fmt: skip
    """PgDown while the next study was still being prefetched started a second decode of it beside the first (on
    two cores both took longer than one alone); the prefetch now lands on screen, and a failing one still loads."""
    import threading

    from mammoview.gui import study_opening
    from mammoview.gui.loader import load_job

    release, loads = threading.Event(), []

    def counted(info, max_workers=None, **kw):  # type: ignore[no-untyped-def]
        loads.append((info.key, max_workers))
        job = load_job(info, max_workers=max_workers, **kw)
        if max_workers == 1:  # the prefetch: held until the test lets it go
            return lambda progress, cancelled: (release.wait(20), job(progress, cancelled))[1]
        return job

    monkeypatch.setattr(study_opening, "load_job", counted)
    w = main_window
    load(w, [batch(tmp_path / "batch")])
    qtbot.waitUntil(lambda: w.prefetch.busy, timeout=5_000)  # the next study is being prefetched (held)
    second = w.worklist.entries[1].study.key
    w.commands["next_study"].trigger()
    assert not w.jobs.busy and shown_patient(w) == "PAT-A"  # no second decode started; the study stays meanwhile
    with qtbot.waitSignal(w.studyShown, timeout=20_000):
        release.set()
    assert shown_patient(w) == "PAT-B" and w.worklist.current == 1
    assert [k for k, _ in loads].count(second) == 1  # decoded once
    # a prefetch that fails while the reader waits for it: the study is loaded the usual way (and its error said)
    release.clear()
    qtbot.waitUntil(lambda: w.prefetch.busy, timeout=5_000)
    monkeypatch.setattr(
        study_opening, "load_job", lambda info, max_workers=None, **kw: load_job(info, max_workers, **kw)
    )
    w.commands["next_study"].trigger()
    w._on_prefetch_error(LoadError(Path("x.dcm"), "broken"))  # as the held prefetch's failure would arrive
    with qtbot.waitSignal(w.studyShown, timeout=20_000):
        pass
    assert shown_patient(w) == "PAT-C"
    release.set()


def test_marks_on_another_copy_of_the_exam_are_counted_apart(tmp_path):
    """A downsampled copy of an exam that keeps its identity (Patient ID, Study Instance UID) is the same exam and
    shares its read; the marks placed on the copy's files are not on this study's, where its row said "2 marks"
    and none showed."""
    from mammoview.gui.read_state import ReaderMark, info_key

    studies, _ = open_paths([batch(tmp_path / "b")])
    study = studies[0]
    own = info_key(study.images[0])
    marks = (ReaderMark(1, View.RCC, own, 10.0, 20.0, MarkKind.MASS),
             ReaderMark(2, View.LCC, "1.2.826.0.1.3680043.8.498.999", 5.0, 6.0, MarkKind.MASS),
             ReaderMark(3, View.LCC, "copy-LCC.dcm", 7.0, 8.0, MarkKind.CALCIFICATION))  # fmt: skip
    store = ReadStore(tmp_path / "reads")
    store.save(study.key, ReadState(first_read_done=True, marks=marks))
    wl = Worklist(store)
    wl.set_studies(studies)
    assert wl.status_text(0) == "read · 1 mark · 2 on other files of the exam"
    store.save(study.key, ReadState(first_read_done=True, marks=marks[:1]))
    wl.refresh(study.key)
    assert wl.status_text(0) == "read · 1 mark"
