"""Scene items that draw numpy pixels without re-converting whole images.

`RasterItem` wraps a QImage that *shares memory* with a numpy buffer: writing into the buffer
changes what is drawn, and `update(rect)` repaints just that rect. `MaskLayer` keeps a BGRA
buffer for a train-id mask and recolours only the rect an edit touched — on a 2048x1024 mask a
brush dab recolours a few thousand pixels instead of two million.
"""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, QRectF
from PySide6.QtGui import QImage, QPainter
from PySide6.QtWidgets import QGraphicsItem

from core.classes import IGNORE_INDEX
from core.labeling.edits import Rect, full_rect


class RasterItem(QGraphicsItem):
    """Draws an HxWx4 uint8 BGRA (premultiplied) numpy buffer at scene (0, 0), one unit per pixel."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self._buf = np.zeros((1, 1, 4), np.uint8)
        self._qimage = self._wrap(self._buf)

    @staticmethod
    def _wrap(buf: np.ndarray) -> QImage:
        h, w = buf.shape[:2]
        return QImage(buf.data, w, h, 4 * w, QImage.Format.Format_ARGB32_Premultiplied)

    def set_buffer(self, buf: np.ndarray) -> None:
        """Show `buf` (kept by reference: later writes into it show after update())."""
        if buf.dtype != np.uint8 or buf.ndim != 3 or buf.shape[2] != 4 or not buf.flags.c_contiguous:
            raise ValueError("RasterItem needs a C-contiguous HxWx4 uint8 buffer")
        self.prepareGeometryChange()
        self._buf = buf
        self._qimage = self._wrap(buf)
        self.update()

    def set_rgb(self, rgb: np.ndarray) -> None:
        """Show an opaque HxWx3 RGB image."""
        h, w = rgb.shape[:2]
        buf = np.empty((h, w, 4), np.uint8)
        buf[..., 0], buf[..., 1], buf[..., 2], buf[..., 3] = rgb[..., 2], rgb[..., 1], rgb[..., 0], 255
        self.set_buffer(buf)

    @property
    def buffer(self) -> np.ndarray:
        return self._buf

    def boundingRect(self) -> QRectF:  # noqa: N802 - Qt override
        h, w = self._buf.shape[:2]
        return QRectF(0, 0, w, h)

    def paint(self, painter: QPainter, option, widget=None) -> None:
        # The whole image, always from the same origin: the view clips to the repainted region
        # and the raster engine samples only inside the clip, so a small repaint stays cheap, and
        # every device pixel samples the same source pixel whether the repaint was partial or
        # full. (Drawing just the exposed sub-rect shifts nearest-neighbour sampling at
        # fractional zoom and leaves seams along the edges of repainted rects.)
        painter.drawImage(QPointF(0, 0), self._qimage)


class MaskLayer(RasterItem):
    """A train-id mask drawn in class colours; void is transparent. Opacity is the item's."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self._mask: np.ndarray | None = None
        self._lut = np.zeros((256, 4), np.uint8)

    def set_palette(self, palette_rgb: np.ndarray) -> None:
        """[256,3] RGB palette (ClassSchema.palette()); 255 stays transparent."""
        lut = np.zeros((256, 4), np.uint8)
        lut[:, 0], lut[:, 1], lut[:, 2], lut[:, 3] = (palette_rgb[:, 2], palette_rgb[:, 1],
                                                      palette_rgb[:, 0], 255)
        lut[IGNORE_INDEX] = 0
        self._lut = lut
        if self._mask is not None:
            self.refresh(full_rect(self._mask.shape))

    def set_mask(self, mask: np.ndarray | None) -> None:
        """Show `mask` (kept by reference, so refresh(rect) after editing it in place)."""
        self._mask = mask
        if mask is None:
            self.set_buffer(np.zeros((1, 1, 4), np.uint8))
            return
        self.set_buffer(np.ascontiguousarray(self._lut[mask]))

    def refresh(self, rect: Rect | None) -> None:
        """Recolour `rect` from the mask and schedule a repaint of just that rect."""
        if self._mask is None or rect is None:
            return
        rect = rect.clip(self._mask.shape)
        if rect.empty:
            return
        self._buf[rect.slices] = self._lut[self._mask[rect.slices]]
        self.update(QRectF(rect.x0, rect.y0, rect.width, rect.height))
