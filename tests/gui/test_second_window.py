"""A second viewer, refused the reads folder, must not tell the reader that closing the other window and
quitting again saves its read: the refusal holds for the rest of its life, so that advice loses the read."""

from __future__ import annotations

import os
import subprocess
import sys

from mammoview.gui import dialogs
from mammoview.gui.read_state import MarkKind, ReadStore
from mammoview.io.model import View
from tests.gui.test_saved_state import OTHER_VIEWER, ROOT
from tests.gui.test_worklist import batch


def test_the_refused_windows_quit_question_gives_no_advice_that_loses_the_read(main_window, load, tmp_path,
                                                                                qtbot, monkeypatch):  # fmt: skip
    w = main_window
    load(w, [batch(tmp_path / "batch")])
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    other = subprocess.Popen([sys.executable, "-c", OTHER_VIEWER, "elsewhere"], cwd=ROOT, stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True, env=env)  # fmt: skip
    assert other.stdout.readline().strip() == "ready"  # the other window saves reads now
    monkeypatch.setattr(w, "report_problems", lambda *a, **k: None)
    w.cad.reader.add(View.LCC, "LCC.dcm", 10.0, 20.0, MarkKind.MASS)  # refused: only in memory
    asked: list[str] = []
    monkeypatch.setattr(dialogs, "ask_yes_no", lambda parent, title, text: asked.append(text) or False)
    w.close()
    assert asked and w.isVisible()
    other.communicate("\n", timeout=30)  # the reader follows the advice: closes the other window...
    w.close()  # ... and quits again
    saved = ReadStore().peek(w.cad.study_key)
    kept = saved is not None and [m.view for m in saved.marks] == [View.LCC]
    assert kept or "close the other window, and quit again" not in asked[0], (
        "the question told the reader to close the other window and quit again, which saves nothing: " + asked[-1]
    )
    monkeypatch.setattr(dialogs, "ask_yes_no", lambda parent, title, text: True)  # (lets the window close)
