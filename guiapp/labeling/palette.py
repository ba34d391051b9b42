"""Class palette: one swatch button per class with its name and number key, and a large
"painting with" chip on top, so the class the next stroke will paint is never in doubt."""
from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtWidgets import (QButtonGroup, QLabel, QScrollArea, QSizePolicy, QToolButton,
                               QVBoxLayout, QWidget)

from guiapp.widgets.np_qimage import colour_icon

KEYS = "1234567890"  # key for class index i is KEYS[i] (0 picks the tenth class)


def key_for(index: int) -> str:
    return KEYS[index] if index < len(KEYS) else ""


def _text_colour(rgb) -> str:
    r, g, b = rgb
    return "#000000" if 0.299 * r + 0.587 * g + 0.114 * b > 140 else "#ffffff"


class ClassPalette(QWidget):
    """Buttons follow editor.class_changed; clicking one calls editor.set_class."""

    def __init__(self, editor, parent=None):
        super().__init__(parent)
        self.editor = editor
        self.current = QLabel("—")
        self.current.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.current.setMinimumHeight(34)
        self.current.setToolTip("The class the brush, fill and polygon paint")
        self.group = QButtonGroup(self)
        self.group.setExclusive(True)
        self.group.idClicked.connect(editor.set_class)
        self._list = QWidget()
        self._list_layout = QVBoxLayout(self._list)
        self._list_layout.setContentsMargins(0, 0, 0, 0)
        self._list_layout.setSpacing(2)
        scroll = QScrollArea()
        scroll.setWidget(self._list)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.current)
        layout.addWidget(scroll, 1)
        hint = QLabel("Keys 1–9, 0 pick a class · E erases to void")
        hint.setStyleSheet("color: #5b6670; font-size: 11px;")
        hint.setWordWrap(True)
        layout.addWidget(hint)
        self._schema = None
        editor.class_changed.connect(self._show_current)
        editor.tool_changed.connect(lambda _t: self._show_current(self.editor.current_class))

    def set_schema(self, schema) -> None:
        if schema == self._schema:
            return
        self._schema = schema
        for b in self.group.buttons():
            self.group.removeButton(b)
            b.deleteLater()
        for i, (name, rgb) in enumerate(zip(schema.names, schema.colors)):
            key = key_for(i)
            b = QToolButton()
            b.setCheckable(True)
            b.setIcon(colour_icon(tuple(rgb), 18))
            b.setIconSize(QSize(18, 18))
            b.setText(f"{key or ' '}   {name}")
            b.setToolTip(f"{name}" + (f" (key {key})" if key else "") + f"  rgb{tuple(rgb)}")
            b.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
            b.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
            b.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            b.setStyleSheet(
                "QToolButton { text-align: left; padding: 3px 6px; border: 2px solid transparent;"
                " border-radius: 4px; }"
                "QToolButton:checked { border: 2px solid #ffb000; background: #fff4d6;"
                " font-weight: bold; }")
            self.group.addButton(b, i)
            self._list_layout.addWidget(b)
        self._list_layout.addStretch(1)
        self._show_current(min(self.editor.current_class, schema.num_classes - 1))

    def _show_current(self, index: int) -> None:
        if self._schema is None or not 0 <= index < self._schema.num_classes:
            return
        button = self.group.button(index)
        if button is not None:
            button.setChecked(True)
        rgb = self._schema.colors[index]
        text = f"Painting: {self._schema.names[index]}"
        if self.editor.tool == "eraser":
            rgb, text = (40, 40, 40), f"Erasing to {self._schema.void_name} (void)"
        elif self.editor.tool == "predict":
            rgb, text = (70, 70, 90), "Copying the model's classes"
        self.current.setText(text)
        self.current.setStyleSheet(
            f"background: rgb{tuple(rgb)}; color: {_text_colour(rgb)}; font-weight: bold;"
            " font-size: 14px; border-radius: 5px; padding: 4px;")

    def checked_index(self) -> int:
        return self.group.checkedId()
