"""An image with its segmentation mask on top: zoom/pan (pyqtgraph), mask opacity, and the class
under the mouse, so a person can check labels by looking rather than by reading numbers."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Signal


class OverlayViewer(pg.GraphicsLayoutWidget):
    """Shows RGB image + colourised mask (void transparent). Emits `hovered(text)` on mouse move."""

    hovered = Signal(str)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setBackground("#1e2429")
        self.ci.layout.setContentsMargins(0, 0, 0, 0)
        self.vb = self.addViewBox(lockAspect=True, invertY=True, enableMenu=False)
        self.image_item = pg.ImageItem(axisOrder="row-major")
        self.mask_item = pg.ImageItem(axisOrder="row-major")
        self.vb.addItem(self.image_item)
        self.vb.addItem(self.mask_item)
        self.mask_item.setOpacity(0.5)
        self._mask: np.ndarray | None = None
        self._schema = None
        self.scene().sigMouseMoved.connect(self._on_move)

    def set_schema(self, schema) -> None:
        self._schema = schema

    def set_data(self, image: np.ndarray, mask: np.ndarray | None) -> None:
        """Show `image` (HxWx3 uint8) and `mask` (HxW train ids, 255 void) with the current schema."""
        self.image_item.setImage(image, autoLevels=False, levels=(0, 255))
        self._mask = mask
        if mask is not None and self._schema is not None:
            rgba = np.zeros(mask.shape + (4,), np.uint8)
            rgba[..., :3] = self._schema.colorize(mask)
            rgba[..., 3] = np.where(mask == 255, 0, 255)
            self.mask_item.setImage(rgba, autoLevels=False, levels=(0, 255))
            self.mask_item.show()
        else:
            self.mask_item.hide()
        self.vb.autoRange(padding=0.01)

    def set_opacity(self, value: float) -> None:
        self.mask_item.setOpacity(float(value))

    def opacity(self) -> float:
        return float(self.mask_item.opacity())

    def class_at(self, x: int, y: int) -> str | None:
        """Class name of mask pixel (x, y), 'void' for ignore, None outside the mask."""
        m = self._mask
        if m is None or self._schema is None or not (0 <= y < m.shape[0] and 0 <= x < m.shape[1]):
            return None
        v = int(m[y, x])
        if v == 255:
            return self._schema.void_name
        return self._schema.names[v] if v < len(self._schema.names) else f"id {v}"

    def _on_move(self, scene_pos) -> None:
        if self._mask is None:
            return
        p = self.vb.mapSceneToView(scene_pos)
        x, y = int(np.floor(p.x())), int(np.floor(p.y()))
        name = self.class_at(x, y)
        self.hovered.emit("" if name is None else f"{name}   (x {x}, y {y})")
