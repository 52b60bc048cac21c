"""File ▸ Export…: where to write, what to include, and a question before overwriting anything.

The picture is painted on the GUI thread (a grab of the widgets), then encoded and written in a worker thread
(:attr:`MainWindow.picture_export <mammoview.gui.main_window.MainWindow.picture_export>`); the dialog waits hidden
meanwhile, and closes once the pair is written, or comes back after its problem is said (to choose another name).
"""

from __future__ import annotations

import datetime as _dt
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6 import QtCore, QtWidgets

from mammoview.gui.dialogs import fit_to_screen
from mammoview.gui.export import ExportResult, export_paths, paint_export
from mammoview.gui.pseudonym import study_pseudonym

if TYPE_CHECKING:
    from mammoview.gui.main_window import MainWindow


def confirm_overwrite(parent: QtWidgets.QWidget, existing: list[Path]) -> bool:
    """Ask whether to replace ``existing`` files (modal: the reader must answer before anything is written)."""
    names = "\n".join(str(p) for p in existing)
    answer = QtWidgets.QMessageBox.question(
        parent, "Replace files?", f"These files exist:\n{names}\n\nReplace them?",
        QtWidgets.QMessageBox.StandardButton.Yes | QtWidgets.QMessageBox.StandardButton.No,
        QtWidgets.QMessageBox.StandardButton.No,
    )  # fmt: skip
    return answer == QtWidgets.QMessageBox.StandardButton.Yes


def default_name(window: MainWindow) -> str:
    """``mammoview-<pseudonym8>-<date>.png``: no patient name or ID in the file name, nor a hash that gives it."""
    key = window.cad.study_key or "study"
    return f"mammoview-{study_pseudonym(key)[:8]}-{_dt.date.today():%Y%m%d}.png"


class ExportDialog(QtWidgets.QDialog):
    """Path, layout or active view, identifiers in or out."""

    def __init__(self, window: MainWindow, active_only: bool = False) -> None:
        super().__init__(window)
        self.window_ = window
        self.setWindowTitle("Export picture and findings")
        self.setAttribute(QtCore.Qt.WidgetAttribute.WA_DeleteOnClose)
        folder = Path(window.settings.value("export/last_dir", str(Path.home())))
        self.path = QtWidgets.QLineEdit(str(folder / default_name(window)))
        browse = QtWidgets.QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        self.layout_button = QtWidgets.QRadioButton("Hanging layout as shown (2x2)")
        self.active_button = QtWidgets.QRadioButton("Active view only")
        (self.active_button if active_only else self.layout_button).setChecked(True)
        self.anonymize = QtWidgets.QCheckBox("Leave out patient identifiers (name, ID, birth date, accession)")
        self.anonymize.setChecked(window.settings.flag("export/anonymize", True))
        buttons = QtWidgets.QDialogButtonBox(
            QtWidgets.QDialogButtonBox.StandardButton.Save | QtWidgets.QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        row = QtWidgets.QHBoxLayout()
        row.addWidget(self.path, 1)
        row.addWidget(browse)
        layout = QtWidgets.QVBoxLayout(self)
        layout.addWidget(QtWidgets.QLabel("PNG file (a findings JSON with the same name is written beside it):"))
        layout.addLayout(row)
        layout.addWidget(self.layout_button)
        layout.addWidget(self.active_button)
        layout.addWidget(self.anonymize)
        layout.addWidget(buttons)
        fit_to_screen(self, 560, 200)
        self.written: tuple[Path, Path] | None = None
        self._study_key = window.cad.study_key  # the study this export was asked for (its file name is of it)

    def _browse(self) -> None:
        chosen, _ = QtWidgets.QFileDialog.getSaveFileName(
            self, "Export to", self.path.text(), "PNG image (*.png)",
            options=QtWidgets.QFileDialog.Option.DontConfirmOverwrite,  # asked once below, for both files
        )  # fmt: skip
        if chosen:
            self.path.setText(chosen)

    def accept(self) -> None:
        text = self.path.text().strip()
        if not text or self.window_.picture_export.refused():  # (busy: the dialog stays, to Save once it is written)
            return
        try:
            chosen = Path(text).expanduser()  # "~/exports/x.png"; a bare name goes where the dialog proposed
            if not chosen.is_absolute():
                chosen = Path(self.window_.settings.value("export/last_dir", str(Path.home()))).expanduser() / chosen
        except RuntimeError as exc:  # "~nosuchuser/x.png": no such user's home (Path raises RuntimeError)
            said = f"{text}: {str(exc).rstrip('.')} (no such user's home folder): choose another file name"
            self.window_.report_problems("Export failed", [said], critical=True)
            return
        png, js = export_paths(chosen)
        try:  # a name too long for the file system (the JSON's is one byte longer than the PNG's) raises here
            folders = [p for p in (png, js) if p.is_dir()]
            existing = [p for p in (png, js) if p.exists()]
        except OSError as exc:
            self.window_.report_problems("Export failed", [f"{exc.strerror or exc}: choose another file name"],
                                         critical=True)  # fmt: skip
            return
        if folders:
            self.window_.report_problems("Export failed", [f"{p} is a folder: choose another file name"
                                                           for p in folders], critical=True)  # fmt: skip
            return
        if existing and not confirm_overwrite(self, existing):
            return  # back to the dialog: the reader picks another name
        if self.window_.cad.study_key != self._study_key:  # the reader's step landed meanwhile: not that study's file
            self.window_.show_status("Export: another study went up meanwhile; nothing written (export it again).",
                                     8000)  # fmt: skip
            self.reject()
            return
        loaded = self.window_.loaded
        if loaded is None or loaded.preview or self.window_.priors.previewing:  # a preview (or the prior's) on screen
            self.window_.show_status("Export: the study on screen is still decoding; export it once shown.", 6000)
            return
        self.hide()  # not in the picture
        QtWidgets.QApplication.processEvents()
        try:
            painted = paint_export(self.window_, png, active_only=self.active_button.isChecked(),
                                   anonymize=self.anonymize.isChecked(), overwrite=bool(existing))  # fmt: skip
        except OSError as exc:
            self.window_.report_problems("Export failed", [str(exc)], critical=True)
            self.show()
            return
        if not self.window_.picture_export.start(lambda _progress, _cancelled: painted.write(), self._written):
            self.show()  # another export took the slot while this one hid (its status says so): Save again later

    def _written(self, result: ExportResult | None) -> None:
        """The pair is written (or, None, its problem was said: the dialog comes back, for another name)."""
        if result is None:
            self.show()
            return
        self.written = (result.png, result.json)
        self.window_.settings.set_value("export/last_dir", str(result.png.parent))
        self.window_.settings.set_value("export/anonymize", self.anonymize.isChecked())
        self.window_.show_status(f"Exported {result.png.name} and {result.json.name} to {result.png.parent}", 8000)
        super().accept()


def open_export_dialog(window: MainWindow, active_only: bool = False) -> None:
    """File ▸ Export… (Ctrl+E) / Export active view (Ctrl+Shift+E)."""
    if window.loaded is None:
        window.show_status("Export: open a study first.", 4000)
        return
    if window.loaded.preview or window.priors.previewing:  # a picture of the full pixels only (mammoview.io.preview)
        window.show_status("Export: the full-resolution pixels are still decoding (a few seconds); export then.", 6000)
        return
    if window.picture_export.refused():  # said before the dialog: no name chosen for nothing
        return
    ExportDialog(window, active_only=active_only).open()
