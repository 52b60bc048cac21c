"""The reader's decision on the exam: screening assessment (BI-RADS 1 / 2 / 0) and density (a-d).

A screening read ends in a decision, and a second reader is judged by whether it changes
decisions for the better, so the decision is recorded twice: the unaided first read's
(frozen by "First read done") and the one after CAD (starting as a copy, which the reader
may change).  Both are saved with the read (:class:`~mammoview.gui.read_state.ReadState`),
shown in the worklist, exported, and listed by the worklist's read log.

The controls: CAD ▸ Your assessment (Alt+N negative, Alt+B benign, Alt+R recall,
Alt+Shift+A..D density; the checked entry again unsets it) and a row of two combo boxes
in the CAD dock, with the first read's decision below them once CAD is shown.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from PySide6 import QtCore, QtGui, QtWidgets

from mammoview.gui.read_state import DENSITIES, Assessment
from mammoview.gui.reader_marks import ReaderMarks

if TYPE_CHECKING:
    from mammoview.gui.main_window import MainWindow

#: N(egative), B(enign), R(ecall): Alt+digits choose the layout, and no menu title starts with these letters
_ASSESSMENT_KEYS = {Assessment.NEGATIVE: "Alt+N", Assessment.BENIGN: "Alt+B", Assessment.RECALL: "Alt+R"}
_UNSET = "—"
T = TypeVar("T")


def _toggle(setter: Callable[[T | None], object], value: T) -> Callable[[bool], None]:
    """A checkable entry's slot: checked sets ``value``, unchecked unsets."""

    def run(on: bool) -> None:
        setter(value if on else None)

    return run


class _DecisionCombo(QtWidgets.QComboBox):
    """A decision's box that a mouse wheel never changes: the wheel goes on to the CAD dock's scroll area (a reader
    scrolling the dock over the box would otherwise choose the next BI-RADS category or density, saved unseen)."""

    def wheelEvent(self, event: QtGui.QWheelEvent) -> None:  # (Qt's name)
        event.ignore()


class AssessmentControls(QtCore.QObject):
    """Menu entries + dock row for the reader's decision; both follow ``reader`` (:meth:`sync`)."""

    def __init__(self, window: MainWindow, reader: ReaderMarks, menu: QtWidgets.QMenu,
                 parent: QtCore.QObject | None = None) -> None:  # fmt: skip
        super().__init__(parent)
        self.window, self.reader = window, reader
        self.actions: dict[str, QtGui.QAction] = {}
        sub = menu.addMenu("Your &assessment")
        group = QtGui.QActionGroup(window)
        for a in Assessment:
            self._add(sub, f"assess_{a.value}", a.label, _ASSESSMENT_KEYS[a], f"Your assessment of the exam: "
                      f"{a.label} (again: unset)", _toggle(reader.set_assessment, a),
                      group)  # fmt: skip
        sub.addSeparator()
        group = QtGui.QActionGroup(window)
        for d in DENSITIES:
            self._add(sub, f"density_{d}", f"Density {d.upper()}", f"Alt+Shift+{d.upper()}",
                      f"Your density grade of the exam: {d} (again: unset)",
                      _toggle(reader.set_density, d), group)  # fmt: skip

        self.widget = QtWidgets.QWidget()
        self.assessment = _DecisionCombo()
        self.assessment.addItem(f"{_UNSET} assessment", None)
        for a in Assessment:
            self.assessment.addItem(a.label, a)
        self.assessment.setToolTip("Your assessment of the exam (Alt+N / Alt+B / Alt+R)")
        self.density = _DecisionCombo()
        self.density.addItem(f"{_UNSET} density", None)
        for d in DENSITIES:
            self.density.addItem(f"Density {d.upper()}", d)
        self.density.setToolTip("Your density grade of the exam (Alt+Shift+A..D)")
        # narrower than "BI-RADS 1 negative" where the dock is (its end cut, "BI-RADS 1 neg"; the list shows it whole)
        self.assessment.setSizeAdjustPolicy(QtWidgets.QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.assessment.setMinimumContentsLength(7)
        self.first_read = QtWidgets.QLabel("")
        self.first_read.setWordWrap(True)
        self.first_read.setStyleSheet("color: gray")
        self.assessment.activated.connect(lambda i: reader.set_assessment(self.assessment.itemData(i)))
        self.density.activated.connect(lambda i: reader.set_density(self.density.itemData(i)))
        grid = QtWidgets.QGridLayout(self.widget)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.addWidget(self.assessment, 0, 0)
        grid.addWidget(self.density, 0, 1)
        grid.addWidget(self.first_read, 1, 0, 1, 2)
        reader.changed.connect(self.sync)
        self.sync()

    def _add(self, menu: QtWidgets.QMenu, name: str, text: str, key: str, tip: str, slot: Callable[[bool], object],
             group: QtGui.QActionGroup) -> None:  # fmt: skip
        # Optional: triggering the checked entry again unsets it (and all may be unchecked).
        group.setExclusionPolicy(QtGui.QActionGroup.ExclusionPolicy.ExclusiveOptional)
        act = self.window.commands.add(menu, name, text, key, tip, slot, checkable=True)
        group.addAction(act)
        self.actions[name] = act

    def sync(self) -> None:
        """Show the decision being edited (first read, or after CAD) and, after CAD, the first read's."""
        state = self.reader.state
        decision = state.current_decision
        open_ = self.reader.study_key is not None
        for combo, value in ((self.assessment, decision.assessment), (self.density, decision.density)):
            combo.setCurrentIndex(max(0, combo.findData(value)) if value is not None else 0)
            combo.setEnabled(open_)
        assessed = decision.assessment.value if decision.assessment is not None else None
        for name, act in self.actions.items():
            kind, _, value = name.partition("_")
            act.setChecked(value == (assessed if kind == "assess" else decision.density))
            act.setEnabled(open_)
        if state.first_read_done:
            changed = "" if state.decision == decision else " — changed after CAD"
            self.first_read.setText(f"First read: {state.decision.text}{changed}")
        else:
            self.first_read.setText("Your first read (before CAD)" if open_ else "")
