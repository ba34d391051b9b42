"""Live training curves: loss per step (raw, faint, under an EMA), loss and mIoU per epoch, and
the learning rate. Events only append to arrays; a timer redraws at most ~8 times a second, so a
fast tiny model sending hundreds of steps a second cannot flood the UI thread."""
from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QTimer

from guiapp import style

EMA_ALPHA = 0.1


def _plot(layout, title: str, x_label: str, y_label: str = "") -> pg.PlotItem:
    p = layout.addPlot(title=f"<span style='font-size:10pt'>{title}</span>")
    p.showGrid(x=True, y=True, alpha=0.2)
    p.setLabel("bottom", x_label)
    if y_label:
        p.setLabel("left", y_label)
    p.setMenuEnabled(False)
    return p


class TrainCurves(pg.GraphicsLayoutWidget):
    """`reset()`, then feed `add_step(step, loss, lr)` and `add_epoch(...)` from core events."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setBackground("w")
        self.p_loss = _plot(self, "Training loss per step", "step", "loss")
        self.p_loss.addLegend(offset=(-10, 10), brush=pg.mkBrush(255, 255, 255, 210))
        self.raw_curve = self.p_loss.plot([], [], pen=pg.mkPen(style.MUTED, width=1), name="raw")
        self.ema_curve = self.p_loss.plot([], [], pen=pg.mkPen(style.ACCENT, width=2.2),
                                          name="smoothed (EMA)")
        self.p_epoch = _plot(self, "Loss per epoch", "epoch", "loss")
        self.p_epoch.addLegend(offset=(-10, 10), brush=pg.mkBrush(255, 255, 255, 210))
        self.train_ep_curve = self.p_epoch.plot(
            [], [], pen=pg.mkPen(style.ACCENT, width=2), symbol="o", symbolSize=6,
            symbolBrush=style.ACCENT, name="train")
        self.val_curve = self.p_epoch.plot(
            [], [], pen=pg.mkPen(style.ACCENT_2, width=2), symbol="o", symbolSize=6,
            symbolBrush=style.ACCENT_2, name="validation")
        self.nextRow()
        self.p_miou = _plot(self, "Validation mIoU (one confusion matrix over the split)",
                            "epoch", "mIoU")
        self.p_miou.getAxis("left").enableAutoSIPrefix(False)
        self.miou_curve = self.p_miou.plot([], [], pen=pg.mkPen(style.ACCENT_3, width=2),
                                           symbol="o", symbolSize=6, symbolBrush=style.ACCENT_3)
        self.best_marker = pg.ScatterPlotItem(symbol="star", size=16,
                                              brush=pg.mkBrush("#f1c40f"), pen=pg.mkPen("#7d6608"))
        self.p_miou.addItem(self.best_marker)
        self.p_lr = _plot(self, "Learning rate", "step", "lr")
        self.lr_curve = self.p_lr.plot([], [], pen=pg.mkPen("#8e44ad", width=2))
        self.ci.layout.setColumnStretchFactor(0, 3)
        self.ci.layout.setColumnStretchFactor(1, 2)
        self._dirty = False
        self._timer = QTimer(self)
        self._timer.setInterval(120)
        self._timer.timeout.connect(self._redraw)
        self._timer.start()
        self.reset()

    def reset(self) -> None:
        self.steps: list[int] = []
        self.losses: list[float] = []
        self.ema: list[float] = []
        self.lrs: list[float] = []
        self.epochs: list[int] = []
        self.train_loss: list[float] = []
        self.val_loss: list[float] = []
        self.miou: list[float] = []
        self.best: tuple[int, float] | None = None
        self._ema_raw = 0.0
        self._dirty = True
        self._redraw()

    def add_step(self, step: int, loss: float, lr: float) -> None:
        if not math.isfinite(loss):
            loss = float("nan")
        else:
            # bias-corrected EMA so the first points are not pulled towards zero
            self._ema_raw = (1 - EMA_ALPHA) * self._ema_raw + EMA_ALPHA * loss
        n = len(self.steps) + 1
        self.steps.append(step)
        self.losses.append(loss)
        self.ema.append(self._ema_raw / (1 - (1 - EMA_ALPHA) ** n))
        self.lrs.append(lr)
        self._dirty = True

    def add_epoch(self, epoch: int, train_loss: float, val_loss: float, miou: float,
                  is_best: bool) -> None:
        self.epochs.append(epoch)
        self.train_loss.append(train_loss)
        self.val_loss.append(val_loss)
        self.miou.append(miou)
        if is_best:
            self.best = (epoch, miou)
        self._dirty = True

    def point_counts(self) -> dict[str, int]:
        """How many points each curve holds (tests use it to see that events arrived)."""
        return {"steps": len(self.steps), "epochs": len(self.epochs)}

    def _redraw(self) -> None:
        if not self._dirty:
            return
        self._dirty = False
        x = np.asarray(self.steps, float)
        self.raw_curve.setData(x, np.asarray(self.losses, float))
        self.ema_curve.setData(x, np.asarray(self.ema, float))
        self.lr_curve.setData(x, np.asarray(self.lrs, float))
        ex = np.asarray(self.epochs, float)
        self.train_ep_curve.setData(ex, np.asarray(self.train_loss, float))
        self.val_curve.setData(ex, np.asarray(self.val_loss, float))
        self.miou_curve.setData(ex, np.asarray(self.miou, float))
        self.best_marker.setData([self.best[0]] if self.best else [],
                                 [self.best[1]] if self.best else [])
        # whole epochs only, about ten labels whatever the run length
        major = max(1, math.ceil(max(self.epochs, default=1) / 10))
        for p in (self.p_epoch, self.p_miou):
            p.getAxis("bottom").setTickSpacing(major, major)
        # mIoU from 0, zoomed to the values so early progress is visible
        top = max((m for m in self.miou if m == m), default=0.0)  # skip NaN
        self.p_miou.setYRange(0, min(1.0, max(0.1, top * 1.2 + 0.02)), padding=0)
