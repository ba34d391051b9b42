"""List model of a dataset split with thumbnails made lazily, off the UI thread.

A view asks only for the rows it shows, so a thumbnail is decoded only when its row is first
painted: the request goes to a small thread pool that decodes and scales a QImage (safe outside
the UI thread), and the row repaints when it arrives. Scrolling a folder of 2048x1024 Cityscapes
frames never stalls the window, and rows scrolled past unseen cost nothing."""
from __future__ import annotations

from PySide6.QtCore import (QAbstractListModel, QModelIndex, QObject, QRunnable, QSize, Qt,
                            QThreadPool, Signal, Slot)
from PySide6.QtGui import QColor, QImage, QPixmap

from guiapp.widgets.np_qimage import rgb_to_qimage

SampleRole = Qt.ItemDataRole.UserRole + 1


class _Relay(QObject):
    """Carries finished thumbnails from pool threads to the model (queued to the UI thread)."""

    ready = Signal(int, int, object, str)  # generation, row, QImage | None, error


class _ThumbJob(QRunnable):
    def __init__(self, relay: _Relay, source, sample, row: int, generation: int, size: QSize):
        super().__init__()
        self.relay, self.source, self.sample = relay, source, sample
        self.row, self.generation, self.size = row, generation, size

    def run(self) -> None:
        try:
            img = rgb_to_qimage(self.source.read_image(self.sample)).scaled(
                self.size, Qt.AspectRatioMode.KeepAspectRatio,
                Qt.TransformationMode.SmoothTransformation)
            self.relay.ready.emit(self.generation, self.row, img, "")
        except Exception as exc:  # noqa: BLE001 - a bad file shows as a red tile, not a crash
            self.relay.ready.emit(self.generation, self.row, None, str(exc))


class ThumbnailModel(QAbstractListModel):
    """Rows = core Samples of one split; DecorationRole = thumbnail (placeholder until decoded)."""

    def __init__(self, parent=None, thumb_size: QSize = QSize(104, 78)):
        super().__init__(parent)
        self.thumb_size = thumb_size
        self._source = None
        self._samples: list = []
        self._thumbs: dict[int, QPixmap] = {}
        self._errors: dict[int, str] = {}
        self._requested: set[int] = set()
        self._generation = 0  # bumped on every new listing: late results of the old one are dropped
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(2)
        self._relay = _Relay(self)
        self._relay.ready.connect(self._on_ready)
        self._placeholder = QPixmap(thumb_size)
        self._placeholder.fill(QColor("#e3e8ed"))
        self._broken = QPixmap(thumb_size)
        self._broken.fill(QColor("#f2c4bf"))

    # --- content --------------------------------------------------------------------
    def set_samples(self, source, samples: list) -> None:
        self._pool.clear()  # drop queued decodes of the previous listing
        self.beginResetModel()
        self._generation += 1
        self._source, self._samples = source, list(samples)
        self._thumbs.clear()
        self._errors.clear()
        self._requested.clear()
        self.endResetModel()

    def sample(self, row: int):
        return self._samples[row]

    def loaded_count(self) -> int:
        return len(self._thumbs)

    def shutdown(self) -> None:
        """Drop queued decodes and join the pool (window closing)."""
        self._pool.clear()
        self._pool.waitForDone()

    # --- Qt model API ---------------------------------------------------------------
    def rowCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._samples)

    def data(self, index: QModelIndex, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        row = index.row()
        s = self._samples[row]
        if role == Qt.ItemDataRole.DisplayRole:
            return s.name
        if role == Qt.ItemDataRole.DecorationRole:
            if row in self._thumbs:
                return self._thumbs[row]
            if row in self._errors:
                return self._broken
            if row not in self._requested:
                self._requested.add(row)
                self._pool.start(_ThumbJob(self._relay, self._source, s, row, self._generation,
                                           self.thumb_size))
            return self._placeholder
        if role == Qt.ItemDataRole.ToolTipRole:
            err = self._errors.get(row)
            mask = s.mask.name if s.mask else "no mask"
            return f"{s.name}\n{s.image.name} · {mask}" + (f"\n⚠ {err}" if err else "")
        if role == Qt.ItemDataRole.SizeHintRole:
            return QSize(self.thumb_size.width() + 16, self.thumb_size.height() + 28)
        if role == SampleRole:
            return s
        return None

    @Slot(int, int, object, str)
    def _on_ready(self, generation: int, row: int, image: QImage | None, error: str) -> None:
        if generation != self._generation or row >= len(self._samples):
            return
        if image is None:
            self._errors[row] = error
        else:
            self._thumbs[row] = QPixmap.fromImage(image)
        idx = self.index(row)
        self.dataChanged.emit(idx, idx, [Qt.ItemDataRole.DecorationRole])
