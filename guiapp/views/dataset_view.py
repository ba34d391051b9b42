"""Dataset tab: browse a split as thumbnails, look at each image with its mask, see how the classes
are distributed (and what class weights that implies), and preview augmentation.

Everything shown comes from core: DataSource for pixels, core.data.stats for counts and weights,
core.data.augment for the presets. Statistics touch every mask, so they run off the UI thread.
"""
from __future__ import annotations

from PySide6.QtCore import QItemSelectionModel, QSize, Qt
from PySide6.QtWidgets import (QComboBox, QHBoxLayout, QLabel, QListView, QProgressBar, QSlider,
                               QSplitter, QTabWidget, QVBoxLayout, QWidget)

from guiapp.widgets.augment_grid import AugmentGrid
from guiapp.widgets.class_histogram import ClassHistogram
from guiapp.widgets.class_legend import ClassLegend
from guiapp.widgets.empty_state import EmptyState
from guiapp.widgets.overlay_viewer import OverlayViewer
from guiapp.widgets.thumbnail_model import ThumbnailModel
from guiapp.workers.background import run_in_background


NO_DATASET = "No dataset open — File ▸ Open Dataset… (Ctrl+O) shows its class frequencies here."
COUNTING = "Counting the class pixels of the {split} split…"


class DatasetView(QWidget):
    """Left: split filter + thumbnails. Centre: image/mask overlay. Right: statistics, augmentation."""

    def __init__(self, state, parent=None):
        super().__init__(parent)
        self.state = state
        self._stats_cache: dict[str, object] = {}
        self._stats_task = None
        self._image = self._mask = None

        # left: split filter and thumbnails
        self.split_box = QComboBox()
        self.split_box.setToolTip("Show the images of one split")
        self.count_label = QLabel("")
        self.count_label.setObjectName("muted")
        self.model = ThumbnailModel(self)
        self.list = QListView()
        self.list.setModel(self.model)
        self.list.setViewMode(QListView.ViewMode.IconMode)  # a grid of pictures, names under
        self.list.setIconSize(self.model.thumb_size)
        self.list.setResizeMode(QListView.ResizeMode.Adjust)
        self.list.setMovement(QListView.Movement.Static)
        self.list.setUniformItemSizes(True)
        self.list.setWordWrap(True)
        self.list.setSpacing(4)
        self.list.setMinimumWidth(160)
        left = QWidget()
        ll = QVBoxLayout(left)
        ll.setContentsMargins(0, 0, 0, 0)
        row = QHBoxLayout()
        row.addWidget(QLabel("Split"))
        row.addWidget(self.split_box, 1)
        ll.addLayout(row)
        ll.addWidget(self.list, 1)
        ll.addWidget(self.count_label)

        # centre: overlay, opacity, hover readout, legend
        self.title = QLabel("No dataset open")
        self.title.setObjectName("heading")
        self.viewer = OverlayViewer()
        self.opacity = QSlider(Qt.Orientation.Horizontal)
        self.opacity.setRange(0, 100)
        self.opacity.setValue(50)
        self.opacity.setMaximumWidth(180)
        self.opacity.setToolTip("Mask opacity (0 = image only, 100 = mask only)")
        self.hover_label = QLabel("")
        self.hover_label.setObjectName("metric")
        self.hover_label.setMinimumWidth(200)
        self.legend = ClassLegend()
        centre = QWidget()
        cl = QVBoxLayout(centre)
        cl.setContentsMargins(0, 0, 0, 0)
        cl.addWidget(self.title)
        cl.addWidget(self.viewer, 1)
        ctl = QHBoxLayout()
        ctl.addWidget(QLabel("Mask opacity"))
        ctl.addWidget(self.opacity)
        ctl.addSpacing(16)
        ctl.addWidget(self.hover_label, 1)
        cl.addLayout(ctl)
        cl.addWidget(self.legend)

        # right: statistics and augmentation
        self.histogram = ClassHistogram()
        self.stats_progress = QProgressBar()
        self.stats_progress.setTextVisible(True)
        self.stats_progress.setFormat("Counting class pixels… %p%")
        self.stats_progress.hide()
        stats_page = QWidget()
        sl = QVBoxLayout(stats_page)
        sl.setContentsMargins(4, 4, 4, 4)
        sl.addWidget(self.stats_progress)
        self.histogram_box = EmptyState(self.histogram, NO_DATASET)  # no axes before the counts
        sl.addWidget(self.histogram_box, 1)
        self.augment = AugmentGrid()
        aug_page = QWidget()
        al = QVBoxLayout(aug_page)
        al.setContentsMargins(4, 4, 4, 4)
        al.addWidget(self.augment)
        self.side_tabs = QTabWidget()
        self.side_tabs.addTab(stats_page, "Class statistics")
        self.side_tabs.addTab(aug_page, "Augmentation")

        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(left)
        splitter.addWidget(centre)
        splitter.addWidget(self.side_tabs)
        splitter.setStretchFactor(0, 0)
        splitter.setStretchFactor(1, 3)
        splitter.setStretchFactor(2, 2)
        splitter.setSizes([272, 570, 570])
        lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 6, 6, 6)
        lay.addWidget(splitter)

        self.split_box.currentTextChanged.connect(self._on_split)
        self.list.selectionModel().currentChanged.connect(self._on_current)
        self.opacity.valueChanged.connect(lambda v: self.viewer.set_opacity(v / 100))
        self.viewer.hovered.connect(
            lambda t: self.hover_label.setText(t or "hover the image to name a pixel's class"))
        state.dataset_changed.connect(self.set_source)
        if state.source is not None:
            self.set_source(state.source)

    # --- dataset / split ------------------------------------------------------------
    def set_source(self, source) -> None:
        """Show a newly opened dataset (or clear the view for None)."""
        if self._stats_task is not None:
            self._stats_task.cancel()
            self._stats_task = None
        self._stats_cache.clear()
        self.histogram.clear()
        self.split_box.blockSignals(True)
        self.split_box.clear()
        if source is None:
            self.split_box.blockSignals(False)
            self.model.set_samples(None, [])
            self.title.setText("No dataset open")
            self.histogram_box.show_empty(NO_DATASET)
            return
        self.viewer.set_schema(source.schema)
        self.legend.set_schema(source.schema)
        self.split_box.addItems(source.splits)
        if "train" in source.splits:
            self.split_box.setCurrentText("train")
        self.split_box.blockSignals(False)
        self._on_split(self.split_box.currentText())

    def current_split(self) -> str:
        return self.split_box.currentText()

    def _on_split(self, split: str) -> None:
        src = self.state.source
        if src is None or not split:
            return
        samples = src.samples(split)
        self.model.set_samples(src, samples)
        with_masks = sum(1 for s in samples if s.mask is not None)
        self.count_label.setText(f"{len(samples)} images · {with_masks} with masks · "
                                 f"{src.format} · {src.schema.name}")
        if samples:
            self.list.selectionModel().setCurrentIndex(
                self.model.index(0), QItemSelectionModel.SelectionFlag.ClearAndSelect)
        self._request_stats(split)

    # --- one image --------------------------------------------------------------------
    def _on_current(self, current, _previous=None) -> None:
        if not current.isValid() or self.state.source is None:
            return
        self.show_sample(self.model.sample(current.row()))

    def show_sample(self, sample) -> None:
        src = self.state.source
        try:
            image = src.read_image(sample)
            mask = src.read_mask(sample) if sample.mask is not None else None
        except Exception as exc:  # noqa: BLE001 - a bad file is reported in place
            self.title.setText(f"<span style='color:#c0392b'>{exc}</span>")
            return
        self._image, self._mask = image, mask
        h, w = image.shape[:2]
        self.title.setText(f"{sample.name}  <span style='color:#5b6670; font-weight:400'>"
                           f"{w}×{h} · {sample.split}{'' if mask is not None else ' · no mask'}"
                           f"</span>")
        self.viewer.set_data(image, mask)
        self.legend.set_present(mask)
        self.augment.set_sample(image, mask, src.schema)

    # --- statistics -------------------------------------------------------------------
    def stats_for(self, split: str):
        """The cached ClassStats of `split`, or None while it is being computed."""
        return self._stats_cache.get(split)

    def _request_stats(self, split: str) -> None:
        if split in self._stats_cache:
            self.histogram.set_stats(self._stats_cache[split], self.state.source.schema)
            self.histogram_box.show_content()
            return
        from core.data.stats import compute_stats

        if self._stats_task is not None:
            self._stats_task.cancel()
        src = self.state.source
        self.histogram.clear()
        self.histogram_box.show_empty(COUNTING.format(split=split))
        self.stats_progress.setValue(0)
        self.stats_progress.show()

        def work(progress, cancelled):
            def report(done_, total):
                if cancelled():  # stop reading masks nobody will look at
                    raise InterruptedError("statistics cancelled")
                progress(done_, total)

            return compute_stats(src, split, progress=report)

        def done(stats, split=split, src=src):
            self._stats_cache[split] = stats
            if self.state.source is src and self.current_split() == split:
                self.stats_progress.hide()
                self.histogram.set_stats(stats, src.schema)
                self.histogram_box.show_content()

        def failed(message, _tb):
            self.stats_progress.hide()
            self.histogram.summary.setText(f"Statistics failed: {message}")
            self.histogram_box.show_empty(f"Statistics failed: {message}")

        def progress(done_, total):
            self.stats_progress.setMaximum(max(1, total))
            self.stats_progress.setValue(done_)

        self._stats_task = run_in_background(work, done, failed, progress)

    def shutdown(self) -> None:
        """Drop and join running statistics and thumbnail jobs (window closing)."""
        self.model.shutdown()
        if self._stats_task is not None:
            self._stats_task.cancel()
            self._stats_task.thread.wait()

    def sizeHint(self) -> QSize:
        return QSize(1350, 820)
