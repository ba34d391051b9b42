"""The confusion matrix as a row-normalised heat map (rows = ground truth, columns = prediction),
so each row reads "where did this class's pixels go". Hover shows the pixel count and the row
percentage; a click selects a cell and emits ``cell_clicked(gt, pred)``."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt, Signal
from PySide6.QtGui import QColor, QFontMetricsF, QPen
from PySide6.QtWidgets import QGraphicsRectItem

CMAP = pg.ColorMap(pos=[0.0, 0.5, 1.0], color=[(255, 255, 255), (107, 174, 214), (8, 48, 107)])
MAX_TEXT_CLASSES = 20   # write the row % into the cells up to this many classes


def row_normalise(matrix: np.ndarray) -> np.ndarray:
    """Each row divided by its sum (rows without pixels stay 0): display scaling only."""
    m = np.asarray(matrix, dtype=np.float64)
    sums = m.sum(axis=1, keepdims=True)
    return np.divide(m, sums, out=np.zeros_like(m), where=sums > 0)


class SlantedAxis(pg.AxisItem):
    """A bottom axis whose tick labels are drawn at 45°, so full class names fit under narrow
    columns (pyqtgraph only draws horizontal tick labels, and drops those wider than their
    slot — so the ticks carry short index strings and the names are drawn here)."""

    SIN45 = 0.7071

    def __init__(self, *args, **kwargs):
        super().__init__(*args, hideOverlappingLabels=False, **kwargs)
        self.names: list[str] = []

    def set_names(self, names: list[str]) -> None:
        """One tick per column (at j + 0.5) labelled with ``names[j]``."""
        self.names = list(names)
        self.setTicks([[(j + 0.5, str(j)) for j in range(len(names))]])
        self.fit_labels(self.names)

    def fit_labels(self, labels: list[str]) -> None:
        """Reserve room below the axis for the longest slanted label."""
        fm = QFontMetricsF(self.style["tickFont"] or self.font())
        longest = max((fm.horizontalAdvance(t) for t in labels), default=0.0)
        label_h = self.label.boundingRect().height() * 0.8 if self.label.isVisible() else 0
        self.setHeight(int(longest * self.SIN45 + fm.height() + 8 + label_h))

    def drawPicture(self, p, axisSpec, tickSpecs, textSpecs):  # noqa: N802 - pyqtgraph API
        p.setRenderHint(p.RenderHint.Antialiasing, False)
        p.setRenderHint(p.RenderHint.TextAntialiasing, True)
        pen, p1, p2 = axisSpec
        p.setPen(pen)
        p.drawLine(p1, p2)
        for pen, p1, p2 in tickSpecs:
            p.setPen(pen)
            p.drawLine(p1, p2)
        if self.style["tickFont"] is not None:
            p.setFont(self.style["tickFont"])
        p.setPen(self.textPen())
        fm = QFontMetricsF(p.font())
        for rect, _flags, index in textSpecs:
            text = self.names[int(index)] if index.isdigit() and int(index) < len(self.names) \
                else index
            w = fm.horizontalAdvance(text)
            p.save()
            p.translate(rect.center().x() + 4, rect.top())
            p.rotate(-45)   # text runs from lower left up to the tick
            p.drawText(QRectF(-w, -fm.height() / 2, w, fm.height()),
                       int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter), text)
            p.restore()


class ConfusionHeatmap(pg.PlotWidget):
    """``set_matrix(matrix, names)``; ``cell_text(i, j)`` is what the hover tooltip says."""

    cell_clicked = Signal(int, int)
    cell_hovered = Signal(int, int)

    def __init__(self, parent=None):
        super().__init__(parent, axisItems={"bottom": SlantedAxis("bottom")})
        self.setMenuEnabled(False)
        self.hideButtons()
        self.setTitle("confusion matrix — % of each ground-truth row", size="10pt")
        self.plotItem.invertY(True)
        self.plotItem.setAspectLocked(False)
        self.setLabel("left", "ground truth")
        self.setLabel("bottom", "prediction")
        self.image = pg.ImageItem(axisOrder="row-major")
        self.image.setLookupTable(CMAP.getLookupTable(nPts=256))
        self.addItem(self.image)
        self._sel = QGraphicsRectItem()
        self._sel.setPen(QPen(QColor("#d9822b"), 0.08))
        self._sel.setZValue(10)
        self._sel.hide()
        self.addItem(self._sel)
        self._texts: list[pg.TextItem] = []
        self.matrix = np.zeros((0, 0), np.int64)
        self.normalised = np.zeros((0, 0))
        self.names: list[str] = []
        self.scene().sigMouseMoved.connect(self._on_move)
        self.scene().sigMouseClicked.connect(self._on_click)

    def set_matrix(self, matrix: np.ndarray, names: list[str]) -> None:
        self.matrix = np.asarray(matrix, dtype=np.int64)
        self.names = list(names)
        self.normalised = row_normalise(self.matrix)
        n = len(names)
        self.image.setImage(self.normalised, autoLevels=False, levels=(0.0, 1.0))
        self.image.setRect(QRectF(0, 0, n, n))
        for t in self._texts:
            self.removeItem(t)
        self._texts = []
        if n <= MAX_TEXT_CLASSES:
            for i in range(n):
                for j in range(n):
                    v = self.normalised[i, j]
                    if v < 0.005:
                        continue
                    t = pg.TextItem(f"{100 * v:.0f}", anchor=(0.5, 0.5),
                                    color="#ffffff" if v > 0.5 else "#2c3e50")
                    t.setPos(j + 0.5, i + 0.5)
                    self.addItem(t)
                    self._texts.append(t)
        self.getAxis("left").setTicks([[(i + 0.5, nm) for i, nm in enumerate(names)]])
        self.getAxis("bottom").set_names(self.names)
        self.setRange(xRange=(0, n), yRange=(0, n), padding=0.0)
        self._sel.hide()

    def cell_text(self, i: int, j: int) -> str:
        """Hover text for cell (gt i, pred j): the count and its share of row i."""
        count = int(self.matrix[i, j])
        row = int(self.matrix[i].sum())
        pct = 100.0 * count / row if row else 0.0
        return (f"ground truth {self.names[i]} → predicted {self.names[j]}\n"
                f"{count:,} pixels = {pct:.1f}% of {self.names[i]} pixels")

    def cell_at_scene(self, scene_pos) -> tuple[int, int] | None:
        if not self.names or not self.plotItem.vb.sceneBoundingRect().contains(scene_pos):
            return None
        p = self.plotItem.vb.mapSceneToView(scene_pos)
        i, j = int(np.floor(p.y())), int(np.floor(p.x()))
        n = len(self.names)
        return (i, j) if 0 <= i < n and 0 <= j < n else None

    def select_cell(self, i: int, j: int) -> None:
        """Outline cell (i, j) and announce it, as a click does."""
        self._sel.setRect(QRectF(j, i, 1, 1))
        self._sel.show()
        self.cell_clicked.emit(i, j)

    def _on_move(self, scene_pos) -> None:
        cell = self.cell_at_scene(scene_pos)
        if cell is None:
            self.setToolTip("")
            return
        self.setToolTip(self.cell_text(*cell))
        self.cell_hovered.emit(*cell)

    def _on_click(self, ev) -> None:
        cell = self.cell_at_scene(ev.scenePos())
        if cell is not None:
            self.select_cell(*cell)
