"""The painting surface: photo, editable mask and model prediction stacked in a QGraphicsView.

Wheel zooms about the cursor; the middle button, or the left button with Space held, pans;
everything else with the left button goes to the current tool in image coordinates. Mask edits
arrive as rects (LabelEditor.mask_changed) and only those rects are recoloured and repainted,
so a stroke on a 2048x1024 mask costs what it costs on a small one.
"""
from __future__ import annotations

import math

import cv2
import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import (QAbstractSpinBox, QApplication, QFrame, QGraphicsScene, QGraphicsView,
                               QLineEdit)

from guiapp.labeling.outline_items import OutlineEllipseItem, OutlinePathItem
from guiapp.labeling.raster_item import MaskLayer, RasterItem
from guiapp.labeling.tools import make_tools

ZOOM_STEP = 1.25
MAX_ZOOM = 40.0


def _pen(color: str, width: float = 1.5, style=Qt.PenStyle.SolidLine) -> QPen:
    pen = QPen(QColor(color), width, style)
    pen.setCosmetic(True)  # same on-screen width at every zoom
    return pen


class LabelCanvas(QGraphicsView):
    """Signals: hovered(int x, int y) image pixel under the mouse (-1, -1 when outside)."""

    hovered = Signal(int, int)

    def __init__(self, editor, parent=None):
        super().__init__(parent)
        self.editor = editor
        self.setScene(QGraphicsScene(self))
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setBackgroundBrush(QBrush(QColor("#1e2429")))
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.NoAnchor)
        self.setResizeAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.MinimalViewportUpdate)
        self.setOptimizationFlag(QGraphicsView.OptimizationFlag.DontSavePainterState, True)
        self.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
        self.setMouseTracking(True)
        self.viewport().setMouseTracking(True)
        self.viewport().setCursor(Qt.CursorShape.CrossCursor)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)

        self.image_item = RasterItem()
        self.mask_layer = MaskLayer()
        self.pred_layer = MaskLayer()
        self.mask_layer.setOpacity(0.5)
        self.pred_layer.setOpacity(0.5)
        self.pred_layer.setVisible(False)
        self.brush_ring = OutlineEllipseItem()
        self.brush_ring.setPen(_pen("#ffffff"))
        self.brush_ring_dark = OutlineEllipseItem(self.brush_ring)
        self.brush_ring_dark.setPen(_pen("#000000", 1.0, Qt.PenStyle.DashLine))
        self.brush_ring.setVisible(False)
        self.polygon_item = OutlinePathItem()
        self.polygon_item.setPen(_pen("#ffd400", 2.0))
        self.polygon_item.setBrush(QBrush(QColor(255, 212, 0, 50)))
        self.segment_item = OutlinePathItem()  # the Segment tool's proposal, points and box
        self.segment_item.setPen(_pen("#00e5ff", 2.0))
        self.segment_item.setBrush(QBrush(QColor(0, 229, 255, 60)))
        self.segment_marks = OutlinePathItem()
        self.segment_marks.setPen(_pen("#ffffff", 1.5))
        for z, item in enumerate((self.image_item, self.mask_layer, self.pred_layer,
                                  self.segment_item, self.segment_marks,
                                  self.polygon_item, self.brush_ring)):
            item.setZValue(z)
            self.scene().addItem(item)

        self.tools = make_tools(editor, self)
        self._hover_pos: QPointF | None = None
        self._pan_from: QPointF | None = None
        self._space = False
        self._left_down = False  # a left press went to the tool (a Shift+click does not)
        self._shape: tuple[int, int] | None = None
        self._fitted = True  # showing the whole image: keep doing so when the view resizes
        editor.session_changed.connect(self._on_session)
        editor.mask_changed.connect(self.mask_layer.refresh)
        editor.prediction_changed.connect(self._on_prediction)
        editor.tool_changed.connect(self._on_tool)
        editor.size_changed.connect(lambda _s: self._update_ring())

    # --- content ----------------------------------------------------------------------------
    @property
    def tool(self):
        return self.tools[self.editor.tool]

    def _on_session(self, session) -> None:
        for t in self.tools.values():
            t.cancel()
        if session is None:
            self._shape = None
            self.image_item.set_buffer(np.zeros((1, 1, 4), np.uint8))
            self.mask_layer.set_mask(None)
            self.pred_layer.set_mask(None)
            return
        schema = session.source.schema
        self.mask_layer.set_palette(schema.palette())
        self.pred_layer.set_palette(schema.palette())
        self.image_item.set_rgb(session.image)
        self.mask_layer.set_mask(session.mask)
        self.pred_layer.set_mask(session.prediction_mask)
        h, w = session.shape
        new_shape = self._shape != (h, w)
        self._shape = (h, w)
        # Room around the image so any part of it can be panned to the middle of the view.
        self.setSceneRect(QRectF(-w, -h, 3 * w, 3 * h))
        if new_shape:
            self.fit()

    def _on_prediction(self) -> None:
        s = self.editor.session
        self.pred_layer.set_mask(None if s is None else s.prediction_mask)

    def _on_tool(self, _name: str) -> None:
        for t in self.tools.values():
            if t is not self.tool:
                t.cancel()
        self._update_ring()

    def set_mask_visible(self, on: bool) -> None:
        self.mask_layer.setVisible(on)

    def set_prediction_visible(self, on: bool) -> None:
        self.pred_layer.setVisible(on)

    def set_opacity(self, value: float) -> None:
        self.mask_layer.setOpacity(value)
        self.pred_layer.setOpacity(value)

    # --- view -------------------------------------------------------------------------------
    def fit(self) -> None:
        """Show the whole image."""
        if self._shape is not None:
            h, w = self._shape
            self.fitInView(QRectF(0, 0, w, h), Qt.AspectRatioMode.KeepAspectRatio)
            self._fitted = True
            self._zoom_changed()

    def _zoom_changed(self) -> None:
        for item in (self.brush_ring, self.brush_ring_dark, self.polygon_item):
            item.set_zoom(self.zoom())

    def zoom(self) -> float:
        return self.transform().m11()

    def zoom_by(self, factor: float, anchor: QPointF | None = None) -> None:
        """Scale by `factor`, keeping the image point under `anchor` (viewport px) in place."""
        if self._shape is None:
            return
        h, w = self._shape
        fit = min(self.viewport().width() / w, self.viewport().height() / h)
        target = max(fit / 4, min(MAX_ZOOM, self.zoom() * factor))
        factor = target / self.zoom()
        anchor = anchor if anchor is not None else QPointF(self.viewport().rect().center())
        before = self.mapToScene(anchor.toPoint())
        self.scale(factor, factor)
        after = self.mapFromScene(before)
        self._scroll_by(after.x() - anchor.x(), after.y() - anchor.y())
        self._fitted = False
        self._zoom_changed()
        self._update_ring()

    def _scroll_by(self, dx: float, dy: float) -> None:
        h, v = self.horizontalScrollBar(), self.verticalScrollBar()
        h.setValue(h.value() + round(dx))
        v.setValue(v.value() + round(dy))

    def to_image(self, viewport_pos: QPointF) -> tuple[float, float]:
        p = self.mapToScene(viewport_pos.toPoint())
        return p.x(), p.y()

    def screen_distance(self, a: tuple[float, float], b: tuple[float, float]) -> float:
        """Distance between two image points in viewport pixels (for 'click near the vertex')."""
        return math.hypot(a[0] - b[0], a[1] - b[1]) * self.zoom()

    # --- overlays for tools -----------------------------------------------------------------
    def show_polygon(self, points, hover) -> None:
        path = QPainterPath()
        if points:
            path.moveTo(*points[0])
            for p in points[1:]:
                path.lineTo(*p)
            if hover is not None:
                path.lineTo(*hover)
            r = 4 / max(self.zoom(), 1e-6)  # first-vertex handle: ~8 px on screen
            path.addEllipse(QPointF(*points[0]), r, r)
        self.polygon_item.setPath(path)

    def show_segment(self, mask, points, labels, box) -> None:
        """The Segment tool's proposal as its outline (in image coordinates, so it follows zoom
        and pan), its points (+ on the object, x off it) and its box."""
        path = QPainterPath()
        if mask is not None and mask.any():
            contours, _ = cv2.findContours(mask.astype(np.uint8), cv2.RETR_CCOMP, cv2.CHAIN_APPROX_SIMPLE)
            for c in contours:
                c = c.reshape(-1, 2)
                path.moveTo(float(c[0, 0]), float(c[0, 1]))
                for x, y in c[1:]:
                    path.lineTo(float(x), float(y))
                path.closeSubpath()
        self.segment_item.setPath(path)
        marks = QPainterPath()
        r = 5 / max(self.zoom(), 1e-6)  # ~10 px on screen
        for (x, y), positive in zip(points, labels, strict=True):
            marks.moveTo(x - r, y)
            marks.lineTo(x + r, y)
            if positive:
                marks.moveTo(x, y - r)
                marks.lineTo(x, y + r)
            else:
                marks.moveTo(x - r, y - r)
                marks.lineTo(x + r, y + r)
        if box is not None:
            x0, y0, x1, y1 = box
            marks.addRect(QRectF(QPointF(min(x0, x1), min(y0, y1)), QPointF(max(x0, x1), max(y0, y1))))
        self.segment_marks.setPath(marks)

    def _update_ring(self) -> None:
        show = (self._hover_pos is not None and self.tool.shows_brush and self._pan_from is None
                and not self._space and self._shape is not None)
        self.brush_ring.setVisible(show)
        if show:
            d = float(self.editor.brush_size)
            x, y = self._hover_pos.x(), self._hover_pos.y()
            # centre of the pixel under the mouse: where the dab is centred
            cx, cy = math.floor(x) + 0.5, math.floor(y) + 0.5
            rect = QRectF(cx - d / 2, cy - d / 2, d, d)
            self.brush_ring.setRect(rect)
            self.brush_ring_dark.setRect(rect)

    # --- events -----------------------------------------------------------------------------
    def wheelEvent(self, event) -> None:  # noqa: N802 - Qt override
        steps = event.angleDelta().y() / 120.0
        if steps:
            self.zoom_by(ZOOM_STEP ** steps, event.position())
        event.accept()

    def _panning_button(self, event) -> bool:
        return (event.button() == Qt.MouseButton.MiddleButton
                or (event.button() == Qt.MouseButton.LeftButton and self._space))

    def mousePressEvent(self, event) -> None:  # noqa: N802
        self.setFocus(Qt.FocusReason.MouseFocusReason)
        if self._panning_button(event):
            self._pan_from = event.position()
            self.viewport().setCursor(Qt.CursorShape.ClosedHandCursor)
            self._update_ring()
        elif event.button() == Qt.MouseButton.RightButton or (
                event.button() == Qt.MouseButton.LeftButton
                and event.modifiers() & Qt.KeyboardModifier.ShiftModifier):
            self.tool.secondary_press(self.to_image(event.position()))
        elif event.button() == Qt.MouseButton.LeftButton:
            self._left_down = True
            self.tool.press(self.to_image(event.position()))
        event.accept()

    def mouseMoveEvent(self, event) -> None:  # noqa: N802
        pos = event.position()
        if self._pan_from is not None:
            d = pos - self._pan_from
            self._pan_from = pos
            self._scroll_by(-d.x(), -d.y())
            self._fitted = False
            return
        p = self.to_image(pos)
        self._hover_pos = QPointF(*p)
        if event.buttons() & Qt.MouseButton.LeftButton:
            self.tool.move(p)
        else:
            self.tool.hover(p)
        self._update_ring()
        if self._shape is not None:
            h, w = self._shape
            x, y = math.floor(p[0]), math.floor(p[1])
            inside = 0 <= x < w and 0 <= y < h
            self.hovered.emit(x if inside else -1, y if inside else -1)

    def mouseReleaseEvent(self, event) -> None:  # noqa: N802
        if self._pan_from is not None and (event.button() == Qt.MouseButton.MiddleButton
                                           or event.button() == Qt.MouseButton.LeftButton):
            self._pan_from = None
            self.viewport().setCursor(Qt.CursorShape.OpenHandCursor if self._space
                                      else Qt.CursorShape.CrossCursor)
        elif event.button() == Qt.MouseButton.LeftButton and self._left_down:
            self._left_down = False
            self.tool.release(self.to_image(event.position()))
        self._update_ring()
        event.accept()

    def mouseDoubleClickEvent(self, event) -> None:  # noqa: N802
        if event.button() == Qt.MouseButton.LeftButton and not self._space:
            self.tool.double_click(self.to_image(event.position()))
        event.accept()

    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        if self._fitted:  # e.g. built while its tab was hidden, or the window was resized
            self.fit()

    def enterEvent(self, event) -> None:  # noqa: N802
        # Space-to-pan and the tool keys should work as soon as the mouse is over the image,
        # unless the person is typing somewhere.
        if not isinstance(QApplication.focusWidget(), (QLineEdit, QAbstractSpinBox)):
            self.setFocus(Qt.FocusReason.MouseFocusReason)
        super().enterEvent(event)

    def leaveEvent(self, event) -> None:  # noqa: N802
        self._hover_pos = None
        self._update_ring()
        self.hovered.emit(-1, -1)
        super().leaveEvent(event)

    def keyPressEvent(self, event) -> None:  # noqa: N802
        if event.key() == Qt.Key.Key_Space:
            if not event.isAutoRepeat():
                self._space = True
                self.viewport().setCursor(Qt.CursorShape.OpenHandCursor)
                self._update_ring()
            return
        if self.tool.key(event.key()):
            return
        super().keyPressEvent(event)

    def keyReleaseEvent(self, event) -> None:  # noqa: N802
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat():
            self._space = False
            self.viewport().setCursor(Qt.CursorShape.CrossCursor)
            self._update_ring()
            return
        super().keyReleaseEvent(event)

    def focusOutEvent(self, event) -> None:  # noqa: N802
        self._space = False  # a Space released elsewhere must not leave the canvas panning
        super().focusOutEvent(event)
