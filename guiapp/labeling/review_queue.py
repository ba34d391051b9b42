"""Review queue: rank the split's images by model uncertainty or by error against the current
labels (core.labeling.review), in the background with a progress bar, so the person fixes the
most useful labels first. The ranking lands in the image list; Next/Previous walk it."""
from __future__ import annotations

import threading

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (QComboBox, QGridLayout, QLabel, QProgressBar, QPushButton, QWidget)

from core.labeling.review import REVIEW_MODES, ReviewItem, review_order, score_images

MODE_TITLES = {"file": "File order", "uncertainty": "Most uncertain first",
               "error": "Largest error first"}
SCORE_TITLES = {"file": ("Score", ""),
                "uncertainty": ("Entropy", "Mean per-pixel softmax entropy of the model (nats)"),
                "error": ("Error", "1 − mIoU of the model's prediction against the current labels")}


class ReviewPanel(QWidget):
    """Signals: order_changed(list[str] names, dict name->score or None); message(str);
    prev_clicked(), next_clicked()."""

    order_changed = Signal(list, object)
    message = Signal(str)
    prev_clicked = Signal()
    next_clicked = Signal()

    def __init__(self, runner, parent=None):
        super().__init__(parent)
        self.runner = runner
        self.items: list[ReviewItem] = []
        self._names: list[str] = []
        self._stop = threading.Event()
        self._running = False
        self._generation = 0  # bumped per dataset/split: late results of an old one are dropped
        self.mode = QComboBox()
        for key in ("file", *REVIEW_MODES):
            self.mode.addItem(MODE_TITLES[key], key)
        self.mode.setToolTip("Uncertainty: mean per-pixel softmax entropy of the model.\n"
                             "Error: 1 − mIoU of the model's prediction against the current labels.")
        self.rank_button = QPushButton("Rank")
        self.rank_button.setToolTip("Run the chosen model on every image of the split and sort")
        self.progress = QProgressBar()
        self.progress.setVisible(False)
        self.progress.setTextVisible(True)
        self.prev_button = QPushButton("◀ Previous (P)")
        self.next_button = QPushButton("Next (N) ▶")
        self.prev_button.setToolTip("Previous image in this order (P or PageUp); saves first")
        self.next_button.setToolTip("Next image in this order (N or PageDown); saves first")
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.addWidget(QLabel("Order"), 0, 0)
        grid.addWidget(self.mode, 0, 1)
        grid.addWidget(self.rank_button, 0, 2)
        grid.addWidget(self.progress, 1, 0, 1, 3)
        grid.addWidget(self.prev_button, 2, 0, 1, 2)
        grid.addWidget(self.next_button, 2, 2)
        self.mode.currentIndexChanged.connect(self._mode_changed)
        self.rank_button.clicked.connect(self._rank_clicked)
        self.prev_button.clicked.connect(lambda: self.prev_clicked.emit())
        self.next_button.clicked.connect(lambda: self.next_clicked.emit())
        self._source = self._samples = self._current_masks = None

    @property
    def mode_key(self) -> str:
        return self.mode.currentData()

    def score_title(self) -> tuple[str, str]:
        """The image list's score column for the current order: title and tooltip."""
        return SCORE_TITLES[self.mode_key]

    def score_tips(self) -> dict[str, str]:
        """Per image, what its score stands for (shown on hover); none by default."""
        return {}

    @property
    def running(self) -> bool:
        return self._running

    def set_samples(self, source, samples) -> None:
        """A new dataset or split: back to file order, old ranking dropped."""
        self.cancel()
        self._generation += 1
        self._source, self._samples = source, list(samples)
        self._names = [s.name for s in self._samples]
        self.items = []
        self.mode.blockSignals(True)
        self.mode.setCurrentIndex(0)
        self.mode.blockSignals(False)
        self.order_changed.emit(list(self._names), None)

    def set_current_masks(self, provider) -> None:
        """provider() -> {name: mask} of in-memory labels newer than the files (unsaved edits)."""
        self._current_masks = provider

    def _mode_changed(self) -> None:
        if self.mode_key == "file":
            self.order_changed.emit(list(self._names), None)
        elif self.items:
            self._publish()
        else:
            self.rank()

    def _rank_clicked(self) -> None:
        if self._running:
            self.cancel()
        else:
            if self.mode_key == "file":
                self.mode.setCurrentIndex(1)  # ranking by file order means nothing: use uncertainty
                return
            self.rank()

    def _publish(self) -> None:
        mode = self.mode_key
        order = review_order(self.items, mode)
        ranked = set(order)
        order += [n for n in self._names if n not in ranked]  # cancelled early: the rest after
        self.order_changed.emit(order, {it.name: it.score(mode) for it in self.items})

    def rank(self) -> None:
        """Score every image with the chosen model in the background."""
        if self._source is None or not self._samples or self._running:
            return
        if not self.runner.has_model:
            self.message.emit("Choose a model (run or checkpoint) to rank images by it")
            return
        source, samples = self._source, list(self._samples)
        overrides = dict(self._current_masks() if self._current_masks else {})
        self._stop = stop = threading.Event()
        runner = self.runner

        def read_mask(sample):
            m = overrides.get(sample.name)
            return m if m is not None else source.read_mask(sample)

        def work(progress, cancelled):
            return score_images(runner.locked(source.schema), samples, source.read_image, read_mask,
                                source.schema.num_classes, progress=progress,
                                cancelled=lambda: stop.is_set() or cancelled(),
                                on_prediction=lambda s, p: runner.remember(s.name, p))

        self._running = True
        self.rank_button.setText("Stop")
        self.progress.setRange(0, len(samples))
        self.progress.setValue(0)
        self.progress.setFormat("Ranking %v / %m")
        self.progress.setVisible(True)
        generation = self._generation

        def ranked(items):
            if generation == self._generation:
                self._ranked(items)
            else:
                self._finish()

        self.runner.run(work, ranked, "Ranking images…", self._on_progress, self._failed)

    def _on_progress(self, done: int, total: int) -> None:
        self.progress.setMaximum(total)
        self.progress.setValue(done)

    def _finish(self) -> None:
        self._running = False
        self.rank_button.setText("Rank")
        self.progress.setVisible(False)

    def _ranked(self, items: list[ReviewItem]) -> None:
        self._finish()
        self.items = list(items)
        if self.mode_key == "file":
            self.mode.blockSignals(True)
            self.mode.setCurrentIndex(1)
            self.mode.blockSignals(False)
        self._publish()
        self.message.emit(f"Ranked {len(items)} images: {MODE_TITLES[self.mode_key].lower()}")

    def _failed(self, _message: str, _details: str) -> None:
        self._finish()

    def cancel(self) -> None:
        self._stop.set()
