"""A keyboard read: keys go where a keyboard's go (QTest to the focused widget), and land on the images."""

from __future__ import annotations

from PySide6 import QtCore, QtWidgets
from PySide6.QtTest import QTest

from mammoview.cad.types import FindingKind
from mammoview.io.model import View
from tests.gui import cad_support
from tests.gui.cad_support import finding, planted_result
from tests.gui.conftest import mouse
from tests.gui.test_cad_operating import with_sources
from tests.gui.test_frames import tomo_study  # noqa: F401  (fixture: L CC a volume only)
from tests.gui.test_reader_marks import LEFT, NONE, click_stored, selected_r1

#: The shared CAD fixtures (tests/gui/cad_support.py), bound here so pytest finds them.
cad_models, cad_window = cad_support.cad_models, cad_support.cad_window

Key = QtCore.Qt.Key
ALT = QtCore.Qt.KeyboardModifier.AltModifier
CTRL = QtCore.Qt.KeyboardModifier.ControlModifier


def press(qtbot, key: Key, modifier: QtCore.Qt.KeyboardModifier = QtCore.Qt.KeyboardModifier.NoModifier) -> None:  # type: ignore[no-untyped-def]
    """One key, sent where the keyboard's would go: the focused widget (else the active window)."""
    target = QtWidgets.QApplication.focusWidget() or QtWidgets.QApplication.activeWindow()
    QTest.keyClick(target, key, modifier)
    qtbot.wait(30)


def active(window, qtbot) -> None:  # type: ignore[no-untyped-def]
    window.activateWindow()
    qtbot.waitActive(window)


def test_an_arrow_key_after_using_the_assessment_box_records_no_decision(main_window, load, synthetic_study, qtbot):
    """The reader opens the assessment box and closes it without a choice: a later Down, meant for the images (a
    slice), must not record BI-RADS 1 as this exam's first-read decision (nor change the mark kind)."""
    w = main_window
    load(w, [synthetic_study])
    active(w, qtbot)
    w.panels[View.RCC].graphics.setFocus()
    for box in (w.cad.assessment.assessment, w.cad.dock.kind_combo):
        QTest.mouseClick(box, QtCore.Qt.MouseButton.LeftButton)  # opens its list
        box.hidePopup()
        active(w, qtbot)
        kind = w.cad.marks_tool.kind
        press(qtbot, Key.Key_Down)
        press(qtbot, Key.Key_Down)
        assert w.cad.reader.decision.assessment is None, "Down recorded a decision the reader never made"
        assert w.cad.marks_tool.kind is kind
        assert w.hanging.isAncestorOf(QtWidgets.QApplication.focusWidget())


def test_slice_keys_still_step_after_the_cc_pair_then_the_mlo_pair(main_window, load, tomo_study, qtbot):  # noqa: F811
    """Alt+2 (CC pair), Alt+3 (MLO pair), Alt+1 (four views), the usual pair-by-pair read: the keyboard stays with
    the images, and Down still steps the L CC volume's slices."""
    w = main_window
    load(w, [tomo_study])
    active(w, qtbot)
    panel = w.panels[View.LCC]
    w._activate(panel)
    panel.graphics.setFocus()  # the reader clicked the L CC volume
    with qtbot.waitSignal(w.frames.frameShown, timeout=20_000):
        press(qtbot, Key.Key_Down)
    assert panel.image.frame == 1
    for key in (Key.Key_2, Key.Key_3, Key.Key_1):
        press(qtbot, key, ALT)
        focus = QtWidgets.QApplication.focusWidget()
        assert focus is not None and w.hanging.isAncestorOf(focus), f"the keyboard left the images: {focus!r}"
    with qtbot.waitSignal(w.frames.frameShown, timeout=20_000):
        press(qtbot, Key.Key_Down)
    assert panel.image.frame == 2


def test_escape_leaves_mark_mode_and_measure_mode_and_drops_a_line_being_drawn(cad_window, load, synthetic_study,
                                                                               qtbot):  # fmt: skip
    w = cad_window
    load(w, [synthetic_study])
    active(w, qtbot)
    rcc = w.panels[View.RCC]
    rcc.graphics.setFocus()
    press(qtbot, Key.Key_R)
    assert w.cad.marks_tool.enabled
    press(qtbot, Key.Key_Escape)
    assert not w.cad.marks_tool.enabled and w.statusBar().currentMessage() == "Mark mode off."
    click_stored(rcc, 90, 200)
    assert not w.cad.reader.marks  # a click after Esc only selects
    press(qtbot, Key.Key_U)
    assert w.cad.measure_tool.enabled
    vp = rcc.graphics.viewport()
    c = vp.rect().center()
    mouse(vp, "press", (c.x(), c.y()), LEFT)
    mouse(vp, "move", (c.x() + 40, c.y() + 30), LEFT, LEFT)
    mouse(vp, "move", (c.x() + 80, c.y() + 60), LEFT, LEFT)
    assert w.cad.measure_tool._rubber[View.RCC]  # a line being drawn
    press(qtbot, Key.Key_Escape)
    mouse(vp, "release", (c.x() + 80, c.y() + 60), LEFT, NONE)
    assert not w.cad.measure_tool.enabled and not w.cad.reader.measurements
    assert not w.cad.measure_tool._rubber[View.RCC]


