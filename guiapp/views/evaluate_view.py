"""Evaluate tab: score a run's checkpoint on a split in the background, then see where it fails —
per-class IoU bars, the confusion matrix (click a cell to list the images with the most of that
confusion), and a prediction browser over the split, worst images first.

All numbers come from core.evaluate (EvalResult); this view only draws them.
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QApplication, QComboBox, QHBoxLayout, QLabel, QListWidget,
                               QListWidgetItem, QProgressBar, QPushButton, QSplitter,
                               QVBoxLayout, QWidget)

from guiapp.widgets.class_iou_bars import MIOU_HELP, ClassIoUBars
from guiapp.widgets.confusion_heatmap import ConfusionHeatmap
from guiapp.widgets.empty_state import EmptyState
from guiapp.widgets.error_dialog import show_error
from guiapp.widgets.prediction_browser import PredictionBrowser
from guiapp.workers.eval_worker import EvalRunner

CURRENT, RUN_DATA = "current", "run"
NO_RUNS = ("No trained runs in {root} yet — train one in the Train tab (or open another runs "
           "folder: File ▸ Open Runs Folder…), then evaluate it here.")
NO_EVALUATION = ("Nothing evaluated yet — choose a run, the data and a split above and press "
                 "Evaluate (Ctrl+E) to see per-class IoU, the confusion matrix and the worst images.")


def checkpoint_of(run_dir: str | Path) -> Path | None:
    """core's rule: best.pt, else last.pt, else None."""
    from core.runs import checkpoint_for

    return checkpoint_for(run_dir)


def worst_images(result, gt: int, pred: int) -> list[tuple[str, int, float]]:
    """(name, pixels of gt class predicted as pred, share of the image's gt pixels), largest
    first; images without that confusion are left out."""
    mats = result.per_image_matrices
    if mats is None or not len(mats):
        return []
    counts = mats[:, gt, pred]
    rows = mats[:, gt, :].sum(axis=1)
    order = np.argsort(-counts, kind="stable")
    return [(result.names[k], int(counts[k]), float(counts[k]) / rows[k] if rows[k] else 0.0)
            for k in order if counts[k] > 0]


