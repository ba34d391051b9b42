"""Walk through a split image by image: photo | ground truth | prediction | errors | uncertainty,
zoomed and panned together, worst images first, so a person sees *where* a model fails.

Predictions come from a PredictWorker (core Predictor, off the UI thread) through an LRU cache;
the current image is asked for first and its neighbours after, so stepping is just drawing.
"""
from __future__ import annotations

import math
from typing import Callable

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QModelIndex, QSortFilterProxyModel, Qt, Signal
from PySide6.QtGui import QStandardItem, QStandardItemModel
from PySide6.QtWidgets import (QAbstractItemView, QComboBox, QFormLayout, QHeaderView, QLabel,
                               QSizePolicy, QSplitter, QTableView, QVBoxLayout, QWidget)

from guiapp.widgets.error_map import colorize, dim_gray, error_map, legend_for
from guiapp.widgets.linked_image_panels import LinkedImagePanels
from guiapp.widgets.np_qimage import blend
from guiapp.workers.predict_worker import PredictionCache, PredictWorker

PANELS = ("image", "ground truth", "prediction", "errors", "uncertainty (softmax entropy)",
          "prediction over image")
IMAGE, GT, PRED, ERRORS, UNCERTAINTY, OVERLAY = range(6)
OVERLAY_ALPHA = 0.45
VALUE_ROLE = Qt.ItemDataRole.UserRole + 1
ENTROPY_LUT = pg.colormap.get("inferno").getLookupTable(nPts=256)
PREFETCH = 3      # neighbours predicted ahead on each side
PAGE = 10         # PageUp/PageDown step
STEP_KEYS = {Qt.Key.Key_Down: 1, Qt.Key.Key_Right: 1, Qt.Key.Key_Up: -1, Qt.Key.Key_Left: -1,
             Qt.Key.Key_PageDown: PAGE, Qt.Key.Key_PageUp: -PAGE}
PER_IMAGE_HELP = ("Per-image mIoU: this image's own confusion matrix, mean IoU over classes in its "
                  "ground truth or prediction. For ranking images only — the split mIoU is "
                  "computed from one matrix over all images.")


def _swatches(pairs) -> str:
    return "&nbsp;&nbsp;".join(
        f"<span style='color:rgb{tuple(c)}'>&#9632;</span>&nbsp;{name}" for name, c in pairs)


