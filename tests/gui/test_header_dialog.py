"""Image > File header: the active view's header, how mammoview read it, filtered, copied; bad cases said."""

from __future__ import annotations

from PySide6 import QtCore, QtGui, QtWidgets

from mammoview.gui.header_dialog import HeaderDialog
from mammoview.io.model import View


def open_dialogs(window) -> list[HeaderDialog]:  # type: ignore[no-untyped-def]
    return [w for w in window.findChildren(HeaderDialog) if w.isVisible()]


def test_the_header_of_the_active_view_filters_and_copies(main_window, load, synthetic_study, qtbot):
    load(main_window, [synthetic_study])
    main_window._activate(main_window.panels[View.LMLO])
    main_window.commands["header"].trigger()
    (dialog,) = open_dialogs(main_window)
    qtbot.addWidget(dialog)
    assert "L MLO" in dialog.windowTitle() and "LMLO.dcm" in dialog.windowTitle()
    text = "\n".join(dialog.shown_rows())
    assert "How mammoview read it" in text and "L from ImageLaterality" in text  # why the view hangs there
    assert "(0028,0030)\tPixel Spacing\tDS\t0.1\\0.1" in text and "(0002,0010)" in text
    dialog.filter.setText("spacing")  # tag, name or value, any case
    shown = dialog.shown_rows()
    assert any("Pixel Spacing" in r for r in shown) and any(r.strip().startswith("spacing") for r in shown)
    assert not any("Rows" in r for r in shown)
    dialog.filter.setText("(0028,0010)")
    assert any("\tRows\t" in r for r in dialog.shown_rows())
    dialog.filter.setText("no such thing at all")
    titles = [r.strip() for r in dialog.shown_rows()]  # nothing but the two groups' titles
    assert len(titles) == 2 and titles[0] == "How mammoview read it" and titles[1].startswith("DICOM header (")
    dialog.filter.clear()
    dialog.copy_shown()
    assert "Pixel Spacing" in QtWidgets.QApplication.clipboard().text()
    dialog.close()


def test_an_empty_view_and_a_file_gone_since_opening_are_said(main_window, load, synthetic_study, qtbot):
    (synthetic_study / "RCC.dcm").unlink()
    load(main_window, [synthetic_study])
    main_window._activate(main_window.panels[View.RCC])
    main_window.commands["header"].trigger()
    assert open_dialogs(main_window) == []
    assert "R CC shows no image" in main_window.statusBar().currentMessage()
    main_window._activate(main_window.panels[View.LCC])
    (synthetic_study / "LCC.dcm").write_bytes(b"gone")  # replaced on disk after it was opened
    main_window.commands["header"].trigger()
    (dialog,) = open_dialogs(main_window)
    qtbot.addWidget(dialog)
    text = "\n".join(dialog.shown_rows())
    assert "How mammoview read it" in text and "The header could not be read" in text and "not DICOM" in text
    dialog.close()


def test_a_path_that_looks_like_markup_is_shown_as_written(main_window, load, synthetic_study, qtbot):
    folder = synthetic_study.parent / "<b>x</b>"  # folders "<b>x<" and "b>": a path is not markup
    folder.parent.mkdir()
    synthetic_study.rename(folder)
    load(main_window, [folder])
    main_window._activate(main_window.panels[View.RCC])
    main_window.commands["header"].trigger()
    (dialog,) = open_dialogs(main_window)
    qtbot.addWidget(dialog)
    assert dialog.path_label.text() == str(folder / "RCC.dcm")
    assert QtGui.Qt.mightBeRichText(dialog.path_label.text())  # what Qt's automatic format would render
    assert dialog.path_label.textFormat() == QtCore.Qt.TextFormat.PlainText
    dialog.close()