def test_del_in_the_findings_list_deletes_the_row_chosen_and_nothing_under_a_title(cad_window, load, synthetic_study,
                                                                                   qtbot):  # fmt: skip
    w = cad_window
    load(w, [synthetic_study])
    w.cad.set_result(planted_result(w, {View.RCC: [finding(FindingKind.MASS, 90, 200)]}))
    w.commands["cad_first_read_done"].trigger()
    rcc = w.panels[View.RCC]
    w.commands["cad_mark_mode"].trigger()
    click_stored(rcc, 91, 201)  # after CAD, on the CAD finding: a matched row
    click_stored(rcc, 200, 380)  # elsewhere: a reader-only row
    w.commands["cad_mark_mode"].trigger()
    tree = w.cad.findings.tree
    items = [tree.topLevelItem(i) for i in range(tree.topLevelItemCount())]
    matched = next(i for i in items if i.text(0).startswith("Matched"))
    reader_only = next(i for i in items if i.text(0).startswith("Reader only"))
    tree.setCurrentItem(reader_only.child(0))  # R2 selected ...
    tree.setCurrentItem(reader_only)  # ... then Up onto its group's title
    w.commands["cad_delete_mark"].trigger()
    assert [m.label for m in w.cad.reader.marks] == ["R1", "R2"]  # Del under a title deletes nothing
    tree.setCurrentItem(matched.child(0))
    w.commands["cad_delete_mark"].trigger()  # as the Delete button beside the list does
    assert [m.label for m in w.cad.reader.marks] == ["R2"]
    active(w, qtbot)
    rcc.graphics.setFocus()
    press(qtbot, Key.Key_Y, CTRL)  # redo's other habit
    press(qtbot, Key.Key_Z, CTRL)
    assert [m.label for m in w.cad.reader.marks] == ["R1", "R2"]
    press(qtbot, Key.Key_Y, CTRL)
    assert [m.label for m in w.cad.reader.marks] == ["R2"]


def test_alt2_with_the_keys_on_a_hidden_view_keeps_the_selected_mark(cad_window, load, synthetic_study, qtbot):
    """R1 selected on R CC, the reader clicks L MLO, Alt+2 (CC pair): R1 stays selected and Del deletes it. The
    focus went via the findings list (the CAD dock no longer takes it), whose focus-in made its first row, a
    group's title, current: titleActivated -> _select_nothing."""
    w = cad_window
    load(w, [synthetic_study])
    active(w, qtbot)
    selected_r1(w)
    (r1,) = w.cad.reader.marks
    press(qtbot, Key.Key_R)  # mark mode off; R1 stays selected
    assert w.cad.selected_mark is r1
    w.panels[View.LMLO].graphics.setFocus(QtCore.Qt.FocusReason.MouseFocusReason)  # the reader clicked L MLO
    press(qtbot, Key.Key_2, ALT)
    assert w.cad.selected_mark is r1, "Alt+2 unselected the mark"
    press(qtbot, Key.Key_Delete)
    assert not w.cad.reader.marks


def test_the_marks_operating_point_can_be_chosen_with_the_keyboard(cad_window, load, synthetic_study, qtbot):
    """No menu entry or shortcut chooses the CAD marks' operating point (CAD dock, 'Marks'): Tab must reach it."""
    w = cad_window
    load(w, [synthetic_study])
    w.cad.set_result(with_sources(planted_result(w, {})))
    w.commands["cad_first_read_done"].trigger()
    active(w, qtbot)
    combo = w.cad.dock.operating
    assert combo.isEnabled()
    w.panels[View.RCC].graphics.setFocus()
    for _ in range(60):
        press(qtbot, Key.Key_Tab)
        if QtWidgets.QApplication.focusWidget() is combo:
            break
    assert QtWidgets.QApplication.focusWidget() is combo, "Tab never reaches the operating point"
    press(qtbot, Key.Key_Down)
    assert w.cad.style.operating_fpi == 0.25