class EvaluateView(QWidget):
    """Top: run, dataset, split, Evaluate/Cancel, progress. Left: scores. Right: browser.
    Signal label_errors_requested(checkpoint, source, split): "Find likely label errors"."""

    label_errors_requested = Signal(str, object, str)

    def __init__(self, state, parent=None):
        super().__init__(parent)
        self.state = state
        self.runner = EvalRunner(self)
        self.runner.done.connect(self._eval_over)
        self.result = None
        self.source = None          # the DataSource the result belongs to
        self.run_dir: str | None = None
        self._pending: tuple = (None, "")   # (source, split) of the running evaluation
        self._run_sources: dict[str, object] = {}
        self._build()
        state.runs_root_changed.connect(lambda _p: self.refresh_runs())
        state.run_finished.connect(lambda _d: self.refresh_runs())
        state.dataset_changed.connect(lambda _s: self._refresh_datasets())
        app = QApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.shutdown)
        self.refresh_runs()

    def _build(self) -> None:
        self.run_combo = QComboBox()
        self.run_combo.setMinimumContentsLength(28)
        self.run_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.run_combo.currentIndexChanged.connect(self._refresh_datasets)
        self.data_combo = QComboBox()
        self.data_combo.setToolTip("Evaluate on the dataset open in the app, or on the data the "
                                   "run was trained on")
        self.data_combo.currentIndexChanged.connect(self._refresh_splits)
        self.split_combo = QComboBox()
        self.eval_btn = QPushButton("Evaluate")
        self.eval_btn.setObjectName("primary")
        self.eval_btn.setShortcut("Ctrl+E")
        self.eval_btn.setToolTip("Score the run's best checkpoint on the split (Ctrl+E)")
        self.eval_btn.clicked.connect(self.start)
        self.cancel_btn = QPushButton("Cancel")
        self.cancel_btn.setObjectName("danger")
        self.cancel_btn.setEnabled(False)
        self.cancel_btn.clicked.connect(self.runner.cancel)
        self.issues_btn = QPushButton("Find likely label errors")
        self.issues_btn.setToolTip("Open the Label tab with this run's model, the split ordered by "
                                   "likely label errors (suspect regions outlined)")
        self.issues_btn.clicked.connect(self.find_label_errors)
        self.progress = QProgressBar()
        self.progress.setFormat("%v / %m images")
        self.progress.setMaximumWidth(220)
        self.summary = QLabel("")
        self.summary.setObjectName("metric")
        self.summary.setToolTip(MIOU_HELP)
        bar = QHBoxLayout()
        for text, w in (("Run", self.run_combo), ("Data", self.data_combo),
                        ("Split", self.split_combo)):
            bar.addWidget(QLabel(text))
            bar.addWidget(w)
        for w in (self.eval_btn, self.cancel_btn, self.issues_btn, self.progress):
            bar.addWidget(w)
        bar.addWidget(self.summary, 1)

        self.bars = ClassIoUBars()
        self.heatmap = ConfusionHeatmap()
        self.heatmap.cell_clicked.connect(self.show_confusion)
        self.confusion_title = QLabel("Click a confusion-matrix cell to list the images where "
                                      "that confusion is largest.")
        self.confusion_title.setWordWrap(True)
        self.confusion_title.setObjectName("muted")
        self.confusion_list = QListWidget()
        self.confusion_list.currentItemChanged.connect(self._confusion_item)
        lower = QWidget()
        lv = QVBoxLayout(lower)
        lv.setContentsMargins(0, 0, 0, 0)
        lv.addWidget(self.confusion_title)
        lv.addWidget(self.confusion_list, 1)
        left = QSplitter(Qt.Orientation.Vertical)
        left.addWidget(self.bars)
        left.addWidget(self.heatmap)
        left.addWidget(lower)
        left.setSizes([260, 380, 140])
        self.browser = PredictionBrowser()
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(left)
        split.addWidget(self.browser)
        split.setSizes([430, 900])
        self.results_box = EmptyState(split, NO_EVALUATION)  # no axes before there are scores
        lay = QVBoxLayout(self)
        lay.addLayout(bar)
        lay.addWidget(self.results_box, 1)

    # --- choices ---------------------------------------------------------------------------
    def refresh_runs(self) -> None:
        """List the runs with a checkpoint under state.runs_root (keeps the current choice)."""
        from core.runs import list_runs

        keep = self.run_combo.currentData()
        root = Path(self.state.runs_root)
        try:
            records = list_runs(root) if root.is_dir() else []
        except Exception:  # noqa: BLE001 - an unreadable folder just lists nothing
            records = []
        self.run_combo.blockSignals(True)
        self.run_combo.clear()
        for rec in records:
            if checkpoint_of(rec.path) is None:
                continue
            miou = (rec.summary or {}).get("best_miou")
            text = Path(rec.path).name + (f"   (mIoU {miou:.3f})" if isinstance(miou, float) else "")
            self.run_combo.addItem(text, str(rec.path))
        i = self.run_combo.findData(keep)
        self.run_combo.setCurrentIndex(i if i >= 0 else self.run_combo.count() - 1)
        self.run_combo.blockSignals(False)
        if self.result is None:
            self.results_box.show_empty(NO_EVALUATION if self.run_combo.count()
                                        else NO_RUNS.format(root=root))
        self._refresh_datasets()

    def _run_config(self) -> dict:
        """The chosen run's config.yaml as a dict (empty when unreadable)."""
        from core.runs import read_run

        run = self.run_combo.currentData()
        rec = read_run(Path(run)) if run else None
        return rec.config if rec is not None else {}

    def _refresh_datasets(self, *_args) -> None:
        keep = self.data_combo.currentData()
        self.data_combo.blockSignals(True)
        self.data_combo.clear()
        if self.state.source is not None:
            self.data_combo.addItem(f"open dataset: {Path(self.state.source.root).name}", CURRENT)
        data = self._run_config().get("data")
        if data:
            self.data_combo.addItem(f"run's data: {Path(data).name}", RUN_DATA)
        i = self.data_combo.findData(keep)
        self.data_combo.setCurrentIndex(max(i, 0))
        self.data_combo.blockSignals(False)
        self._refresh_splits()

    def chosen_source(self):
        """The DataSource to evaluate on (opening the run's data on first use)."""
        if self.data_combo.currentData() == CURRENT:
            return self.state.source
        cfg = self._run_config()
        data = cfg.get("data")
        if not data:
            return None
        if data not in self._run_sources:
            from core.data.source import open_dataset

            self._run_sources[data] = open_dataset(data, cfg.get("format", "auto"))
        return self._run_sources[data]

    def _refresh_splits(self, *_args) -> None:
        keep = self.split_combo.currentText() or self._run_config().get("val_split", "val")
        self.split_combo.clear()
        try:
            src = self.chosen_source()
        except Exception as exc:  # noqa: BLE001 - named in the summary, not a crash
            src = None
            self.summary.setText(f"cannot open the run's data: {exc}")
        if src is not None:
            self.split_combo.addItems(list(src.splits))
            i = self.split_combo.findText(keep)
            self.split_combo.setCurrentIndex(i if i >= 0 else self.split_combo.count() - 1)
        self.eval_btn.setEnabled(src is not None and self.run_combo.count() > 0
                                 and not self.runner.is_running())

    # --- evaluation ------------------------------------------------------------------------
    def _chosen(self):
        """(run folder, its checkpoint, dataset, split) as picked, or None (an error is shown
        when the dataset cannot be opened)."""
        run = self.run_combo.currentData()
        ckpt = checkpoint_of(run) if run else None
        try:
            src = self.chosen_source()
        except Exception as exc:  # noqa: BLE001
            show_error(self, "Cannot open dataset", str(exc))
            return None
        split = self.split_combo.currentText()
        if ckpt is None or src is None or not split:
            return None
        return run, ckpt, src, split

    def start(self) -> bool:
        chosen = self._chosen()
        if chosen is None or self.runner.is_running():
            return False
        run, ckpt, src, split = chosen
        self.run_dir, self._pending = run, (src, split)
        self.progress.setRange(0, 0)
        self.summary.setText(f"evaluating {Path(run).name} on {split}…")
        self.eval_btn.setEnabled(False)
        self.cancel_btn.setEnabled(True)

        def connect(w) -> None:
            w.progress.connect(self._progress)
            w.finished.connect(self._finished)
            w.failed.connect(self._failed)
            w.cancelled.connect(lambda: self.summary.setText("evaluation cancelled"))

        self.runner.start(ckpt, src, split, connect)
        return True

    def find_label_errors(self) -> bool:
        chosen = self._chosen()
        if chosen is None:
            return False
        _, ckpt, src, split = chosen
        self.label_errors_requested.emit(str(ckpt), src, split)
        return True

    def _progress(self, done: int, total: int) -> None:
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(done)

    def _failed(self, message: str, tb: str) -> None:
        self.summary.setText("evaluation failed")
        show_error(self, "Evaluation failed", message, tb)

    def _eval_over(self) -> None:
        self.cancel_btn.setEnabled(False)
        self.eval_btn.setEnabled(True)
        if self.progress.maximum() == 0:
            self.progress.setRange(0, 1)

    def _finished(self, result) -> None:
        source, split = self._pending
        self.show_result(result, source, checkpoint_of(self.run_dir), split)
        self.state.eval_done.emit(result)

    def show_result(self, result, source, checkpoint, split: str | None = None) -> None:
        """Draw an EvalResult of ``checkpoint`` on ``source``'s ``split`` (found from the result's
        image names when not given)."""
        self.result, self.source = result, source
        schema = source.schema
        s = result.scores
        self.summary.setText(f"mIoU {s.miou:.3f}   pixel acc {s.pixel_acc:.3f}   "
                             f"{len(result.names)} images")
        self.bars.set_scores(list(result.class_names), list(s.iou), schema.colors, s.miou)
        self.heatmap.set_matrix(result.matrix, list(result.class_names))
        self.results_box.show_content()
        self.confusion_list.clear()
        mats = result.per_image_matrices
        present = (mats.sum(axis=2) > 0) if mats is not None else \
            np.ones((len(result.names), schema.num_classes), bool)
        miou = result.per_image_miou if result.per_image_miou is not None else \
            [math.nan] * len(result.names)
        split = split or self._split_of(result, source)
        samples = {smp.name: smp for smp in source.samples(split)}

        def load(name: str):
            smp = samples[name]
            gt = source.read_mask(smp) if smp.mask is not None else None
            return source.read_image(smp), gt

        def make_predictor():
            from core.evaluate import Predictor

            return Predictor.from_checkpoint(checkpoint)

        self.browser.set_images(result.names, miou, present, schema, make_predictor, load)

    def _split_of(self, result, source) -> str:
        # the split whose sample names are the result's names (normally the chosen one)
        chosen = self.split_combo.currentText()
        for split in [chosen] + [s for s in source.splits if s != chosen]:
            try:
                if [smp.name for smp in source.samples(split)] == list(result.names):
                    return split
            except Exception:  # noqa: BLE001
                continue
        return chosen

    # --- confusion drill-down -------------------------------------------------------------
    def show_confusion(self, gt: int, pred: int) -> list[str]:
        """List the images where ground truth ``gt`` is most often predicted as ``pred``."""
        self.confusion_list.clear()
        if self.result is None:
            return []
        names = self.result.class_names
        rows = worst_images(self.result, gt, pred)
        what = "correct" if gt == pred else f"predicted as {names[pred]}"
        self.confusion_title.setText(f"<b>{names[gt]}</b> {what}: {len(rows)} images, "
                                     "most pixels first")
        for name, count, share in rows:
            item = QListWidgetItem(f"{name}    {count:,} px  ({100 * share:.1f}% of its "
                                   f"{names[gt]})")
            item.setData(Qt.ItemDataRole.UserRole, (name, gt))
            self.confusion_list.addItem(item)
        return [r[0] for r in rows]

    def _confusion_item(self, item, _prev=None) -> None:
        if item is None:
            return
        name, gt = item.data(Qt.ItemDataRole.UserRole)
        if not self.browser.select_name(name):
            self.browser.class_filter.setCurrentIndex(0)
            self.browser.select_name(name)
        self.browser.set_error_class(gt)

    def shutdown(self) -> None:
        """Join the evaluation and prediction threads (the window is closing)."""
        self.runner.wait(10000)
        self.browser.shutdown()
