"""A second viewer, refused the reads folder, says so as it opens, and must not tell the reader that closing the
other window and quitting again saves its read: the refusal holds for the rest of its life, so that advice loses
the read."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator

import pytest
from PySide6 import QtWidgets

from mammoview.gui import dialogs
from mammoview.gui.read_state import MarkKind
from mammoview.gui.read_store import ReadStore
from mammoview.io.model import View
from tests.gui.conftest import shown_main_window
from tests.gui.test_saved_state import OTHER_VIEWER, ROOT
from tests.gui.test_worklist import batch


@pytest.fixture()
def other_viewer() -> Iterator[subprocess.Popen[str]]:
    """Another viewer process on the same app data, saving a read there (so holding its reads folder)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    other = subprocess.Popen([sys.executable, "-c", OTHER_VIEWER, "elsewhere"], cwd=ROOT, stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True, env=env)  # fmt: skip
    assert other.stdout is not None and other.stdout.readline().strip() == "ready"
    yield other
    if other.poll() is None:
        other.communicate("\n", timeout=30)


@pytest.fixture()
def second_window(other_viewer, qtbot):  # type: ignore[no-untyped-def]
    """A viewer window opened while ``other_viewer`` saves reads."""
    with shown_main_window(qtbot) as window:
        yield window


def test_a_second_window_says_as_it_opens_that_it_saves_no_reads(second_window, qtbot):
    w = second_window
    qtbot.waitUntil(lambda: w.reads_refused is not None, timeout=5_000)
    title, text = w.last_message
    assert title == "This window does not save reads" and "another mammoview window" in text
    label = w.statusBar().findChild(QtWidgets.QLabel, "reads_refused")
    assert label is not None and label.text() == "Reads not saved" and "another mammoview window" in label.toolTip()


def test_the_first_window_claims_its_reads_folder_as_it_opens(main_window, qtbot):
    from mammoview.gui.read_lock import saving_refused

    qtbot.wait(50)
    assert main_window.reads_refused is None and not saving_refused(main_window.cad.reader.store.folder)
    assert main_window.statusBar().findChild(QtWidgets.QLabel, "reads_refused") is None


def test_the_refused_windows_quit_question_gives_no_advice_that_loses_the_read(second_window, other_viewer, load,
                                                                                tmp_path, monkeypatch):  # fmt: skip
    w = second_window
    load(w, [batch(tmp_path / "batch")])
    other = other_viewer
    monkeypatch.setattr(w, "report_problems", lambda *a, **k: None)
    w.cad.reader.add(View.LCC, "LCC.dcm", 10.0, 20.0, MarkKind.MASS)  # refused: only in memory
    asked: list[str] = []
    monkeypatch.setattr(dialogs, "ask_yes_no", lambda parent, title, text: asked.append(text) or False)
    w.close()
    assert asked and w.isVisible()
    other.communicate("\n", timeout=30)  # the reader follows the advice: closes the other window...
    w.close()  # ... and quits again
    saved = ReadStore().peek(w.cad.reader.read_key)
    kept = saved is not None and [m.view for m in saved.marks] == [View.LCC]
    assert kept or "close the other window, and quit again" not in asked[0], (
        "the question told the reader to close the other window and quit again, which saves nothing: " + asked[-1]
    )
    monkeypatch.setattr(dialogs, "ask_yes_no", lambda parent, title, text: True)  # (lets the window close)


def test_the_first_mark_in_a_window_told_at_opening_opens_no_second_dialog(second_window, load, tmp_path, qtbot,
                                                                           monkeypatch):  # fmt: skip
    """Told as it opened that it saves no reads, the window opened a critical "Read not saved" dialog again at the
    reader's first mark, for the same cause: the lasting label and the status bar say it from then on."""
    w = second_window
    qtbot.waitUntil(lambda: w.reads_refused is not None, timeout=5_000)
    load(w, [batch(tmp_path / "batch")])
    dialogs_opened: list[str] = []
    w.problemsReported.connect(lambda title, text: dialogs_opened.append(title))
    w.cad.reader.add(View.LCC, "LCC.dcm", 10.0, 20.0, MarkKind.MASS)
    w.cad.reader.add(View.RCC, "RCC.dcm", 30.0, 40.0, MarkKind.MASS)
    assert dialogs_opened == [], dialogs_opened
    assert w.statusBar().currentMessage().startswith("Read not saved: "), w.statusBar().currentMessage()
    assert "another mammoview window" in w.statusBar().currentMessage()
    label = w.statusBar().findChild(QtWidgets.QLabel, "reads_refused")
    assert label is not None and label.isVisible() and label.text() == "Reads not saved"
    assert [m.view for m in w.cad.reader.state.marks] == [View.LCC, View.RCC]  # kept on screen
    monkeypatch.setattr(dialogs, "ask_yes_no", lambda parent, title, text: True)  # (lets the window close)


def test_a_save_failing_for_another_cause_in_a_window_told_at_opening_still_says_so(second_window, load, tmp_path,
                                                                                     qtbot, monkeypatch):  # fmt: skip
    from tests.gui.test_saved_state import full_disk

    w = second_window
    qtbot.waitUntil(lambda: w.reads_refused is not None, timeout=5_000)
    told = w.reads_refused
    load(w, [batch(tmp_path / "batch")])
    dialogs_opened: list[tuple[str, str]] = []
    w.problemsReported.connect(lambda title, text: dialogs_opened.append((title, text)))
    monkeypatch.setattr(ReadStore, "save", full_disk)
    w.cad.reader.add(View.LCC, "LCC.dcm", 10.0, 20.0, MarkKind.MASS)
    assert [title for title, _text in dialogs_opened] == ["Read not saved"], dialogs_opened
    assert "No space left on device" in dialogs_opened[0][1]
    assert w.reads_refused == told  # the label still says why this window saves no reads
    monkeypatch.setattr(dialogs, "ask_yes_no", lambda parent, title, text: True)  # (lets the window close)
