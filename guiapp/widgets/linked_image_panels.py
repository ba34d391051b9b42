"""Several image panels side by side that zoom and pan together, so a person can compare the same
spot in the photo, the ground truth, the prediction and the error map at once.

One pyqtgraph GraphicsLayoutWidget; every ViewBox is X/Y-linked to the first one.
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal

PANEL_BG = "#1e2429"


class _Title(pg.LabelItem):
    """A panel title that asks for no width: every grid cell must get the same size, because
    aspect-locked views linked across cells of different shapes push each other's ranges out."""

    def updateMin(self) -> None:  # noqa: N802 - pyqtgraph API
        super().updateMin()
        h = self.itemRect().height()
        self.setMinimumWidth(0)
        self._sizeHint[Qt.SizeHint.MinimumSize] = (0, h)
        self._sizeHint[Qt.SizeHint.PreferredSize] = (0, h)
        self.updateGeometry()


class LinkedImagePanels(pg.GraphicsLayoutWidget):
    """``titles`` panels in a grid; ``set_image(i, rgb)`` fills panel i.

    The grid takes the number of columns that makes the pictures largest for the widget's and
    the picture's shapes (``columns`` until the first picture arrives).

    A panel may also show a scalar map through a lookup table (``set_scalar``), e.g. entropy.
    Emits ``hovered(x, y)`` with the image pixel under the mouse (-1, -1 when outside).
    """

    hovered = Signal(int, int)

    def __init__(self, titles: list[str], columns: int = 3, parent=None):
        super().__init__(parent)
        self.setBackground(PANEL_BG)
        self.ci.layout.setContentsMargins(2, 2, 2, 2)
        self.ci.layout.setSpacing(4)
        self.views: list[pg.ViewBox] = []
        self.items: list[pg.ImageItem] = []
        self.labels: list[pg.LabelItem] = []
        self._shape: tuple[int, int] | None = None
        self.cells: list[pg.GraphicsLayout] = []
        self.columns = columns
        for i, title in enumerate(titles):
            row, col = divmod(i, columns)
            cell = self.ci.addLayout(row=row, col=col)
            self.cells.append(cell)
            label = _Title(title, color="#dfe6ec", size="9pt")
            cell.addItem(label, row=0, col=0)
            vb = cell.addViewBox(row=1, col=0, lockAspect=True, invertY=True, enableMenu=False)
            vb.setDefaultPadding(0.0)
            item = pg.ImageItem(axisOrder="row-major")
            vb.addItem(item)
            if self.views:
                vb.setXLink(self.views[0])
                vb.setYLink(self.views[0])
            self.views.append(vb)
            self.items.append(item)
            self.labels.append(label)
        self._stretch()
        self.scene().sigMouseMoved.connect(self._on_move)

    def set_title(self, i: int, text: str) -> None:
        self.labels[i].setText(text)

    def set_image(self, i: int, rgb: np.ndarray | None) -> None:
        """Show an HxWx3 uint8 picture in panel i (None clears it)."""
        item = self.items[i]
        if rgb is None:
            item.clear()
            return
        item.setLookupTable(None)
        item.setImage(rgb, autoLevels=False, levels=(0, 255))
        self._fit(rgb.shape[:2])

    def set_scalar(self, i: int, values: np.ndarray, levels: tuple[float, float],
                   lut: np.ndarray) -> None:
        """Show an HxW float map in panel i through ``lut`` ([N,3] uint8) over ``levels``."""
        item = self.items[i]
        item.setImage(values, autoLevels=False, levels=levels, lut=lut)
        self._fit(values.shape[:2])

    def image_data(self, i: int) -> np.ndarray | None:
        """What panel i currently shows (for tests and copy-out)."""
        return self.items[i].image

    def _fit(self, shape: tuple[int, int]) -> None:
        # Only reset the zoom when the picture size changes: stepping through images of one
        # dataset keeps the person's zoom on the same spot.
        if shape != self._shape:
            self._shape = shape
            self._arrange()
            self.reset_zoom()

    def best_columns(self, width: float, height: float) -> int:
        """Columns that make the pictures largest in a ``width`` x ``height`` area."""
        if self._shape is None:
            return self.columns
        ih, iw = self._shape
        n, title_h = len(self.cells), 22
        best, best_scale = self.columns, 0.0
        for c in range(1, n + 1):
            rows = -(-n // c)
            scale = min(width / c / iw, max(height / rows - title_h, 1) / ih)
            if scale > best_scale * 1.02:
                best, best_scale = c, scale
        return best

    def _arrange(self) -> None:
        c = self.best_columns(self.width(), self.height())
        if c == self.columns:
            return
        self.columns = c
        for cell in self.cells:
            self.ci.removeItem(cell)
        for i, cell in enumerate(self.cells):
            row, col = divmod(i, c)
            self.ci.addItem(cell, row=row, col=col)
        self._stretch()

    def _stretch(self) -> None:
        """Equal stretch for the used rows and columns, none for the emptied ones."""
        n, c = len(self.cells), self.columns
        rows = -(-n // c)
        for k in range(n):
            self.ci.layout.setColumnStretchFactor(k, 1 if k < c else 0)
            self.ci.layout.setRowStretchFactor(k, 1 if k < rows else 0)

    def resizeEvent(self, ev) -> None:  # noqa: N802 - Qt override
        super().resizeEvent(ev)
        if getattr(self, "cells", None):   # pyqtgraph resizes once inside __init__
            self._arrange()

    def reset_zoom(self) -> None:
        """Fit the whole picture, and keep fitting it as the panels resize until the person
        zooms or pans (which switches auto-range off, in every linked panel)."""
        self.views[0].enableAutoRange()   # the others follow through their links

    def mouseDoubleClickEvent(self, ev) -> None:  # noqa: N802 - Qt override
        if ev.button() == Qt.MouseButton.LeftButton:
            self.reset_zoom()
        super().mouseDoubleClickEvent(ev)

    def _on_move(self, scene_pos) -> None:
        for vb in self.views:
            if vb.sceneBoundingRect().contains(scene_pos):
                p = vb.mapSceneToView(scene_pos)
                x, y = int(np.floor(p.x())), int(np.floor(p.y()))
                if self._shape and 0 <= y < self._shape[0] and 0 <= x < self._shape[1]:
                    self.hovered.emit(x, y)
                    return
        self.hovered.emit(-1, -1)
