"""Outline items (brush ring, polygon preview) drawn with cosmetic pens that leave no trails.

Qt sizes an item's bounding rect with its pen width in *scene* units, but a cosmetic pen is that
wide in *screen* pixels: zoomed out, the drawn outline is wider than the rect Qt repaints when
the item moves, and slivers of the old outline stay on screen. These items pad their bounding
rect by the pen's width converted to scene units at the current zoom (`set_zoom`).
"""
from __future__ import annotations

from PySide6.QtCore import QRectF
from PySide6.QtWidgets import QGraphicsEllipseItem, QGraphicsPathItem


class _Padded:
    _pad = 2.0

    def set_zoom(self, zoom: float) -> None:
        """Scene units per screen pixel changed: grow the repainted margin to match."""
        pad = (self.pen().widthF() + 2.0) / max(zoom, 1e-6)
        if abs(pad - self._pad) > 1e-9:
            self.prepareGeometryChange()
            self._pad = pad

    def _padded(self, rect: QRectF) -> QRectF:
        p = self._pad
        return rect.adjusted(-p, -p, p, p)


class OutlineEllipseItem(_Padded, QGraphicsEllipseItem):
    def boundingRect(self) -> QRectF:  # noqa: N802 - Qt override
        return self._padded(self.rect())


class OutlinePathItem(_Padded, QGraphicsPathItem):
    def boundingRect(self) -> QRectF:  # noqa: N802 - Qt override
        return self._padded(self.path().controlPointRect())