class PredictionBrowser(QWidget):
    """``set_images(...)`` loads a split; ``image_shown(name)`` fires once an image is drawn."""

    image_shown = Signal(str)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.schema = None
        self.names: list[str] = []
        self.miou: dict[str, float] = {}
        self.present: dict[str, np.ndarray] = {}
        self.cache = PredictionCache()
        self.worker: PredictWorker | None = None
        self.current: str | None = None
        self.shown: str | None = None
        self.error_class: int | None = None
        self._build()

    # --- layout ----------------------------------------------------------------------------
    def _build(self) -> None:
        self.class_filter = QComboBox()
        self.class_filter.setToolTip("Only list images whose ground truth contains this class")
        self.class_filter.currentIndexChanged.connect(self._refill)
        self.error_mode = QComboBox()
        self.error_mode.setToolTip("Errors panel: right/wrong everywhere, or for one class its "
                                   "false positives and false negatives")
        self.error_mode.currentIndexChanged.connect(
            lambda i: self.set_error_class(None if i <= 0 else i - 1))
        self.model = QStandardItemModel(0, 2, self)
        self.model.setHorizontalHeaderLabels(["image", "mIoU"])
        self.model.horizontalHeaderItem(1).setToolTip(PER_IMAGE_HELP)
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setSortRole(VALUE_ROLE)
        self.table = QTableView()
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(22)
        hh = self.table.horizontalHeader()
        hh.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        hh.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        self.table.selectionModel().currentRowChanged.connect(self._row_changed)
        self.table.installEventFilter(self)
        form = QFormLayout()
        form.addRow("contains", self.class_filter)
        form.addRow("errors", self.error_mode)
        left = QWidget()
        lv = QVBoxLayout(left)
        lv.setContentsMargins(0, 0, 0, 0)
        lv.addLayout(form)
        lv.addWidget(self.table, 1)
        self.count_label = QLabel("")
        self.count_label.setObjectName("muted")
        lv.addWidget(self.count_label)

        self.panels = LinkedImagePanels(list(PANELS), columns=3)
        self.panels.installEventFilter(self)
        self.panels.hovered.connect(self._hover)
        self.info = QLabel("Evaluate a run to browse its predictions.")
        self.info.setObjectName("metric")
        self.info.setToolTip(PER_IMAGE_HELP)
        self.legend = QLabel("")
        self.hover_label = QLabel("")
        self.hover_label.setObjectName("muted")
        for label in (self.info, self.legend, self.hover_label):
            # long texts must not widen the browser and squeeze the views beside it
            label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        right = QWidget()
        rv = QVBoxLayout(right)
        rv.setContentsMargins(0, 0, 0, 0)
        rv.setSpacing(2)
        rv.addWidget(self.info)
        rv.addWidget(self.legend)
        rv.addWidget(self.panels, 1)
        rv.addWidget(self.hover_label)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(left)
        split.addWidget(right)
        split.setStretchFactor(1, 1)
        split.setSizes([190, 900])
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(split)

    # --- data ------------------------------------------------------------------------------
    def set_images(self, names: list[str], miou, present, schema,
                   make_predictor: Callable, load: Callable) -> None:
        """A new split to browse. ``present[i]`` is a bool [C] of the classes in image i's
        ground truth; ``load(name) -> (image, gt)``; ``make_predictor()`` -> core Predictor."""
        self.shutdown()
        self.cache.clear()
        self.schema = schema
        self.names = list(names)
        self.miou = {n: float(v) for n, v in zip(names, miou)}
        self.present = {n: np.asarray(p, bool) for n, p in zip(names, present)}
        self.current = self.shown = None
        self.worker = PredictWorker(make_predictor, load, self.cache, self._prepare, self)
        self.worker.ready.connect(self._ready)
        self.worker.failed.connect(self._failed)
        self.worker.start()
        for combo, first in ((self.class_filter, "all images"), (self.error_mode, "right / wrong")):
            combo.blockSignals(True)
            combo.clear()
            combo.addItem(first)
            for name in schema.names:
                combo.addItem(name)
            combo.blockSignals(False)
        self.error_class = None
        self._update_legend()
        self.table.sortByColumn(1, Qt.SortOrder.AscendingOrder)   # worst first
        self._refill()                                            # and shows the first

    def _refill(self) -> None:
        cls = self.class_filter.currentIndex() - 1
        keep = self.current
        self.model.removeRows(0, self.model.rowCount())
        for name in self.names:
            if cls >= 0 and not (cls < len(self.present[name]) and self.present[name][cls]):
                continue
            a = QStandardItem(name)
            a.setData(name, VALUE_ROLE)
            v = self.miou.get(name, math.nan)
            b = QStandardItem("–" if math.isnan(v) else f"{v:.3f}")
            b.setData(-1.0 if math.isnan(v) else v, VALUE_ROLE)
            b.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            self.model.appendRow([a, b])
        self.count_label.setText(f"{self.model.rowCount()} of {len(self.names)} images")
        if (keep is None or not self.select_name(keep)) and self.proxy.rowCount():
            self.table.setCurrentIndex(self.proxy.index(0, 0))

    def visible_names(self) -> list[str]:
        """Image names in the list's current order (sort and filter applied)."""
        return [self.proxy.index(r, 0).data() for r in range(self.proxy.rowCount())]

    def select_name(self, name: str) -> bool:
        for r in range(self.proxy.rowCount()):
            if self.proxy.index(r, 0).data() == name:
                self.table.setCurrentIndex(self.proxy.index(r, 0))
                self.table.scrollTo(self.proxy.index(r, 0))
                return True
        return False

    def step(self, delta: int) -> None:
        n = self.proxy.rowCount()
        if not n:
            return
        row = self.table.currentIndex().row()
        row = 0 if row < 0 else max(0, min(n - 1, row + delta))
        self.table.setCurrentIndex(self.proxy.index(row, 0))

    def set_error_class(self, cls: int | None) -> None:
        """Errors panel mode: None = right/wrong, else FP/FN of class ``cls``."""
        self.error_class = cls
        if self.error_mode.currentIndex() != (0 if cls is None else cls + 1):
            self.error_mode.setCurrentIndex(0 if cls is None else cls + 1)
            return  # the combo's signal calls back here
        self._update_legend()
        item = self.cache.get(self.shown) if self.shown else None
        if item is not None and item.gt is not None:
            self.panels.set_image(ERRORS, self._errors(item))

    def _update_legend(self) -> None:
        name = None
        if self.error_class is not None and self.schema is not None:
            name = self.schema.names[self.error_class]
        self.legend.setText(_swatches(legend_for(name)))

    # --- showing ---------------------------------------------------------------------------
    def _row_changed(self, cur: QModelIndex, _prev=None) -> None:
        if not cur.isValid():
            return
        name = self.proxy.index(cur.row(), 0).data()
        self.current = name
        rows = range(self.proxy.rowCount())
        ahead = [cur.row() + k * s for k in range(1, PREFETCH + 1) for s in (1, -1)]
        wanted = [name] + [self.proxy.index(r, 0).data() for r in ahead if r in rows]
        if self.worker is not None:
            self.worker.request(wanted)
        if name in self.cache:
            self._draw(name)
        else:
            self.info.setText(f"{name} — predicting…")

    def _ready(self, name: str) -> None:
        if name == self.current and self.shown != name:
            self._draw(name)

    def _failed(self, name: str, message: str) -> None:
        if name == self.current:
            self.info.setText(f"{name}: prediction failed — {message.splitlines()[0]}")

    def _prepare(self, item) -> None:
        """Display arrays for one image, made in the prediction thread so that showing a cached
        image is only a handful of setImage calls."""
        pal = self.schema.palette()
        v = item.views
        v["gt"] = colorize(pal, item.gt) if item.gt is not None else None
        v["pred"] = colorize(pal, item.pred)
        v["gray"] = dim_gray(item.image)
        v["overlay"] = blend(item.image, v["pred"], OVERLAY_ALPHA)

    def _errors(self, item) -> np.ndarray:
        return error_map(item.image, item.gt, item.pred, self.error_class,
                         background=item.views.get("gray"))

    def _draw(self, name: str) -> None:
        item = self.cache.get(name)
        if item is None or self.schema is None:
            return
        if not item.views:
            self._prepare(item)
        v, p = item.views, self.panels
        p.set_image(IMAGE, item.image)
        p.set_image(GT, v["gt"])
        p.set_image(PRED, v["pred"])
        p.set_image(ERRORS, self._errors(item) if item.gt is not None else None)
        top = max(math.log(max(self.schema.num_classes, 2)), 1e-6)
        p.set_scalar(UNCERTAINTY, item.entropy, (0.0, top), ENTROPY_LUT)
        p.set_title(UNCERTAINTY, f"uncertainty: entropy, black 0 → yellow {top:.2f} nats")
        p.set_image(OVERLAY, v["overlay"])
        val = self.miou.get(name, math.nan)
        score = "–" if math.isnan(val) else f"{val:.3f}"
        self.info.setText(f"{name}   ·   image mIoU {score}   ·   mean entropy "
                          f"{float(item.entropy.mean()):.2f} nats (max {top:.2f})")
        self.shown = name
        self.image_shown.emit(name)

    def _hover(self, x: int, y: int) -> None:
        item = self.cache.get(self.shown) if self.shown else None
        if item is None or x < 0 or self.schema is None:
            self.hover_label.setText("")
            return

        def cname(v: int) -> str:
            return self.schema.void_name if v == 255 else (
                self.schema.names[v] if v < self.schema.num_classes else f"id {v}")

        gt = cname(int(item.gt[y, x])) if item.gt is not None else "–"
        self.hover_label.setText(f"x {x}, y {y}   ground truth: {gt}   predicted: "
                                 f"{cname(int(item.pred[y, x]))}   entropy "
                                 f"{float(item.entropy[y, x]):.2f} nats")

    # --- keys and lifetime -----------------------------------------------------------------
    def eventFilter(self, obj, ev) -> bool:  # noqa: N802 - Qt API
        if ev.type() == QEvent.Type.KeyPress and ev.key() in STEP_KEYS:
            if obj is self.table and ev.key() not in (Qt.Key.Key_Left, Qt.Key.Key_Right):
                return False     # the table walks its rows itself (Up/Down/PageUp/PageDown)
            self.step(STEP_KEYS[ev.key()])
            return True
        return super().eventFilter(obj, ev)

    def keyPressEvent(self, ev) -> None:  # noqa: N802 - Qt API
        if ev.key() in STEP_KEYS:
            self.step(STEP_KEYS[ev.key()])
            ev.accept()
            return
        super().keyPressEvent(ev)

    def shutdown(self) -> None:
        """Stop the prediction thread (before a new split, and when the view closes)."""
        if self.worker is not None:
            self.worker.stop()
            self.worker.deleteLater()
            self.worker = None
