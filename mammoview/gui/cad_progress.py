"""CAD progress in the status bar: a progress bar and a Cancel button, shown only while a job runs."""

from __future__ import annotations

from PySide6 import QtWidgets


class CadProgress(QtWidgets.QWidget):
    """``CAD 42% [=====     ] [Cancel]``; ``cancel_button.clicked`` is wired by the controller."""

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("CadProgress")
        self.label = QtWidgets.QLabel("CAD")
        self.bar = QtWidgets.QProgressBar()
        self.bar.setRange(0, 1000)
        self.bar.setMaximumWidth(180)
        self.bar.setTextVisible(True)
        self.cancel_button = QtWidgets.QToolButton()
        self.cancel_button.setText("Cancel")
        self.cancel_button.setToolTip("Stop the CAD (Ctrl+Shift+R)")
        layout = QtWidgets.QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.label)
        layout.addWidget(self.bar)
        layout.addWidget(self.cancel_button)
        self.hide()

    def start(self, text: str = "CAD") -> None:
        self.label.setText(text)
        self.bar.setValue(0)
        self.cancel_button.setEnabled(True)
        self.show()

    def update_progress(self, done: int, total: int) -> None:
        self.bar.setValue(round(1000 * done / total) if total else 0)

    def stop(self) -> None:
        self.hide()
