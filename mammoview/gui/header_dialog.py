"""Image ▸ File header: the active view's file header, as mammoview read it and element by element.

A non-modal window with a filter (tag, name or value) over a tree: first how mammoview read
the file (view and why, spacing and its source, pixels, warnings: what ``mammoview info``
prints), then every DICOM element with sequences nested.  Headers only, read from the file
when asked; nothing is decoded and nothing leaves the machine.
"""

from __future__ import annotations

from PySide6 import QtCore, QtGui, QtWidgets

from mammoview.gui.dialogs import fit_to_screen
from mammoview.io.header_dump import dicom_rows, reading_rows
from mammoview.io.model import ImageInfo, LoadError

_READING = "How mammoview read it"


def _children(item: QtWidgets.QTreeWidgetItem) -> list[QtWidgets.QTreeWidgetItem]:
    return [c for k in range(item.childCount()) if (c := item.child(k)) is not None]


class HeaderDialog(QtWidgets.QDialog):
    """The header of one image file (``info`` as the viewer read it)."""

    def __init__(self, parent: QtWidgets.QWidget | None, title: str, info: ImageInfo) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"File header — {title} — {info.path.name}")
        self.setAttribute(QtCore.Qt.WidgetAttribute.WA_DeleteOnClose)
        fit_to_screen(self, 820, 640)
        self.filter = QtWidgets.QLineEdit(self)
        self.filter.setPlaceholderText("Filter: tag, name or value (e.g. 0028, spacing, MLO)")
        self.filter.setClearButtonEnabled(True)
        self.tree = QtWidgets.QTreeWidget(self)
        self.tree.setHeaderLabels(["Tag", "Name", "VR", "Value"])
        self.tree.setUniformRowHeights(True)
        self.tree.setAlternatingRowColors(True)
        self.tree.setSelectionMode(QtWidgets.QAbstractItemView.SelectionMode.ExtendedSelection)
        self.path_label = QtWidgets.QLabel(str(info.path), self)
        self.path_label.setTextFormat(QtCore.Qt.TextFormat.PlainText)  # a folder may be named "<b>…"
        self.path_label.setTextInteractionFlags(QtCore.Qt.TextInteractionFlag.TextSelectableByMouse)
        self.path_label.setWordWrap(True)
        buttons = QtWidgets.QDialogButtonBox(QtWidgets.QDialogButtonBox.StandardButton.Close, self)
        copy = buttons.addButton("Copy shown rows", QtWidgets.QDialogButtonBox.ButtonRole.ActionRole)
        copy.clicked.connect(self.copy_shown)
        buttons.rejected.connect(self.close)
        layout = QtWidgets.QVBoxLayout(self)
        layout.addWidget(self.path_label)
        layout.addWidget(self.filter)
        layout.addWidget(self.tree, 1)
        layout.addWidget(buttons)
        self.filter.textChanged.connect(self.apply_filter)
        self._fill(info)
        for column in range(3):
            self.tree.resizeColumnToContents(column)

    def _fill(self, info: ImageInfo) -> None:
        reading = QtWidgets.QTreeWidgetItem(self.tree, ["", _READING, "", ""])
        for what, value in reading_rows(info):
            QtWidgets.QTreeWidgetItem(reading, ["", what, "", value]).setToolTip(3, value)
        reading.setExpanded(True)
        if info.file_format != "DICOM":
            QtWidgets.QTreeWidgetItem(self.tree, ["", f"{info.file_format} file: no DICOM header", "", ""])
            return
        try:
            rows = dicom_rows(info.path)
        except LoadError as exc:  # the file changed or went away since it was opened
            QtWidgets.QTreeWidgetItem(self.tree, ["", "The header could not be read", "", exc.reason])
            return
        top = QtWidgets.QTreeWidgetItem(self.tree, ["", f"DICOM header ({len(rows)} rows)", "", ""])
        parents = [top]
        for row in rows:
            del parents[row.depth + 1 :]
            item = QtWidgets.QTreeWidgetItem(parents[-1], [row.tag, row.name, row.vr, row.value])
            item.setToolTip(3, row.value)
            parents.append(item)
        top.setExpanded(True)
        self.tree.expandAll()

    # -- filter and copy ----------------------------------------------------------------
    def apply_filter(self, text: str) -> None:
        """Show the rows whose tag, name or value contain ``text`` (any case), with their parents."""
        needle = text.strip().lower()

        def visit(item: QtWidgets.QTreeWidgetItem) -> bool:
            own = not needle or any(needle in item.text(c).lower() for c in range(4))
            child_shown = False
            for child in _children(item):
                child_shown |= visit(child)
            shown = own or child_shown
            item.setHidden(not shown)
            if needle and child_shown:
                item.setExpanded(True)
            return shown

        for group in _children(self.tree.invisibleRootItem()):
            if not visit(group):
                group.setHidden(False)  # the group titles stay, so an empty result reads as such

    def shown_rows(self) -> list[str]:
        """The rows not hidden by the filter, as tab-separated lines (indented by nesting)."""
        lines: list[str] = []

        def visit(item: QtWidgets.QTreeWidgetItem, depth: int) -> None:
            if item.isHidden():
                return
            cells = [item.text(c) for c in range(4)]
            lines.append("  " * depth + "\t".join(cells).strip("\t"))
            for child in _children(item):
                visit(child, depth + 1)

        for group in _children(self.tree.invisibleRootItem()):
            visit(group, 0)
        return lines

    def copy_shown(self) -> None:
        QtGui.QGuiApplication.clipboard().setText("\n".join(self.shown_rows()) + "\n")
