"""What a left-button click or drag does on the canvas, one class per tool.

Tools receive image coordinates (float x, y in pixels) from the canvas and call the LabelEditor;
they know nothing about zoom or widgets except through the small `view` interface the canvas
gives them (`show_polygon`, `screen_distance`). Adding a tool is adding a class here.
"""
from __future__ import annotations

import math

from PySide6.QtCore import Qt

Point = tuple[float, float]
CLOSE_DISTANCE_PX = 8.0  # a click this close (on screen) to the first vertex closes a polygon


class Tool:
    """Base: every hook is optional. `shows_brush` draws the size circle under the mouse."""

    shows_brush = False

    def __init__(self, editor, view):
        self.editor, self.view = editor, view

    def press(self, p: Point) -> None: ...
    def secondary_press(self, p: Point) -> None:
        """Right click, or Shift + left click."""
    def move(self, p: Point) -> None: ...
    def release(self, p: Point) -> None: ...
    def hover(self, p: Point) -> None: ...
    def double_click(self, p: Point) -> None: ...

    def key(self, key: int) -> bool:
        """Handle a key while this tool is active; True if used."""
        return False

    def cancel(self) -> None:
        """Leave the tool (switching tools or images): finish or drop what is in progress."""


class StrokeTool(Tool):
    """Brush, eraser and take-the-prediction: dabs interpolated between mouse positions."""

    shows_brush = True

    def __init__(self, editor, view):
        super().__init__(editor, view)
        self._last: Point | None = None

    def press(self, p: Point) -> None:
        if self.editor.begin_stroke():
            self._last = p
            self.editor.stroke(p, p)

    def move(self, p: Point) -> None:
        if self._last is not None:
            self.editor.stroke(self._last, p)
            self._last = p

    def release(self, p: Point) -> None:
        if self._last is not None:
            self.move(p)
            self._last = None
            self.editor.end_stroke()

    def cancel(self) -> None:
        if self._last is not None:
            self._last = None
            self.editor.end_stroke()


class FillTool(Tool):
    """Flood fill: the clicked pixel's connected same-class region gets the current class."""

    def press(self, p: Point) -> None:
        self.editor.fill(int(math.floor(p[0])), int(math.floor(p[1])))


class PolygonTool(Tool):
    """Click vertices; close by clicking the first vertex, double-clicking or Enter.
    Backspace removes the last vertex, Escape drops the polygon."""

    def __init__(self, editor, view):
        super().__init__(editor, view)
        self.points: list[Point] = []
        self._hover: Point | None = None

    def _show(self) -> None:
        self.view.show_polygon(self.points, self._hover)

    def press(self, p: Point) -> None:
        if len(self.points) >= 3 and self.view.screen_distance(p, self.points[0]) <= CLOSE_DISTANCE_PX:
            self.close()
            return
        self.points.append(p)
        self._show()

    def hover(self, p: Point) -> None:
        self._hover = p
        if self.points:
            self._show()

    move = hover

    def double_click(self, p: Point) -> None:
        # Qt sends press, release, double-click, release: the first press added the vertex.
        if not self.points or self.view.screen_distance(p, self.points[-1]) > CLOSE_DISTANCE_PX:
            self.points.append(p)
        self.close()

    def close(self) -> None:
        points, self.points = self.points, []
        self._show()
        if len(points) >= 3:
            self.editor.polygon(points)

    def key(self, key: int) -> bool:
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self.points:
            self.close()
            return True
        if key == Qt.Key.Key_Escape and self.points:
            self.cancel()
            return True
        if key == Qt.Key.Key_Backspace and self.points:
            self.points.pop()
            self._show()
            return True
        return False

    def cancel(self) -> None:
        self.points = []
        self._show()


class SegmentTool(Tool):
    """Click to segment: a click adds a point on the object, a right click (or Shift+click) a
    point off it, a drag draws a box around it; the model's proposal is outlined after each.
    Enter, or picking a class (palette click or digit key), writes it with that class (Alt+Enter:
    only into void pixels); Esc drops it."""

    def __init__(self, editor, view, assistant):
        super().__init__(editor, view)
        self.assistant = assistant
        self.points: list[Point] = []
        self.labels: list[int] = []
        self.box: tuple[float, float, float, float] | None = None
        self.mask = None
        self._drag_from: Point | None = None
        self._drag_to: Point | None = None
        if assistant is not None:
            assistant.proposal.connect(self._proposal)
        editor.class_changed.connect(self._class_picked)

    def _class_picked(self, _index: int) -> None:
        if self.editor.tool == "segment":
            self.accept()

    def _ask(self) -> None:
        self._show()
        if self.assistant is None:
            self.editor.message.emit("Segment: no promptable model is set up in this view")
        elif self.points or self.box is not None:
            self.assistant.request(self.points, self.labels, self.box)

    def _proposal(self, mask) -> None:
        if mask is not None and not (self.points or self.box is not None):
            return  # an answer to a prompt that was dropped meanwhile
        self.mask = mask
        self._show()

    def _show(self) -> None:
        box = self.box
        if self._drag_from is not None and self._drag_to is not None:
            box = (*self._drag_from, *self._drag_to)
        self.view.show_segment(self.mask, self.points, self.labels, box)

    def press(self, p: Point) -> None:
        self._drag_from, self._drag_to = p, None

    def move(self, p: Point) -> None:
        if self._drag_from is not None:
            self._drag_to = p
            self._show()

    def release(self, p: Point) -> None:
        start, self._drag_from, self._drag_to = self._drag_from, None, None
        if start is None:
            return
        if self.view.screen_distance(start, p) > CLOSE_DISTANCE_PX:
            self.box = (start[0], start[1], p[0], p[1])
        else:
            self.points.append(p)
            self.labels.append(1)
        self._ask()

    def secondary_press(self, p: Point) -> None:
        self.points.append(p)
        self.labels.append(0)
        self._ask()

    def accept(self, only_void: bool = False) -> bool:
        """Write the proposal into the mask with the current class (one undo step)."""
        if self.mask is None:
            return False
        mask = self.mask
        self.cancel()
        self.editor.paint_region(mask, only_void)
        return True

    def key(self, key: int) -> bool:
        from PySide6.QtWidgets import QApplication

        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self.mask is not None:
            alt = bool(QApplication.keyboardModifiers() & Qt.KeyboardModifier.AltModifier)
            return self.accept(only_void=alt)
        if key == Qt.Key.Key_Escape and (self.points or self.box is not None or self.mask is not None):
            self.cancel()
            return True
        if key == Qt.Key.Key_Backspace and self.points:
            self.points.pop()
            self.labels.pop()
            if self.points or self.box is not None:
                self._ask()
            else:
                self.cancel()
            return True
        return False

    def cancel(self) -> None:
        self.points, self.labels, self.box, self.mask = [], [], None, None
        self._drag_from = self._drag_to = None
        if self.assistant is not None:
            self.assistant.drop()
        self._show()


def make_tools(editor, view) -> dict[str, Tool]:
    """One instance per tool name of guiapp.labeling.editor.TOOLS."""
    return {"brush": StrokeTool(editor, view), "eraser": StrokeTool(editor, view),
            "predict": StrokeTool(editor, view), "fill": FillTool(editor, view),
            "polygon": PolygonTool(editor, view),
            "segment": SegmentTool(editor, view, editor.segment_assistant)}
