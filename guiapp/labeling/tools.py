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


def make_tools(editor, view) -> dict[str, Tool]:
    """One instance per tool name of guiapp.labeling.editor.TOOLS."""
    return {"brush": StrokeTool(editor, view), "eraser": StrokeTool(editor, view),
            "predict": StrokeTool(editor, view), "fill": FillTool(editor, view),
            "polygon": PolygonTool(editor, view)}
