"""A plain "nothing here yet — do X" message in place of a plot that has no data.

An empty pyqtgraph plot still draws axes (the confusion matrix spans -500..500 before the first
evaluation), which reads as a result. This stack shows the message until the view says its data
arrived, and can go back to a message (with another text) when the data goes away.
"""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QStackedWidget, QWidget

EMPTY, CONTENT = 0, 1


class EmptyState(QStackedWidget):
    """Page 0: a centred, word-wrapped message. Page 1: the wrapped content widget."""

    def __init__(self, content: QWidget, message: str, parent=None):
        super().__init__(parent)
        self.message = QLabel(message)
        self.message.setObjectName("muted")
        self.message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.message.setWordWrap(True)
        self.message.setTextFormat(Qt.TextFormat.PlainText)
        self.message.setMargin(24)
        self.message.setStyleSheet("font-size: 11pt;")
        self.content = content
        self.addWidget(self.message)
        self.addWidget(content)
        self.setCurrentIndex(EMPTY)

    @property
    def is_empty(self) -> bool:
        return self.currentIndex() == EMPTY

    def show_empty(self, message: str | None = None) -> None:
        """Show the message (replacing its text when one is given) instead of the content."""
        if message is not None:
            self.message.setText(message)
        self.setCurrentIndex(EMPTY)

    def show_content(self) -> None:
        """Data arrived: show the content (cheap to call on every update)."""
        if self.currentIndex() != CONTENT:
            self.setCurrentIndex(CONTENT)
