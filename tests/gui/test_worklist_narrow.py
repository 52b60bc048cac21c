"""The worklist dock goes narrow: its smallest width was 368 px (the one-line key hint "PgDown next · PgUp previous ·
Shift+PgDown next not read" set it), so with the worklist shown the right dock area could not be narrower, whatever
the CAD dock did (it goes to 256 px: test_cad_dock_narrow.py).  At 200 % on a 1280 x 800 screen (a 624 px wide
window) that left the images half the window.  Now at most 260 px, the hint wrapped."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6 import QtWidgets

from mammoview.gui.read_state import Assessment, ReaderDecision, ReadState
from mammoview.gui.read_store import ReadStore
from mammoview.gui.worklist import Worklist, WorklistPanel
from mammoview.io import open_paths
from tests.gui.conftest import write_view

MAX_DOCK_WIDTH = 260


@pytest.fixture()
def dock(qtbot, tmp_path: Path) -> QtWidgets.QDockWidget:
    """The worklist of two four-view studies in a dock, the first read (a long status) and on screen."""
    for n, pid in enumerate(("P_00173", "P_00820")):
        for view in ("RCC", "LCC", "RMLO", "LMLO"):
            write_view(tmp_path / pid, f"{view}.dcm", view, study_uid=f"1.2.3.{n + 1}", patient_id=pid,
                       patient_name="", study_date="20161004")  # fmt: skip
    studies, _ = open_paths([tmp_path])
    store = ReadStore(tmp_path / "reads")
    done = ReadState(first_read_done=True, decision_after_cad=ReaderDecision(Assessment.NEGATIVE, "b"))
    store.save(studies[0].key, done)
    wl = Worklist(store)
    dock = QtWidgets.QDockWidget("Worklist")
    dock.setWidget(WorklistPanel(wl))
    qtbot.addWidget(dock)
    dock.show()
    wl.set_studies(studies)
    wl.set_current(0)
    return dock


def test_the_worklist_dock_can_be_narrowed_to_260_px(dock, qtbot):
    panel = dock.widget()
    assert isinstance(panel, WorklistPanel)
    assert dock.minimumSizeHint().width() <= MAX_DOCK_WIDTH, dock.minimumSizeHint()
    dock.resize(dock.minimumSizeHint().width(), 400)
    qtbot.waitUntil(lambda: dock.width() <= MAX_DOCK_WIDTH, timeout=2_000)
    # the labels wrap, whole: none is cut at its end or its bottom
    for label in panel.findChildren(QtWidgets.QLabel):
        assert label.width() <= panel.width(), label.text()
        assert label.height() >= label.heightForWidth(label.width()), label.text()
    hint = next(lb for lb in panel.findChildren(QtWidgets.QLabel) if "PgDown" in lb.text())
    assert hint.wordWrap()
