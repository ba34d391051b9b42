"""Class-frequency histogram of one split plus the class weights each method derives from it.

Bars run horizontally so class names stay readable on the axis; each bar has its class colour.
A log toggle shows the rare classes (poles, signs) that vanish on a linear scale — exactly the ones
class weighting is for, so the weights table sits right under the bars."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QAbstractItemView, QCheckBox, QHBoxLayout, QHeaderView, QLabel,
                               QSplitter, QTableWidget, QTableWidgetItem, QToolTip, QVBoxLayout,
                               QWidget)

from core.data.stats import WEIGHT_METHODS
from guiapp.widgets.np_qimage import colour_icon

WEIGHT_COLUMNS = WEIGHT_METHODS  # one column per weighting the trainer offers


class ClassHistogram(QWidget):
    """`set_stats(stats, schema)` with a core ClassStats; `bar_heights()` gives what is drawn."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self._stats = None
        self._colors: list = []
        self._fractions = np.zeros(0)
        self.plot = pg.PlotWidget()
        self.plot.setMenuEnabled(False)
        self.plot.setMouseEnabled(x=False, y=False)
        self.plot.hideButtons()
        self.plot.showGrid(x=True, y=False, alpha=0.25)
        self.plot.getPlotItem().invertY(True)
        self.plot.setLabel("bottom", "% of labelled pixels")
        self.plot.getAxis("bottom").enableAutoSIPrefix(False)
        self.bars = pg.BarGraphItem(x0=[], y=[], height=0.7, width=[])
        self.plot.addItem(self.bars)
        self.plot.scene().sigMouseMoved.connect(self._on_hover)

        self.log_box = QCheckBox("Log scale")
        self.log_box.setToolTip("Show rare classes: logarithmic pixel share")
        self.log_box.toggled.connect(self._redraw)
        self.summary = QLabel("")
        self.summary.setObjectName("muted")
        top = QHBoxLayout()
        top.addWidget(self.summary, 1)
        top.addWidget(self.log_box)

        self.table = QTableWidget(0, 3 + len(WEIGHT_COLUMNS))
        self.table.setHorizontalHeaderLabels(
            ["class", "pixels %", "images", *(f"w {m.replace('sqrt-', '√')}" for m in WEIGHT_COLUMNS)])
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().setDefaultSectionSize(22)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        self.table.setToolTip("Class weights per method (core.data.stats): inverse frequency, "
                              "median-frequency balancing, ENet 1/ln(1.02+p), square root of median")

        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.plot)
        split.addWidget(self.table)
        split.setStretchFactor(0, 1)
        split.setStretchFactor(1, 1)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addLayout(top)
        lay.addWidget(split, 1)

    # --- data -----------------------------------------------------------------------
    def set_stats(self, stats, schema) -> None:
        self._stats = stats
        self._colors = [tuple(c) for c in schema.colors]
        self._fractions = np.asarray(stats.fractions, dtype=np.float64)
        names = list(stats.class_names)
        self.plot.getAxis("left").setTicks([[(i, n) for i, n in enumerate(names)]])
        void_share = stats.void_pixels / max(1, stats.total_pixels)
        self.summary.setText(f"{stats.num_images} images · {stats.total_pixels:,} pixels · "
                             f"void {100 * void_share:.1f}%")
        self._fill_table(names)
        self._redraw()

    def clear(self) -> None:
        self._stats = None
        self._fractions = np.zeros(0)
        self.bars.setOpts(x0=[], y=[], width=[], brushes=[])
        self.table.setRowCount(0)
        self.summary.setText("")

    def is_log(self) -> bool:
        return self.log_box.isChecked()

    def bar_heights(self) -> np.ndarray:
        """Pixel share per class as a fraction (bars show it in percent; log only changes
        the axis)."""
        return self._fractions.copy()

    def _redraw(self) -> None:
        f = self._fractions * 100.0  # drawn in percent: easier to read than 0.0061
        if f.size == 0:
            return
        brushes = [pg.mkBrush(*c) for c in self._colors[: f.size]]
        ys = np.arange(f.size)
        axis = self.plot.getAxis("bottom")
        if self.log_box.isChecked():
            positive = f[f > 0]
            floor = np.floor(np.log10(positive.min())) if positive.size else -6.0
            right = np.where(f > 0, np.log10(np.maximum(f, 1e-12)), floor)
            self.bars.setOpts(x0=np.full(f.size, floor), width=right - floor, y=ys, height=0.7,
                              brushes=brushes, pen=pg.mkPen("#5b6670", width=0.5))
            # bars sit in log10 units; label the decades plainly (0.1, 1, 10, 100 %)
            axis.setTicks([[(k, f"{10.0 ** k:g}") for k in range(int(floor), 3)]])
            self.plot.setXRange(floor, 2, padding=0.02)
        else:
            axis.setTicks(None)
            self.bars.setOpts(x0=np.zeros(f.size), width=f, y=ys, height=0.7, brushes=brushes,
                              pen=pg.mkPen("#5b6670", width=0.5))
            self.plot.setXRange(0, max(float(f.max()), 1e-4), padding=0.02)
        self.plot.setYRange(-0.6, f.size - 0.4, padding=0)

    def _fill_table(self, names: list[str]) -> None:
        s = self._stats
        weights = {m: np.asarray(s.weights(m)) for m in WEIGHT_COLUMNS}
        self.table.setRowCount(len(names))
        for i, name in enumerate(names):
            cells = [f"{100 * self._fractions[i]:.2f}", f"{int(s.image_counts[i])}/{s.num_images}"]
            cells += [f"{weights[m][i]:.3f}" for m in WEIGHT_COLUMNS]
            first = QTableWidgetItem(colour_icon(self._colors[i]), name)
            self.table.setItem(i, 0, first)
            for j, text in enumerate(cells, start=1):
                item = QTableWidgetItem(text)
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.table.setItem(i, j, item)

    def _on_hover(self, scene_pos) -> None:
        if self._stats is None or not self.plot.sceneBoundingRect().contains(scene_pos):
            return
        p = self.plot.getPlotItem().vb.mapSceneToView(scene_pos)
        i = int(round(p.y()))
        if 0 <= i < self._fractions.size:
            s = self._stats
            text = (f"<b>{s.class_names[i]}</b><br>{100 * self._fractions[i]:.3f}% of pixels<br>"
                    f"in {int(s.image_counts[i])} of {s.num_images} images")
            QToolTip.showText(self.plot.mapToGlobal(self.plot.mapFromScene(scene_pos)), text,
                              self.plot)
