"""The report's trade-off as a picture: best mIoU against GFLOPs (log axis), one colour per
architecture, and the Pareto front — the best mIoU reachable for at most that much compute —
drawn as a staircase. Hover names a run; clicking a point emits ``run_clicked(key)``."""
from __future__ import annotations

import math
from dataclasses import dataclass

import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal

from core.pareto import pareto_front

# Architecture colours (ColorBrewer Dark2) and shapes; selected runs get a ring in their curve
# colour (tab10, RunCurvesPlot), so the two palettes are kept apart on purpose.
ARCH_COLORS = ["#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d",
               "#666666"]
ARCH_SYMBOLS = ["o", "s", "t", "d", "h", "star", "p", "t1"]


@dataclass(frozen=True)
class RunPoint:
    key: str          # run folder (what the table selects by)
    label: str        # what the tooltip shows
    arch: str
    gflops: float | None
    miou: float | None


def _usable(p: RunPoint) -> bool:
    return (p.gflops is not None and p.miou is not None and math.isfinite(p.gflops)
            and p.gflops > 0 and math.isfinite(p.miou))


class ParetoPlot(pg.PlotWidget):
    """``set_points(points)`` redraws; ``front_keys`` are the runs on the front, cheapest first."""

    run_clicked = Signal(str)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setMenuEnabled(False)
        self.setTitle("mIoU vs compute")
        self.setLabel("bottom", "GFLOPs per image (log)")
        self.setLabel("left", "best val mIoU")
        self.getAxis("bottom").setLogMode(True)   # items get log10(x); the axis prints 10^x
        self.getAxis("left").enableAutoSIPrefix(False)
        self.showGrid(x=True, y=True, alpha=0.2)
        self.legend = self.addLegend(offset=(-8, -8), labelTextSize="8pt")
        self.points: list[RunPoint] = []
        self.front_keys: list[str] = []
        self.scatters: dict[str, pg.ScatterPlotItem] = {}
        self._front_item = None
        self._highlight = pg.ScatterPlotItem(size=20, brush=None,
                                             pen=pg.mkPen("#2c3e50", width=2))
        self._highlight.setZValue(5)

    def arch_style(self, arch: str) -> tuple[str, str]:
        """(colour, symbol) of an architecture, stable for a given set of runs."""
        archs = sorted({p.arch for p in self.points})
        if arch not in archs:
            return "#7f7f7f", "o"
        k = archs.index(arch)
        return ARCH_COLORS[k % len(ARCH_COLORS)], ARCH_SYMBOLS[k % len(ARCH_SYMBOLS)]

    @staticmethod
    def tooltip_for(p: RunPoint) -> str:
        return f"{p.label}\n{p.arch}: mIoU {p.miou:.3f} at {p.gflops:.3g} GFLOPs"

    def set_points(self, points: list[RunPoint]) -> None:
        self.clear()
        self.legend.clear()
        self.scatters = {}
        self.points = [p for p in points if _usable(p)]
        by_arch: dict[str, list[RunPoint]] = {}
        for p in self.points:
            by_arch.setdefault(p.arch, []).append(p)
        for arch in sorted(by_arch):
            pts = by_arch[arch]
            color, symbol = self.arch_style(arch)
            sc = pg.ScatterPlotItem(
                x=[math.log10(p.gflops) for p in pts], y=[p.miou for p in pts],
                data=[p.key for p in pts], size=12, pen=pg.mkPen("#ffffff", width=1),
                brush=pg.mkBrush(color), symbol=symbol, name=arch, hoverable=True,
                hoverSize=15, tip=self._tip)
            sc.sigClicked.connect(self._clicked)
            self.addItem(sc)
            self.scatters[arch] = sc
        idx = pareto_front([(p.gflops, p.miou) for p in self.points])
        front = [self.points[i] for i in idx]
        self.front_keys = [p.key for p in front]
        if front:
            xs, ys = [], []
            for k, p in enumerate(front):
                x, y = math.log10(p.gflops), p.miou
                if k:
                    xs.append(x)          # step right at the previous mIoU, then up
                    ys.append(ys[-1])
                xs.append(x)
                ys.append(y)
            self._front_item = pg.PlotCurveItem(
                xs, ys, pen=pg.mkPen("#34495e", width=1.5, style=Qt.PenStyle.DashLine),
                name="Pareto front")
            self._front_item.setZValue(-1)
            self.addItem(self._front_item)
        self.addItem(self._highlight)
        self._highlight.setData([], [])
        if self.points:
            self.enableAutoRange()

    def highlight(self, keys: list[str], colors: list[str] | None = None) -> None:
        """Ring the points of the runs selected elsewhere (the table), each ring in ``colors``
        (the run's curve colour) so scatter and curves read together."""
        by_key = {p.key: p for p in self.points}
        sel = [(by_key[k], colors[i] if colors else "#2c3e50")
               for i, k in enumerate(keys) if k in by_key]
        self._highlight.setData([math.log10(p.gflops) for p, _ in sel], [p.miou for p, _ in sel],
                                pen=[pg.mkPen(c, width=2.5) for _, c in sel])

    def point_count(self) -> int:
        return sum(len(sc.points()) for sc in self.scatters.values())

    def _tip(self, x, y, data) -> str:
        for p in self.points:
            if p.key == data:
                return self.tooltip_for(p)
        return str(data)

    def _clicked(self, _item, spots, _ev=None) -> None:
        if len(spots):
            self.run_clicked.emit(str(spots[0].data()))
