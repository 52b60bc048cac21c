"""Scrolling the CAD dock (a scroll area, for a short screen) with the mouse wheel must never change the reader's
decision: a wheel turn over the assessment or density box chose the next BI-RADS category (BI-RADS 1 negative ->
BI-RADS 2 benign -> BI-RADS 0 recall) or density, saved at once, with no word said."""

from __future__ import annotations

from PySide6 import QtCore, QtGui, QtWidgets

from mammoview.gui.read_state import Assessment, ReaderDecision


def _wheel(widget: QtWidgets.QWidget, steps: int) -> None:
    pos = QtCore.QPointF(widget.width() / 2, widget.height() / 2)
    glob = QtCore.QPointF(widget.mapToGlobal(pos.toPoint()))
    for _ in range(abs(steps)):
        event = QtGui.QWheelEvent(pos, glob, QtCore.QPoint(0, 0), QtCore.QPoint(0, -120 if steps > 0 else 120),
                                  QtCore.Qt.MouseButton.NoButton, QtCore.Qt.KeyboardModifier.NoModifier,
                                  QtCore.Qt.ScrollPhase.NoScrollPhase, False)  # fmt: skip
        QtWidgets.QApplication.sendEvent(widget, event)


def test_a_wheel_over_the_assessment_boxes_changes_no_decision(main_window, load, synthetic_study, qtbot):
    w = main_window
    load(w, [synthetic_study])
    controls = w.cad.assessment
    w.commands["assess_1"].trigger()  # BI-RADS 1 negative
    w.commands["density_b"].trigger()
    before = w.cad.reader.decision
    assert before == ReaderDecision(Assessment.NEGATIVE, "b")
    _wheel(controls.assessment, 2)  # the reader scrolls the CAD dock; the pointer passes over the boxes
    _wheel(controls.density, 1)
    qtbot.wait(20)
    assert w.cad.reader.decision == before, "a wheel turn over the boxes changed the reader's decision"
    assert w.cad.reader.store.load(w.cad.reader.read_key).decision == before
    assert controls.assessment.currentData() is Assessment.NEGATIVE and controls.density.currentData() == "b"
