"""One way to tell the person something failed: a window-modal QMessageBox with the traceback
tucked under "Show Details…". `open()` (not `exec()`) keeps the event loop — and a running
training — going while the dialog is up."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox, QWidget


def show_error(parent: QWidget | None, title: str, message: str, details: str = "") -> QMessageBox:
    box = QMessageBox(QMessageBox.Icon.Critical, title, message,
                      QMessageBox.StandardButton.Ok, parent)
    if details:
        box.setDetailedText(details)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.open()
    return box
