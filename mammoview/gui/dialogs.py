"""Dialogs: open paths, problem reports, shortcuts, about.

All are opened with ``open()`` (window-modal, non-blocking) so the event loop -- and
any loading in progress -- keeps running, and tests can drive them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from PySide6 import QtCore, QtGui, QtWidgets

from mammoview import __version__
from mammoview.gui.settings import ViewerSettings

RESEARCH_NOTICE = (
    "Research use only. mammoview is not a medical device; its CAD output is not a diagnosis "
    "and must not be used for clinical decisions."
)


#: Room left for a window's frame on the screen (title bar and borders; the desktop draws them).
_FRAME = QtCore.QSize(16, 40)


def fit_to_screen(widget: QtWidgets.QWidget, width: int, height: int) -> None:
    """Resize the window ``widget`` to ``width`` x ``height``, or less where its screen has less room.

    A 1366 x 768 laptop, or a high-DPI screen at 200 % (1600 x 1000 pixels are 800 x 500), has less room than
    the sizes chosen for a desktop monitor; a window larger than the screen puts its status bar and buttons out
    of reach.  The desktop's frame (title bar, borders) is not known before the window is shown: room is left for it.
    """
    screen = widget.screen() or QtGui.QGuiApplication.primaryScreen()
    size = QtCore.QSize(width, height)
    if screen is not None:
        size = size.boundedTo(screen.availableGeometry().size() - _FRAME)
    widget.resize(size)


IMAGE_FILTER = "Images (*.dcm *.dicom *.dic *.ima *.png *.jpg *.jpeg *.pgm *.tif *.tiff *.bmp);;All files (*)"


def ask_paths(parent: QtWidgets.QWidget, settings: ViewerSettings, folder: bool) -> list[str]:
    """Ask for a folder or for files (starting where the reader last opened one); [] if cancelled."""
    start = settings.value("file/last_dir", str(Path.home()))
    if folder:
        chosen = QtWidgets.QFileDialog.getExistingDirectory(parent, "Open folder", start)
        paths = [chosen] if chosen else []
    else:
        paths, _ = QtWidgets.QFileDialog.getOpenFileNames(parent, "Open files", start, IMAGE_FILTER)
    if paths:
        settings.set_value("file/last_dir", paths[0] if folder else str(Path(paths[0]).parent))
    return paths


def ask_text(parent: QtWidgets.QWidget, title: str, label: str, text: str = "") -> str | None:
    """A one-line text question; None when cancelled."""
    value, ok = QtWidgets.QInputDialog.getText(parent, title, label, text=text)
    return value if ok else None


def ask_yes_no(parent: QtWidgets.QWidget, title: str, text: str) -> bool:
    """A modal Yes / No question (No by default); True for Yes."""
    buttons = QtWidgets.QMessageBox.StandardButton
    return QtWidgets.QMessageBox.question(parent, title, text, buttons.Yes | buttons.No, buttons.No) == buttons.Yes


def message_box(
    parent: QtWidgets.QWidget, icon: QtWidgets.QMessageBox.Icon, title: str, text: str, details: str = ""
) -> QtWidgets.QMessageBox:
    """Open a non-blocking message box (deleted when closed) and return it."""
    box = QtWidgets.QMessageBox(icon, title, text, QtWidgets.QMessageBox.StandardButton.Ok, parent)
    if details:
        box.setDetailedText(details)
    box.setAttribute(QtCore.Qt.WidgetAttribute.WA_DeleteOnClose)
    box.open()
    return box


def choice_box(
    parent: QtWidgets.QWidget, title: str, text: str, choices: Sequence[str], chosen: Callable[[int], None]
) -> QtWidgets.QMessageBox:
    """Open a non-blocking question (deleted when closed) with a button for each of ``choices``, and return it;
    ``chosen(i)`` once the reader picks ``choices[i]``.  The last choice is the default, and Esc's (the box closed
    picks it): the one that changes nothing."""
    box = QtWidgets.QMessageBox(QtWidgets.QMessageBox.Icon.Warning, title, text,
                                QtWidgets.QMessageBox.StandardButton.NoButton, parent)  # fmt: skip
    buttons = [box.addButton(choice, QtWidgets.QMessageBox.ButtonRole.ActionRole) for choice in choices]
    box.setDefaultButton(buttons[-1])
    box.setEscapeButton(buttons[-1])
    box.setTextInteractionFlags(QtCore.Qt.TextInteractionFlag.TextSelectableByMouse)  # (a file's path, to copy)
    box.buttonClicked.connect(lambda button: chosen(buttons.index(button)) if button in buttons else None)
    box.setAttribute(QtCore.Qt.WidgetAttribute.WA_DeleteOnClose)
    box.open()
    return box


def shortcuts_dialog(parent: QtWidgets.QWidget, actions: Sequence[QtGui.QAction]) -> QtWidgets.QDialog:
    """A table of every action with a shortcut, plus the mouse gestures."""
    dlg = QtWidgets.QDialog(parent)
    dlg.setWindowTitle("Keyboard shortcuts and mouse")
    table = QtWidgets.QTableWidget(0, 2, dlg)
    table.setHorizontalHeaderLabels(["Action", "Shortcut"])
    rows = [(a.text().replace("&", ""), a.shortcut().toString(QtGui.QKeySequence.SequenceFormat.NativeText))
            for a in actions if not a.shortcut().isEmpty()]  # fmt: skip
    rows += [
        ("Pan", "Left drag"),
        ("Zoom about the cursor", "Mouse wheel (Ctrl + wheel over a tomosynthesis volume)"),
        ("Tomosynthesis slices", "Mouse wheel over the volume"),
        ("Window / level", "Right or middle drag (left drag in W/L mode)"),
        ("Maximise / restore a view", "Double click"),
        ("View menu (presets, duplicates, assign view)", "Right click"),
        ("Open studies", "Drop files or folders on the window"),
    ]
    table.setRowCount(len(rows))
    for r, (name, key) in enumerate(rows):
        table.setItem(r, 0, QtWidgets.QTableWidgetItem(name))
        table.setItem(r, 1, QtWidgets.QTableWidgetItem(key))
    table.resizeColumnsToContents()
    table.horizontalHeader().setStretchLastSection(True)
    table.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
    layout = QtWidgets.QVBoxLayout(dlg)
    layout.addWidget(table)
    close = QtWidgets.QDialogButtonBox(QtWidgets.QDialogButtonBox.StandardButton.Close)
    close.rejected.connect(dlg.reject)
    layout.addWidget(close)
    # as wide as both columns (the mouse gestures are long), so neither is cut off behind a sideways scroll bar
    margins = layout.contentsMargins()
    needed = (table.verticalHeader().sizeHint().width() + table.horizontalHeader().length()
              + table.verticalScrollBar().sizeHint().width() + 2 * table.frameWidth()
              + margins.left() + margins.right())  # fmt: skip
    fit_to_screen(dlg, max(560, needed), 620)
    dlg.setAttribute(QtCore.Qt.WidgetAttribute.WA_DeleteOnClose)
    dlg.open()
    return dlg


def about_box(parent: QtWidgets.QWidget) -> QtWidgets.QMessageBox:
    text = (
        f"<h3>mammoview {__version__}</h3>"
        "<p>Mammography viewer with a deep-learning CAD second reader.</p>"
        f"<p><b>{RESEARCH_NOTICE}</b></p>"
        "<p>Code: MIT licence. The CAD models in <code>models/</code>: research use only, not for clinical use, as "
        "their training data's licences ask (CBIS-DDSM, CC BY 3.0; mini-MIAS and MAGIC-5, research use); see "
        "<code>models/MODEL_CARD.md</code>.</p>"
    )
    box = QtWidgets.QMessageBox(QtWidgets.QMessageBox.Icon.Information, "About mammoview", text,
                                QtWidgets.QMessageBox.StandardButton.Ok, parent)  # fmt: skip
    box.setTextFormat(QtCore.Qt.TextFormat.RichText)
    box.setAttribute(QtCore.Qt.WidgetAttribute.WA_DeleteOnClose)
    box.open()
    return box
