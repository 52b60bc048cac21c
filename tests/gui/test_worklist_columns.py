"""The worklist's Study column keeps the study's date readable when a read's status is long."""

from __future__ import annotations

from pathlib import Path

from PySide6 import QtGui, QtWidgets

from mammoview.gui.read_state import Assessment, ReaderDecision, ReadState
from mammoview.gui.read_store import ReadStore
from mammoview.gui.worklist import COLUMNS, Worklist, WorklistPanel, worklist_title
from mammoview.io import open_paths
from mammoview.io.model import StudyInfo
from tests.gui.conftest import write_view


def two_studies_first_read(folder: Path) -> tuple[list[StudyInfo], Worklist]:
    """Two four-view studies of one date in ``folder``, the first read with BI-RADS 1 (a long Read status), and a
    worklist over the reads saved there (its studies not set yet)."""
    for n, pid in enumerate(("P_00173", "P_00820")):
        for view in ("RCC", "LCC", "RMLO", "LMLO"):
            write_view(folder / pid, f"{view}.dcm", view, study_uid=f"1.2.3.{n + 1}", patient_id=pid,
                       patient_name="", study_date="20161004")  # fmt: skip
    studies, _ = open_paths([folder])
    store = ReadStore(folder / "reads")
    done = ReadState(first_read_done=True, decision_after_cad=ReaderDecision(Assessment.NEGATIVE, "b"))
    store.save(studies[0].key, done)
    return studies, Worklist(store)


def test_a_long_read_status_leaves_the_study_date_readable(qtbot, tmp_path):
    """A dock of 380 px (its width in a 1280 x 800 window): once the first study was read the Read column grew to
    ``read · BI-RADS 1 · 0 marks`` and the stretched Study column, squeezed, showed ``2…4`` for the date of both
    studies.  The status gives way now (elided at its end, whole in the tooltip); the Study column keeps a date."""
    studies, wl = two_studies_first_read(tmp_path)
    panel = WorklistPanel(wl)
    qtbot.addWidget(panel)
    panel.resize(380, 200)
    panel.show()
    wl.set_studies(studies)
    wl.set_current(0)
    qtbot.wait(50)
    tree, study, read = panel.tree, COLUMNS.index("Study"), COLUMNS.index("Read")
    first = tree.topLevelItem(0)
    assert worklist_title(studies[0]) == "2016-10-04" and first.text(read) == "read · BI-RADS 1 · 0 marks"
    bold = QtGui.QFontMetrics(first.font(study))  # the study on screen is in bold
    assert tree.header().sectionSize(study) > bold.horizontalAdvance("2016-10-04"), tree.header().sectionSize(study)
    assert first.toolTip(read) == "read · BI-RADS 1 · 0 marks"
    # every column still on screen: nothing pushed behind a sideways scroll bar
    assert tree.header().length() <= tree.viewport().width()
    # and a wide dock shows the whole status again
    panel.resize(900, 200)
    qtbot.wait(50)
    assert tree.header().sectionSize(read) >= tree.sizeHintForColumn(read)
    QtWidgets.QApplication.processEvents()
