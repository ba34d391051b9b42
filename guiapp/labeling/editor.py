"""The editor's Qt face: the current LabelSession plus the person's choices (class, brush size,
tool), with signals so the canvas, palette and buttons stay in step without knowing each other.

All mask work is delegated to core.labeling.session.LabelSession; this class only turns its
returned rects into `mask_changed` signals and failures into messages.
"""
from __future__ import annotations

import traceback

from PySide6.QtCore import QObject, Signal

from core.classes import IGNORE_INDEX
from core.labeling.edits import Rect

TOOLS = ("brush", "eraser", "fill", "polygon", "segment", "predict")
TOOL_TITLES = {"brush": "Brush", "eraser": "Eraser", "fill": "Fill", "polygon": "Polygon",
               "segment": "Segment", "predict": "Copy model"}
MIN_BRUSH, MAX_BRUSH, DEFAULT_BRUSH = 1, 256, 15


class LabelEditor(QObject):
    """Signals:
        session_changed(object)  -- a new LabelSession (or None)
        mask_changed(object)     -- a core Rect of the mask that changed (redraw just that)
        prediction_changed()     -- the session's prediction appeared or changed
        state_changed()          -- dirty / undo / redo availability may have changed
        class_changed(int), size_changed(int), tool_changed(str)
        message(str)             -- a short note for the status bar
        save_failed(str, str)    -- message, details (the edit stays in memory)
        saved(str)               -- sample name whose mask was written
    """

    session_changed = Signal(object)
    mask_changed = Signal(object)
    prediction_changed = Signal()
    state_changed = Signal()
    class_changed = Signal(int)
    size_changed = Signal(int)
    tool_changed = Signal(str)
    message = Signal(str)
    save_failed = Signal(str, str)
    saved = Signal(str)

    def __init__(self, parent=None, segment_assistant=None):
        super().__init__(parent)
        self.segment_assistant = segment_assistant  # the Segment tool's model (SegmentAssistant)
        self.session = None
        self.current_class = 0
        self.brush_size = DEFAULT_BRUSH
        self.tool = "brush"

    # --- choices -----------------------------------------------------------------------------
    def set_session(self, session) -> None:
        if self.session is not None:
            self.session.end_stroke()
        self.session = session
        self.session_changed.emit(session)
        self.state_changed.emit()

    def set_class(self, index: int) -> None:
        n = self.session.source.schema.num_classes if self.session is not None else None
        if index < 0 or (n is not None and index >= n):
            return
        self.current_class = int(index)
        self.class_changed.emit(self.current_class)
        if self.tool == "eraser":
            self.set_tool("brush")

    def set_brush_size(self, size: int) -> None:
        size = max(MIN_BRUSH, min(MAX_BRUSH, int(size)))
        if size != self.brush_size:
            self.brush_size = size
            self.size_changed.emit(size)

    def grow_brush(self) -> None:
        self.set_brush_size(self.brush_size + max(1, round(self.brush_size * 0.2)))

    def shrink_brush(self) -> None:
        self.set_brush_size(self.brush_size - max(1, round(self.brush_size * 0.2)))

    def set_tool(self, tool: str) -> None:
        if tool not in TOOLS:
            raise ValueError(f"unknown tool {tool!r}")
        if tool != self.tool:
            if self.session is not None:
                self._changed(self.session.end_stroke())
            self.tool = tool
            if self.segment_assistant is not None:  # embed images only while the tool is in use
                self.segment_assistant.set_active(tool == "segment")
            self.tool_changed.emit(tool)

    @property
    def paint_value(self) -> int:
        return IGNORE_INDEX if self.tool == "eraser" else self.current_class

    # --- edits -------------------------------------------------------------------------------
    def _changed(self, rect: Rect | None, state: bool = True) -> Rect | None:
        if rect is not None:
            self.mask_changed.emit(rect)
        if state:
            self.state_changed.emit()
        return rect

    def begin_stroke(self) -> bool:
        if self.session is None:
            return False
        if self.tool == "predict" and self.session.prediction is None:
            self.message.emit("No prediction for this image yet: choose a model and press Predict")
            return False
        self.session.begin_stroke()
        return True

    def stroke(self, p0: tuple[float, float], p1: tuple[float, float]) -> Rect | None:
        """One piece of a stroke; only the mask rect it touched is signalled (no state churn)."""
        s = self.session
        if s is None or not s.in_stroke:
            return None
        if self.tool == "predict":
            rect = s.stroke_to(p0, p1, self.brush_size, from_prediction=True)
        else:
            rect = s.stroke_to(p0, p1, self.brush_size, value=self.paint_value)
        return self._changed(rect, state=False)

    def end_stroke(self) -> Rect | None:
        if self.session is None:
            return None
        label = TOOL_TITLES.get(self.tool, "brush").lower()
        return self._changed(self.session.end_stroke(label))

    def fill(self, x: int, y: int) -> Rect | None:
        if self.session is None:
            return None
        return self._changed(self.session.flood_fill(x, y, self.current_class))

    def polygon(self, points: list[tuple[float, float]]) -> Rect | None:
        if self.session is None:
            return None
        return self._changed(self.session.fill_polygon(points, self.current_class))

    def paint_region(self, region, only_void: bool = False) -> Rect | None:
        """A click-to-segment proposal (HxW bool) gets the current class, as one undo step."""
        if self.session is None:
            return None
        return self._changed(self.session.paint_region(region, self.current_class, only_void))

    def undo(self) -> Rect | None:
        if self.session is None:
            return None
        return self._changed(self.session.undo())

    def redo(self) -> Rect | None:
        if self.session is None:
            return None
        return self._changed(self.session.redo())

    def set_prediction(self, name: str, prediction) -> None:
        """Attach a model prediction to the open image (ignored if another image is open now)."""
        if self.session is None or self.session.name != name:
            return
        if prediction.mask.shape != self.session.shape:
            self.message.emit(f"{name}: prediction size {prediction.mask.shape} != mask size")
            return
        self.session.prediction = prediction
        self.prediction_changed.emit()

    def prelabel(self) -> Rect | None:
        """Replace the whole mask by the prediction (one undo step)."""
        s = self.session
        if s is None or s.prediction is None:
            return None
        return self._changed(s.replace_mask(s.prediction.mask, "pre-label"))

    # --- files -------------------------------------------------------------------------------
    def save(self) -> bool:
        """Write the mask if it changed; on failure signal save_failed and keep the edit."""
        s = self.session
        if s is None:
            return True
        if not s.dirty:
            self.state_changed.emit()
            return True
        try:
            path = s.save()
        except Exception as exc:  # noqa: BLE001 - any failure: tell the person, keep the mask
            self.save_failed.emit(f"Could not save the mask of {s.name}:\n{exc}",
                                  traceback.format_exc())
            self.state_changed.emit()
            return False
        try:
            shown = path.relative_to(s.source.root)
        except ValueError:
            shown = path
        self.message.emit(f"Saved {shown}")
        self.saved.emit(s.name)
        self.state_changed.emit()
        return True

    def restore_original(self) -> Rect | None:
        """Put the backed-up original back on disk and on screen (undoable in memory)."""
        s = self.session
        if s is None:
            return None
        if not s.has_backup:
            self.message.emit(f"{s.name}: this mask has not been changed here; nothing to restore")
            return None
        try:
            rect = s.restore_original()
        except Exception as exc:  # noqa: BLE001
            self.save_failed.emit(f"Could not restore the original mask of {s.name}:\n{exc}",
                                  traceback.format_exc())
            return None
        self.message.emit(f"{s.name}: original mask restored")
        self.saved.emit(s.name)
        return self._changed(rect)
