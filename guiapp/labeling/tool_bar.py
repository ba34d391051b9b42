"""The strip above the canvas: tool buttons, brush size, mask opacity, what is shown.

It only forwards choices (to the LabelEditor for tool and size, to the canvas for display) and
follows the editor's signals back, so keyboard shortcuts and buttons never disagree. A QToolBar,
so on a narrow window the last controls fold into its » menu instead of widening the window.
"""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QButtonGroup, QCheckBox, QLabel, QSlider, QToolBar, QToolButton

from guiapp.labeling.editor import MAX_BRUSH, MIN_BRUSH, TOOL_TITLES, TOOLS

TOOL_KEYS = {"brush": "B", "eraser": "E", "fill": "F", "polygon": "L", "segment": "S", "predict": "T"}
TOOL_TIPS = {
    "brush": "Paint the current class; [ and ] change the size",
    "eraser": "Paint void (255): pixels no loss or metric counts",
    "fill": "Fill the clicked class's connected region with the current class",
    "polygon": "Click vertices; close on the first vertex, by double-click or Enter "
               "(Backspace: undo a vertex, Esc: drop)",
    "segment": "Click an object to segment it (right click or Shift+click: not this; drag: a box); "
               "Enter (or picking a class) writes it with the current class, Alt+Enter only into void, Esc drops it. "
               "Uses SAM 2.1 (pip install 'roadseg[segment]'): its weights download to the Hugging Face "
               "cache on first use; offline, fetch them once with `hf download facebook/sam2.1-hiera-tiny` "
               "or pick a model folder under Model ▸ Segment (docs/labeling.md)",
    "predict": "Brush that copies the model's classes into the mask where you paint",
}


class LabelToolBar(QToolBar):
    def __init__(self, editor, canvas, parent=None):
        super().__init__(parent)
        self.editor, self.canvas = editor, canvas
        self.setMovable(False)
        self.setFloatable(False)
        self.tool_group = QButtonGroup(self)
        self.tool_buttons: dict[str, QToolButton] = {}
        for i, tool in enumerate(TOOLS):
            b = QToolButton()
            b.setText(f"{TOOL_TITLES[tool]} {TOOL_KEYS[tool]}")
            b.setToolTip(f"{TOOL_TIPS[tool]} — key {TOOL_KEYS[tool]}")
            b.setCheckable(True)
            b.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            self.tool_group.addButton(b, i)
            self.tool_buttons[tool] = b
            self.addWidget(b)
        self.tool_group.idClicked.connect(lambda i: editor.set_tool(TOOLS[i]))
        self.addSeparator()

        self.addWidget(QLabel("Size "))
        self.size_slider = QSlider(Qt.Orientation.Horizontal)
        self.size_slider.setRange(MIN_BRUSH, MAX_BRUSH)
        self.size_slider.setFixedWidth(100)
        self.size_slider.setToolTip("Brush diameter in image pixels ([ smaller, ] larger)")
        self.size_slider.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.size_slider.valueChanged.connect(editor.set_brush_size)
        self.size_label = QLabel()
        self.size_label.setMinimumWidth(44)
        self.addWidget(self.size_slider)
        self.addWidget(self.size_label)

        self.addSeparator()
        self.addWidget(QLabel("Opacity "))
        self.opacity_slider = QSlider(Qt.Orientation.Horizontal)
        self.opacity_slider.setRange(0, 100)
        self.opacity_slider.setValue(50)
        self.opacity_slider.setFixedWidth(80)
        self.opacity_slider.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.opacity_slider.setToolTip("How strongly the mask and prediction cover the photo")
        self.opacity_slider.valueChanged.connect(lambda v: canvas.set_opacity(v / 100.0))
        self.addWidget(self.opacity_slider)

        self.show_mask = QCheckBox("Mask")
        self.show_mask.setChecked(True)
        self.show_mask.setToolTip("Show the labels you are editing (M)")
        self.show_pred = QCheckBox("Prediction")
        self.show_pred.setToolTip("Show the model's prediction (Shift+M; choose a model on the right)")
        for cb in (self.show_mask, self.show_pred):
            cb.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            self.addWidget(cb)
        self.show_mask.toggled.connect(canvas.set_mask_visible)
        self.show_pred.toggled.connect(canvas.set_prediction_visible)
        fit = QToolButton()
        fit.setText("Fit")
        fit.setToolTip("Show the whole image (Home)")
        fit.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        fit.clicked.connect(canvas.fit)
        self.addWidget(fit)

        editor.tool_changed.connect(self._show_tool)
        editor.size_changed.connect(self._show_size)
        self._show_tool(editor.tool)
        self._show_size(editor.brush_size)

    def _show_tool(self, tool: str) -> None:
        self.tool_buttons[tool].setChecked(True)

    def _show_size(self, size: int) -> None:
        self.size_slider.blockSignals(True)
        self.size_slider.setValue(size)
        self.size_slider.blockSignals(False)
        self.size_label.setText(f"{size} px")
