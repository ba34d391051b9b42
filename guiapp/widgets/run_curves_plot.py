"""Training curves of several runs on top of each other: validation mIoU on the left, train
(solid) and validation (dashed) loss on the right, one colour per run, so runs can be compared
epoch by epoch."""
from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import Qt

RUN_COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
              "#7f7f7f", "#bcbd22", "#17becf"]


def _series(epochs: list[dict], key: str) -> tuple[list[float], list[float]]:
    xs, ys = [], []
    for e in epochs:
        v = e.get(key)
        if v is None or e.get("epoch") is None:
            continue
        try:
            xs.append(float(e["epoch"]))
            ys.append(float(v))
        except (TypeError, ValueError):
            continue
    return xs, ys


class RunCurvesPlot(pg.GraphicsLayoutWidget):
    """``set_runs([(label, epochs), ...])`` with ``epochs`` the metrics.jsonl rows of a run."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.miou_plot = self.addPlot(row=0, col=0, title="validation mIoU")
        self.loss_plot = self.addPlot(row=0, col=1, title="loss, log scale (train solid, val dashed)")
        for p in (self.miou_plot, self.loss_plot):
            p.setLabel("bottom", "epoch")
            p.showGrid(x=True, y=True, alpha=0.2)
            p.setMenuEnabled(False)
            p.getAxis("left").enableAutoSIPrefix(False)
        self.loss_plot.setLogMode(y=True)   # one diverged run must not flatten the others
        self.legend = self.miou_plot.addLegend(offset=(-8, 8), labelTextSize="8pt")
        self.labels: list[str] = []

    def set_runs(self, runs: list[tuple[str, list[dict]]]) -> None:
        self.miou_plot.clear()
        self.loss_plot.clear()
        self.legend.clear()
        self.labels = [label for label, _ in runs]
        last = max((len(epochs) for _, epochs in runs), default=1)
        step = max(1, -(-last // 10))                 # whole epochs, at most ~10 ticks
        for p in (self.miou_plot, self.loss_plot):
            p.getAxis("bottom").setTickSpacing(major=step, minor=step)
        for k, (label, epochs) in enumerate(runs):
            color = self.color(k)
            xs, ys = _series(epochs, "miou")
            self.miou_plot.plot(xs, ys, pen=pg.mkPen(color, width=2), symbol="o", symbolSize=5,
                                symbolBrush=color, symbolPen=None, name=label)
            xs, ys = _series(epochs, "train_loss")
            self.loss_plot.plot(xs, ys, pen=pg.mkPen(color, width=2))
            xs, ys = _series(epochs, "val_loss")
            self.loss_plot.plot(xs, ys, pen=pg.mkPen(color, width=2, style=Qt.PenStyle.DashLine))

    @staticmethod
    def color(k: int) -> str:
        """Colour of the k-th run shown."""
        return RUN_COLORS[k % len(RUN_COLORS)]

    def curve_count(self) -> int:
        """Plot items drawn (3 per run: mIoU, train loss, val loss)."""
        return len(self.miou_plot.listDataItems()) + len(self.loss_plot.listDataItems())
