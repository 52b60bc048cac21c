"""A window refused the reads folder as it opened (another viewer saved there) takes it once that viewer is gone, at
its heartbeat: it saves reads from then on, says so, and saves what its reader did meanwhile, added to what the other
viewer saved of the same study meanwhile, or, where that would change the other's read, keeps it on screen and says
plainly that it is not saved."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest
from PySide6 import QtCore, QtWidgets

from mammoview.gui import dialogs, read_lock
from mammoview.gui.pseudonym import app_data_dir
from mammoview.gui.read_state import Assessment, MarkKind, ReaderDecision, ReadState
from mammoview.gui.read_store import ReadStore
from mammoview.gui.worklist import ReadProgress
from mammoview.io.model import View
from mammoview.io.study import read_key
from tests.gui.conftest import shown_main_window
from tests.gui.test_read_lock import another_viewer_takes_the_folder, foreign_lock
from tests.gui.test_read_saved_meanwhile import mark, saved_by_another_viewer
from tests.gui.test_worklist import batch, step


@pytest.fixture()
def refused_window(qtbot, monkeypatch) -> Iterator[object]:  # type: ignore[no-untyped-def]
    """A window opened while another computer's viewer holds the reads folder (its lock fresh), told so, whose
    heartbeat beats every 50 ms; the other viewer quits when the test removes the lock file."""
    monkeypatch.setattr(read_lock, "HEARTBEAT", 0.05)
    foreign_lock(Path(f"{os.path.realpath(app_data_dir() / 'reads')}.lock"))
    with shown_main_window(qtbot) as window:
        qtbot.waitUntil(lambda: window.reads_refused is not None, timeout=5_000)
        yield window


def the_other_viewer_quits(window) -> None:  # type: ignore[no-untyped-def]
    Path(f"{os.path.realpath(window.cad.reader.store.folder)}.lock").unlink()


def taken_back(window, qtbot) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    """The other viewer quits and ``window`` takes the reads: the problems it reported."""
    said: list[tuple[str, str]] = []
    window.problemsReported.connect(lambda title, text: said.append((title, text)))
    the_other_viewer_quits(window)
    qtbot.waitUntil(lambda: window.reads_refused is None, timeout=5_000)
    return said


def taken_back_saying_not_saved(window, qtbot) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    """:func:`taken_back`, reporting one "Read not saved"."""
    said = taken_back(window, qtbot)
    assert [title for title, _text in said] == ["Read not saved"], said
    return said


def conflict_box(window, qtbot) -> QtWidgets.QMessageBox:  # type: ignore[no-untyped-def]
    """The "Read conflict" question ``window`` shows (it waits for the reader's answer)."""

    def shown() -> list[QtWidgets.QMessageBox]:
        boxes = window.findChildren(QtWidgets.QMessageBox)
        return [b for b in boxes if b.windowTitle() == "Read conflict" and b.isVisible()]

    qtbot.waitUntil(lambda: len(shown()) == 1, timeout=5_000)
    return shown()[0]


def answer(box: QtWidgets.QMessageBox, choice: str) -> None:
    """Click ``box``'s button ``choice``."""
    (button,) = [b for b in box.buttons() if b.text() == choice]
    button.click()


def test_the_reads_marked_meanwhile_are_saved_added_to_the_other_viewers(refused_window, load, tmp_path, qtbot):
    w = refused_window
    load(w, [batch(tmp_path / "batch")])
    reader = w.cad.reader
    reader.add(View.LCC, "LCC.dcm", 10.0, 20.0, MarkKind.MASS)  # not saved: the folder is the other viewer's
    theirs = ReadState(marks=(mark(1, View.RCC),), decision=ReaderDecision(Assessment.RECALL))
    saved_by_another_viewer(reader.store.folder, reader.read_key.key, theirs)
    read_lock._beat()  # (a beat of its own: a wait for the heartbeat's thread saw none on a busy machine)
    QtCore.QCoreApplication.processEvents()  # (a folder taken is said by a queued signal)
    assert w.reads_refused is not None, "the folder was taken while the other viewer still held it"
    the_other_viewer_quits(w)
    qtbot.waitUntil(lambda: w.reads_refused is None, timeout=5_000)
    label = w.statusBar().findChild(QtWidgets.QLabel, "reads_refused")
    assert label is not None and not label.isVisible()
    assert w.statusBar().currentMessage().startswith("Reads are saved again"), w.statusBar().currentMessage()
    saved = ReadStore(reader.store.folder).load(reader.read_key)
    assert [m.view for m in saved.marks] == [View.RCC, View.LCC] and saved.decision.assessment is Assessment.RECALL
    assert [m.view for m in reader.state.marks] == [View.RCC, View.LCC] and not reader.unsaved  # shown as saved
    reader.add(View.RCC, "RCC.dcm", 30.0, 40.0, MarkKind.CALCIFICATION)  # and saved from then on
    assert len(ReadStore(reader.store.folder).load(reader.read_key).marks) == 3 and not reader.unsaved


def test_a_read_that_would_change_the_other_viewers_is_kept_on_screen_and_said_not_saved(
    refused_window, load, tmp_path, qtbot, monkeypatch
):  # fmt: skip
    w = refused_window
    load(w, [batch(tmp_path / "batch")])
    reader = w.cad.reader
    reader.add(View.LCC, "LCC.dcm", 10.0, 20.0, MarkKind.MASS)
    reader.set_assessment(Assessment.NEGATIVE)
    theirs = saved_by_another_viewer(reader.store.folder, reader.read_key.key,
                                     ReadState(decision=ReaderDecision(Assessment.RECALL)))  # fmt: skip
    said = taken_back(w, qtbot)
    box = conflict_box(w, qtbot)  # (the reader is asked which read goes on: in place of a "Read not saved")
    text = box.text()
    assert "is not saved" in text and "BI-RADS 0 recall" in text and said == [], (text, said)
    answer(box, "Keep mine (not saved)")
    assert ReadStore(reader.store.folder).load(reader.read_key).to_json() == theirs.to_json()  # untouched
    assert [m.view for m in reader.state.marks] == [View.LCC] and reader.decision.assessment is Assessment.NEGATIVE
    assert reader.read_key.key in reader.unsaved
    reader.add(View.RCC, "RCC.dcm", 30.0, 40.0, MarkKind.MASS)  # still not saved: said in the status bar, once
    QtCore.QCoreApplication.processEvents()
    assert not said and w.statusBar().currentMessage().startswith("Read not saved"), said
    assert not [b for b in w.findChildren(QtWidgets.QMessageBox) if b.windowTitle() == "Read conflict"
                and b.isVisible()]  # (not asked again)  # fmt: skip
    assert ReadStore(reader.store.folder).load(reader.read_key).to_json() == theirs.to_json()
    asked: list[str] = []
    monkeypatch.setattr(dialogs, "ask_yes_no", lambda parent, title, text: asked.append(text) or False)
    w.close()  # the quit question sends the reader neither to free space nor to wait for a save that never comes
    assert asked and "to compare with the read the other window saved" in asked[0], asked
    monkeypatch.setattr(dialogs, "ask_yes_no", lambda parent, title, text: True)  # (lets it close, read not saved)


def test_a_read_of_a_study_left_meanwhile_that_would_change_the_other_viewers_is_said_not_saved(
    refused_window, load, tmp_path, qtbot, monkeypatch
):  # fmt: skip
    w = refused_window
    load(w, [batch(tmp_path / "batch")])
    reader = w.cad.reader
    reader.set_assessment(Assessment.NEGATIVE)
    left = reader.read_key
    step(w, qtbot, "next_study")
    theirs = saved_by_another_viewer(
        reader.store.folder, left.key, ReadState(decision=ReaderDecision(Assessment.RECALL))
    )
    said = taken_back_saying_not_saved(w, qtbot)
    assert "Reads are saved again" in said[0][1] and "your read of 1 study is not" in said[0][1], said[0][1]
    assert "Nothing is lost: yours is kept as a conflict copy" in said[0][1], said[0][1]
    assert ReadStore(reader.store.folder).load(left).to_json() == theirs.to_json() and left.key in reader.unsaved
    monkeypatch.setattr(dialogs, "ask_yes_no", lambda parent, title, text: True)  # (lets it close, read not saved)


def test_a_read_of_a_study_left_meanwhile_that_fails_for_another_cause_is_said_so(refused_window, load, tmp_path,
                                                                                   qtbot, monkeypatch):  # fmt: skip
    """Every read still not saved once the folder was taken was said to change the other window's read, kept as it
    saved it: a disk full (or a read that cannot be read) was hidden behind a conflict that was not there."""
    w = refused_window
    load(w, [batch(tmp_path / "batch")])
    reader = w.cad.reader
    reader.set_assessment(Assessment.NEGATIVE)
    left = reader.read_key
    step(w, qtbot, "next_study")
    save = ReadStore.save

    def full_for_left(self, study, state):  # type: ignore[no-untyped-def]
        if study == left:
            raise OSError(28, "No space left on device")
        return save(self, study, state)

    monkeypatch.setattr(ReadStore, "save", full_for_left)
    said = taken_back_saying_not_saved(w, qtbot)
    text = said[0][1]
    assert "No space left on device" in text and "the other window saved" not in text, text
    assert left.key in reader.unsaved
    monkeypatch.setattr(dialogs, "ask_yes_no", lambda parent, title, text: True)  # (lets it close, read not saved)


def test_the_worklist_shows_what_the_other_viewer_saved_meanwhile_once_reads_are_saved_again(
    refused_window, load, tmp_path, qtbot, monkeypatch
):  # fmt: skip
    """The rows kept what this window knew before: a study the other window read meanwhile was still unread (the next
    unread study opened it), one this window's read was added to showed that read alone.  A read still not saved
    shows as in this window."""
    w = refused_window
    load(w, [batch(tmp_path / "batch")])
    reader = w.cad.reader
    reader.add(View.LCC, "LCC.dcm", 10.0, 20.0, MarkKind.MASS)  # (added to the other's read of it)
    first = reader.read_key
    step(w, qtbot, "next_study")
    reader.set_assessment(Assessment.NEGATIVE)  # (the other window recalled it: not saved)
    second = reader.read_key
    keys = [read_key(e.study).key for e in w.worklist.entries]
    (third,) = set(keys) - {first.key, second.key}  # (never opened here)
    saved_by_another_viewer(reader.store.folder, first.key, ReadState(first_read_done=True))
    saved_by_another_viewer(reader.store.folder, second.key, ReadState(decision=ReaderDecision(Assessment.RECALL)))
    saved_by_another_viewer(reader.store.folder, third, ReadState(first_read_done=True))
    the_other_viewer_quits(w)
    qtbot.waitUntil(lambda: w.reads_refused is None, timeout=5_000)
    rows = {k: w.worklist.entries[i] for i, k in enumerate(keys)}
    assert rows[first.key].progress is ReadProgress.DONE and first.key not in reader.unsaved, rows[first.key]
    assert rows[third].progress is ReadProgress.DONE, rows[third]
    assert rows[second.key].decision.assessment is Assessment.NEGATIVE and second.key in reader.unsaved  # as here
    monkeypatch.setattr(dialogs, "ask_yes_no", lambda parent, title, text: True)  # (lets it close, read not saved)


def test_quitting_right_after_the_other_viewer_quit_saves_the_read(qtbot, load, tmp_path):
    """The reader closed the other window and quit this one before its next heartbeat: its read is saved then, not
    asked about as lost."""
    foreign_lock(Path(f"{os.path.realpath(app_data_dir() / 'reads')}.lock"))
    with shown_main_window(qtbot) as w:
        qtbot.waitUntil(lambda: w.reads_refused is not None, timeout=5_000)
        load(w, [batch(tmp_path / "batch")])
        reader = w.cad.reader
        reader.add(View.LCC, "LCC.dcm", 10.0, 20.0, MarkKind.MASS)
        the_other_viewer_quits(w)
        w.close()  # (a question asked would fail the test: _no_unexpected_modal_question)
        assert not w.isVisible() and not reader.unsaved
        saved = ReadStore(reader.store.folder).load(reader.read_key)
        assert [m.view for m in saved.marks] == [View.LCC]


def test_a_folder_given_up_and_taken_back_in_one_beat_is_said_neither_lost_nor_back(main_window, load, tmp_path,
                                                                                      qtbot, monkeypatch):  # fmt: skip
    """This computer slept past STALE_AFTER and its lock was gone: the next beat gave the folder up (another viewer
    may have saved there meanwhile) and, no viewer holding it, took it back at once.  The reader, never told that
    reads were not saved, read "Reads are saved again".  Nothing was lost (the reads loaded before are read again
    at their next save): nothing is said."""
    w = main_window
    load(w, [batch(tmp_path / "batch")])
    reader = w.cad.reader
    reader.add(View.LCC, "LCC.dcm", 10.0, 20.0, MarkKind.MASS)  # saved: the folder is this window's
    held = read_lock.holding(reader.store.folder)
    said: list[tuple[str, str]] = []
    w.problemsReported.connect(lambda title, text: said.append((title, text)))
    w.show_status("")
    Path(f"{os.path.realpath(reader.store.folder)}.lock").unlink()
    woke = time.time() + read_lock.STALE_AFTER + 60
    monkeypatch.setattr(read_lock, "time", SimpleNamespace(time=lambda: woke))
    read_lock._beat()
    QtCore.QCoreApplication.processEvents()  # (a folder taken is said by a queued signal)
    assert read_lock.holding(reader.store.folder) not in (None, held)  # given up, and taken back: a new hold
    assert not w.statusBar().currentMessage().startswith("Reads are saved again"), w.statusBar().currentMessage()
    assert said == [] and w.reads_refused is None
    reader.add(View.RCC, "RCC.dcm", 30.0, 40.0, MarkKind.MASS)  # and saved as before
    assert len(ReadStore(reader.store.folder).load(reader.read_key).marks) == 2 and not reader.unsaved


def test_the_window_names_the_viewer_that_holds_the_folder_now(refused_window, qtbot, load, tmp_path, monkeypatch):
    """Another viewer took the folder after the one that refused it quit: the lasting "Reads not saved" kept naming
    the first, and the window's saves, now naming the second, each opened a critical dialog for the same cause."""
    w = refused_window
    load(w, [batch(tmp_path / "batch")])
    another_viewer_takes_the_folder(Path(f"{os.path.realpath(w.cad.reader.store.folder)}.lock"), tmp_path)
    read_lock._beat()  # (or the 50 ms heartbeat's own beat, whose queued signal may come after this one's)

    def names_the_second() -> None:
        label = w.statusBar().findChild(QtWidgets.QLabel, "reads_refused")
        assert label is not None and label.isVisible(), label
        assert "process 5151 on ws-mammo-2" in label.toolTip(), label.toolTip()

    qtbot.waitUntil(names_the_second, timeout=5_000)
    said: list[str] = []
    w.problemsReported.connect(lambda title, text: said.append(title))
    w.cad.reader.add(View.LCC, "LCC.dcm", 10.0, 20.0, MarkKind.MASS)  # not saved: said in the status bar only
    assert said == [] and "process 5151" in w.statusBar().currentMessage(), (said, w.statusBar().currentMessage())
    monkeypatch.setattr(dialogs, "ask_yes_no", lambda parent, title, text: True)  # (lets it close, read not saved)


def test_answering_no_at_quitting_once_the_other_viewer_quit_shows_what_it_saved(qtbot, load, tmp_path, monkeypatch):
    """The reader closed the other window and quit this one before its next heartbeat; a read that would change the
    other's was asked about, and the reader answered No to read on: the read on screen and the worklist's rows stayed
    as before, the study open without the other window's mark that the quit had just added its read to, and a study
    the other window read showing as not read."""
    foreign_lock(Path(f"{os.path.realpath(app_data_dir() / 'reads')}.lock"))
    with shown_main_window(qtbot) as w:
        qtbot.waitUntil(lambda: w.reads_refused is not None, timeout=5_000)
        load(w, [batch(tmp_path / "batch")])
        reader = w.cad.reader
        reader.set_assessment(Assessment.NEGATIVE)  # (the other window recalled it: a conflict, asked about)
        left = reader.read_key
        step(w, qtbot, "next_study")
        reader.add(View.LCC, "LCC.dcm", 10.0, 20.0, MarkKind.MASS)  # (added to the other window's read of it)
        keys = [read_key(e.study).key for e in w.worklist.entries]
        (third,) = set(keys) - {left.key, reader.read_key.key}  # (never opened here)
        folder = reader.store.folder
        saved_by_another_viewer(folder, left.key, ReadState(decision=ReaderDecision(Assessment.RECALL)))
        saved_by_another_viewer(folder, reader.read_key.key, ReadState(marks=(mark(1, View.RCC),)))
        saved_by_another_viewer(folder, third, ReadState(first_read_done=True))
        the_other_viewer_quits(w)
        asked: list[str] = []
        monkeypatch.setattr(dialogs, "ask_yes_no", lambda parent, title, text: asked.append(text) or False)
        w.close()
        assert asked and w.isVisible()
        assert [r.marks[0].view for r in w.cad.findings.rows if r.marks] == [View.RCC, View.LCC]  # as saved
        rows = {k: w.worklist.entries[i] for i, k in enumerate(keys)}
        assert rows[third].progress is ReadProgress.DONE, rows[third]
        assert w.statusBar().currentMessage().startswith("Reads are saved again"), w.statusBar().currentMessage()
        monkeypatch.setattr(dialogs, "ask_yes_no", lambda parent, title, text: True)  # (lets it close, read not saved)
