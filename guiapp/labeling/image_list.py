"""The list of images in review order, with each one's score and whether its mask was edited
(saved, with an original in the backup folder) or has unsaved changes. Next/Previous walk the
list top to bottom, so ranking the list *is* choosing the order of work."""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont
from PySide6.QtWidgets import QAbstractItemView, QTreeWidget, QTreeWidgetItem


EDITED, UNSAVED = "edited", "unsaved"
_MARKS = {EDITED: ("✎ edited", "#1f7a3a"), UNSAVED: ("● unsaved", "#b25b00"), "": ("", "#000000")}


class ImageList(QTreeWidget):
    """Signals: picked(str) when the person selects an image (not when set_current is called)."""

    picked = Signal(str)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setColumnCount(3)
        self.setHeaderLabels(["Image", "Score", ""])
        self.setRootIsDecorated(False)
        self.setUniformRowHeights(True)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setAlternatingRowColors(True)
        self.header().setStretchLastSection(False)
        self.setColumnWidth(0, 130)
        self.setColumnWidth(1, 56)
        self.setColumnWidth(2, 80)
        self._items: dict[str, QTreeWidgetItem] = {}
        self._quiet = False
        self.itemSelectionChanged.connect(self._on_selection)

    def set_names(self, names: list[str], scores: dict[str, float] | None = None,
                  marks: dict[str, str] | None = None, tips: dict[str, str] | None = None) -> None:
        """Show `names` in this order, `tips` on hover; keeps the current selection if it is
        still listed."""
        current = self.current_name()
        self._quiet = True
        self.clear()
        self._items = {}
        for name in names:
            item = QTreeWidgetItem([name, "", ""])
            item.setData(0, Qt.ItemDataRole.UserRole, name)
            score = (scores or {}).get(name)
            if score is not None and score == score:
                item.setText(1, f"{score:.3f}")
                item.setTextAlignment(1, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            tip = (tips or {}).get(name)
            if tip:
                item.setToolTip(0, tip)
                item.setToolTip(1, tip)
            self._items[name] = item
            self.addTopLevelItem(item)
            self.set_mark(name, (marks or {}).get(name, ""))
        self._quiet = False
        if current in self._items:
            self.set_current(current)

    def set_score_title(self, title: str, tip: str = "") -> None:
        """Name the score column after what it holds (uncertainty, error)."""
        self.headerItem().setText(1, title)
        self.headerItem().setToolTip(1, tip)

    def names(self) -> list[str]:
        return [self.topLevelItem(i).data(0, Qt.ItemDataRole.UserRole)
                for i in range(self.topLevelItemCount())]

    def set_mark(self, name: str, mark: str) -> None:
        item = self._items.get(name)
        if item is None:
            return
        text, colour = _MARKS[mark]
        item.setText(2, text)
        item.setForeground(2, QBrush(QColor(colour)))
        font = QFont(item.font(0))
        font.setItalic(mark == UNSAVED)
        font.setBold(mark == EDITED)
        item.setFont(0, font)

    def mark(self, name: str) -> str:
        item = self._items.get(name)
        text = item.text(2) if item is not None else ""
        return next((k for k, (t, _c) in _MARKS.items() if t == text), "")

    def current_name(self) -> str | None:
        items = self.selectedItems()
        return items[0].data(0, Qt.ItemDataRole.UserRole) if items else None

    def set_current(self, name: str) -> None:
        item = self._items.get(name)
        if item is None:
            return
        self._quiet = True
        self.setCurrentItem(item)
        item.setSelected(True)
        self.scrollToItem(item)
        self._quiet = False

    def neighbour(self, name: str | None, step: int) -> str | None:
        """The image `step` rows after (negative: before) `name` in the shown order."""
        names = self.names()
        if not names:
            return None
        if name not in self._items:
            return names[0]
        i = names.index(name) + step
        return names[i] if 0 <= i < len(names) else None

    def _on_selection(self) -> None:
        name = self.current_name()
        if not self._quiet and name is not None:
            self.picked.emit(name)
