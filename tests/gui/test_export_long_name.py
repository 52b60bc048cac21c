"""A file name too long for the file system in the Export dialog: "Export failed", not the viewer's unexpected-error
dialog (Path.exists raises ENAMETOOLONG; the JSON beside a PNG of 251 + 4 bytes is one byte over the limit)."""

from __future__ import annotations

from mammoview.gui import export_dialog
from tests.gui import cad_support

cad_models, cad_window = cad_support.cad_models, cad_support.cad_window
marked_study = cad_support.marked_study  # the fixture `study`


def test_too_long_name_in_dialog_is_reported_not_raised(study, tmp_path, qtbot):
    dlg = export_dialog.ExportDialog(study)
    qtbot.addWidget(dlg)
    dlg.path.setText(str(tmp_path / ("a" * 251 + ".png")))  # x.png fits 255 bytes, x.json does not
    dlg.accept()
    assert dlg.written is None
    assert study.last_message is not None


def test_too_long_png_name_in_dialog_is_reported_not_raised(study, tmp_path, qtbot):
    dlg = export_dialog.ExportDialog(study)
    qtbot.addWidget(dlg)
    dlg.path.setText(str(tmp_path / ("é" * 200 + ".png")))
    dlg.accept()
    assert dlg.written is None
    assert study.last_message is not None


def test_a_home_folder_of_no_such_user_in_dialog_is_reported_not_raised(study, qtbot):
    """'~nosuchuser/x.png': Path.expanduser raises RuntimeError, which reached the unexpected-error dialog."""
    dlg = export_dialog.ExportDialog(study)
    qtbot.addWidget(dlg)
    dlg.path.setText("~nosuchuser-mammoview/x.png")
    dlg.accept()
    assert dlg.written is None
    assert study.last_message is not None and "nosuchuser-mammoview" in str(study.last_message)
