"""Class legend: a colour chip per class, wrapped to the available width. Classes absent from the
current mask are greyed, so the legend also answers "what is in this picture?"."""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QListView, QListWidget, QListWidgetItem

from guiapp.widgets.np_qimage import colour_icon


class ClassLegend(QListWidget):
    """Read-only legend over a core ClassSchema."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setFlow(QListView.Flow.LeftToRight)
        self.setWrapping(True)
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setSelectionMode(QListWidget.SelectionMode.NoSelection)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setIconSize(QSize(14, 14))
        self.setSpacing(2)
        self.setMaximumHeight(64)
        self.setStyleSheet("QListWidget { background: transparent; border: none; }")

    def set_schema(self, schema) -> None:
        self.clear()
        for name, rgb in zip(schema.names, schema.colors):
            item = QListWidgetItem(colour_icon(tuple(rgb)), name)
            item.setToolTip(f"{name}  rgb{tuple(rgb)}")
            self.addItem(item)

    def set_present(self, mask: np.ndarray | None) -> None:
        """Grey out the classes that do not occur in `mask` (all normal when mask is None)."""
        present = set(np.unique(mask).tolist()) if mask is not None else None
        for i in range(self.count()):
            item = self.item(i)
            on = present is None or i in present
            item.setForeground(QColor("#1f2a33") if on else QColor("#b3bcc4"))
            f = item.font()
            f.setBold(bool(on and present is not None))
            item.setFont(f)

    def present_names(self) -> list[str]:
        return [self.item(i).text() for i in range(self.count()) if self.item(i).font().bold()]
