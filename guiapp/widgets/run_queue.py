"""The run queue panel: configurations waiting to train one after another (core.engine.queue runs
them), plus a grid helper that queues every loss × optimizer combination at once (the report's
comparison in one click)."""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (QAbstractItemView, QGroupBox, QHBoxLayout, QLabel, QListWidget,
                               QListWidgetItem, QPushButton, QVBoxLayout, QWidget)

STATUS_MARK = {"pending": "○", "running": "▶", "done": "✓", "failed": "✗", "cancelled": "■"}
STATUS_COLOUR = {"pending": "#34495e", "running": "#2f6fb3", "done": "#3a9a5b",
                 "failed": "#c0392b", "cancelled": "#8a6d3b"}


def describe(cfg) -> str:
    """One line a person can scan: [name:] arch/encoder, loss, optimizer, lr, epochs, size."""
    enc = f"/{cfg.encoder}" if cfg.encoder else ""
    h, w = cfg.image_size
    weights = f" w={cfg.class_weights}" if cfg.class_weights != "none" else ""
    name = f"{cfg.name}:  " if cfg.name else ""
    return (f"{name}{cfg.arch}{enc} · {cfg.loss}{weights} · {cfg.optimizer}   "
            f"lr {cfg.lr:g} · {cfg.epochs} ep · batch {cfg.batch_size} · {h}×{w} · aug {cfg.augment}")


def _checklist(items, checked=()) -> QListWidget:
    lw = QListWidget()
    for name in items:
        it = QListWidgetItem(name)
        it.setFlags(it.flags() | Qt.ItemFlag.ItemIsUserCheckable)
        it.setCheckState(Qt.CheckState.Checked if name in checked else Qt.CheckState.Unchecked)
        lw.addItem(it)
    lw.setMaximumHeight(22 * len(items) + 8)
    return lw


class RunQueuePanel(QWidget):
    """Holds [config, status] entries; `grid_requested(losses, optimizers)` asks the owner to
    queue the combinations built from its current form."""

    grid_requested = Signal(list, list)
    changed = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        from core.losses import LOSSES
        from core.optim import optimizer_specs

        self.entries: list[list] = []  # [TrainConfig, status]
        self._locked: set[int] = set()
        self.list = QListWidget()
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.list.setMinimumHeight(90)
        self.list.setWordWrap(True)
        self.list.setAlternatingRowColors(True)
        self.remove_btn = QPushButton("Remove")
        self.clear_btn = QPushButton("Clear")
        self.remove_btn.setToolTip("Remove the selected pending runs (Delete)")
        self.remove_btn.setShortcut("Delete")
        self.remove_btn.clicked.connect(self.remove_selected)
        self.clear_btn.clicked.connect(self.clear_finished)
        self.clear_btn.setToolTip("Remove every run except those being trained now")

        self.losses = _checklist(LOSSES, checked=("ce",))
        self.optimizers = _checklist(optimizer_specs(), checked=("adam",))
        self.grid_btn = QPushButton("Queue grid")
        self.grid_btn.setToolTip("Queue every checked loss × optimizer with the form's other "
                                 "settings")
        self.grid_btn.clicked.connect(self._emit_grid)
        self.grid_label = QLabel("")
        self.grid_label.setObjectName("muted")
        for lw in (self.losses, self.optimizers):
            lw.itemChanged.connect(self._update_grid_label)

        grid_box = QGroupBox("Grid: losses × optimizers")
        gl = QVBoxLayout(grid_box)
        cols = QHBoxLayout()
        cols.addWidget(self.losses)
        cols.addWidget(self.optimizers)
        gl.addLayout(cols)
        row = QHBoxLayout()
        row.addWidget(self.grid_label, 1)
        row.addWidget(self.grid_btn)
        gl.addLayout(row)

        queue_box = QGroupBox("Queue")
        ql = QVBoxLayout(queue_box)
        ql.addWidget(self.list, 1)
        btns = QHBoxLayout()
        btns.addStretch(1)
        btns.addWidget(self.remove_btn)
        btns.addWidget(self.clear_btn)
        ql.addLayout(btns)

        lay = QHBoxLayout(self)  # a strip under the curves: queue left, grid helper right
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(queue_box, 3)
        lay.addWidget(grid_box, 2)
        self._update_grid_label()

    # --- entries --------------------------------------------------------------------------
    def add(self, cfg) -> None:
        self.entries.append([cfg, "pending"])
        self._refresh()

    def pending(self) -> list[list]:
        """Entries still waiting, in queue order (the entries themselves, not indices, so a
        removal while training cannot shift which row a status lands on)."""
        return [e for e in self.entries if e[1] == "pending"]

    def lock(self, entries: list[list]) -> None:
        """Entries handed to the worker: they stay listed until the batch ends."""
        self._locked = {id(e) for e in entries}
        self._refresh()

    def unlock(self) -> None:
        self._locked = set()

    def set_status(self, entry: list, status: str) -> None:
        entry[1] = status
        self._refresh()

    def checked(self, which: QListWidget) -> list[str]:
        return [which.item(i).text() for i in range(which.count())
                if which.item(i).checkState() == Qt.CheckState.Checked]

    def remove_selected(self) -> None:
        rows = sorted({self.list.row(it) for it in self.list.selectedItems()}, reverse=True)
        for r in rows:
            if id(self.entries[r]) not in self._locked:
                del self.entries[r]
        self._refresh()

    def clear_finished(self) -> None:
        """Remove every entry the worker is not holding (finished, failed and pending)."""
        self.entries = [e for e in self.entries if id(e) in self._locked]
        self._refresh()

    def _refresh(self) -> None:
        self.list.clear()
        for cfg, status in self.entries:
            it = QListWidgetItem(f"{STATUS_MARK[status]}  {describe(cfg)}")
            it.setForeground(QColor(STATUS_COLOUR[status]))
            it.setToolTip(f"{status}\n{cfg.to_yaml()}")
            self.list.addItem(it)
        self.changed.emit()

    # --- grid -----------------------------------------------------------------------------
    def _update_grid_label(self, *_):
        n = len(self.checked(self.losses)) * len(self.checked(self.optimizers))
        self.grid_label.setText(f"{n} run{'s' if n != 1 else ''}")
        self.grid_btn.setEnabled(n > 0)

    def _emit_grid(self) -> None:
        self.grid_requested.emit(self.checked(self.losses), self.checked(self.optimizers))
