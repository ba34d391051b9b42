"""Per-class IoU as horizontal bars in the class colours, so the weak classes jump out; a dashed
line marks the mIoU. Classes absent from both ground truth and prediction (IoU undefined) get no
bar and read "n/a"."""
from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtGui import QColor

MIOU_HELP = ("IoU per class = TP / (TP + FP + FN) from one confusion matrix accumulated over the "
             "whole split (void pixels ignored); mIoU = mean over the classes present in ground "
             "truth or prediction.")


class ClassIoUBars(pg.PlotWidget):
    """``set_scores(names, iou, colors, miou)`` draws one bar per class (top = first class)."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setMenuEnabled(False)
        self.setMouseEnabled(x=False, y=False)
        self.hideButtons()
        self.setToolTip(MIOU_HELP)
        self.plotItem.invertY(True)
        self.plotItem.showGrid(x=True, y=False, alpha=0.25)
        self.setLabel("bottom", "IoU")
        self.values: np.ndarray = np.zeros(0)
        self._items: list = []

    def set_scores(self, names: list[str], iou, colors, miou: float | None = None) -> None:
        """Replace the bars. ``iou`` may hold NaN/None for undefined classes."""
        for it in self._items:
            self.removeItem(it)
        self._items = []
        vals = np.array([np.nan if v is None else float(v) for v in iou], dtype=float)
        self.values = vals
        n = len(names)
        drawn = np.nan_to_num(vals, nan=0.0)
        brushes = [pg.mkBrush(QColor(*[int(c) for c in colors[i]])) for i in range(n)]
        bars = pg.BarGraphItem(x0=np.zeros(n), y=np.arange(n), width=drawn, height=0.72,
                               brushes=brushes, pen=pg.mkPen("#34495e", width=0.6))
        self.addItem(bars)
        self._items.append(bars)
        for i, v in enumerate(vals):
            text = "n/a" if math.isnan(v) else f"{v:.3f}"
            label = pg.TextItem(text, color="#2c3e50", anchor=(0, 0.5))
            label.setPos((0.0 if math.isnan(v) else v) + 0.01, i)
            self.addItem(label)
            self._items.append(label)
        has_miou = miou is not None and not math.isnan(miou)
        self.setTitle(f"per-class IoU   (mIoU {miou:.3f}, dashed)" if has_miou
                      else "per-class IoU", size="10pt")
        if has_miou:
            line = pg.InfiniteLine(pos=miou, angle=90,
                                   pen=pg.mkPen("#c0392b", width=1.5,
                                                style=pg.QtCore.Qt.PenStyle.DashLine))
            self.addItem(line)
            self._items.append(line)
        self.getAxis("left").setTicks([[(i, name) for i, name in enumerate(names)]])
        self.setXRange(0, 1.12, padding=0)
        self.setYRange(-0.6, max(n, 1) - 0.4, padding=0)
