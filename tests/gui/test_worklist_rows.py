"""A row update of a long worklist (PgDown, a mark) must not measure the whole list once per cell it changes."""

from __future__ import annotations

from dataclasses import replace

from PySide6 import QtCore, QtWidgets

from mammoview.gui.read_store import ReadStore
from mammoview.gui.worklist import Worklist, WorklistPanel
from mammoview.io import open_paths
from tests.gui.test_worklist import batch


class CountingTree(QtWidgets.QTreeWidget):
    """Counts how often a column is measured over its rows (what ResizeToContents does on every change)."""

    measured = 0

    def sizeHintForColumn(self, column: int) -> int:  # Qt's virtual
        CountingTree.measured += 1
        return super().sizeHintForColumn(column)


def test_stepping_measures_each_column_once_not_once_per_cell(qtbot, tmp_path, monkeypatch):
    studies, _ = open_paths([batch(tmp_path / "b")])
    many = tuple(replace(studies[i % 3], key=f"1.2.3.{i}") for i in range(300))
    wl = Worklist(ReadStore(tmp_path / "reads"))
    monkeypatch.setattr(QtWidgets, "QTreeWidget", CountingTree)  # the panel builds its tree from it
    panel = WorklistPanel(wl)
    qtbot.addWidget(panel)
    panel.resize(400, 600)
    panel.show()
    wl.set_studies(many)
    wl.set_current(0)
    QtWidgets.QApplication.processEvents()
    CountingTree.measured = 0
    wl.set_current(1)  # PgDown: the old row and the new one change (marker, bold font): 2 rows x 4 cells x 2
    QtCore.QCoreApplication.processEvents()
    # three columns are sized to their contents; measuring each once or twice a row is fine, once per cell is not
    assert CountingTree.measured <= 12, CountingTree.measured
    # and the columns still fit what they show
    first = panel.tree.topLevelItem(1)
    width = panel.tree.fontMetrics().horizontalAdvance(first.text(0))
    assert panel.tree.header().sectionSize(0) >= width
