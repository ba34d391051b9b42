"""Pick the model that pre-labels and ranks: a run under the runs folder (its best.pt, else
last.pt) or any checkpoint file. The list refreshes when the runs folder changes or a run ends."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QFileDialog, QHBoxLayout, QToolButton, QWidget

from core.runs import checkpoint_for, list_runs

NO_MODEL = "— no model —"


def run_checkpoint(run_dir: Path) -> Path | None:
    """core's rule (best.pt, else last.pt)."""
    return checkpoint_for(run_dir)


class ModelPicker(QWidget):
    """Signals: changed(str) — the chosen checkpoint path, '' for none."""

    changed = Signal(str)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.combo = QComboBox()
        self.combo.setMinimumContentsLength(14)
        self.combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.combo.setToolTip("The model that pre-labels, shows its prediction and ranks images")
        self.browse = QToolButton()
        self.browse.setText("…")
        self.browse.setToolTip("Choose a checkpoint file (.pt)")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.combo, 1)
        layout.addWidget(self.browse)
        self.browse.clicked.connect(self._browse)
        self.combo.currentIndexChanged.connect(lambda _i: self.changed.emit(self.path()))
        self._runs_root: Path | None = None
        self.refresh(None)

    def path(self) -> str:
        return self.combo.currentData() or ""

    def refresh(self, runs_root: str | Path | None) -> None:
        """List the runs under `runs_root` that have a checkpoint; keeps the current choice."""
        if runs_root is not None:
            self._runs_root = Path(runs_root)
        current = self.path()
        self.combo.blockSignals(True)
        self.combo.clear()
        self.combo.addItem(NO_MODEL, "")
        for rec in list_runs(self._runs_root) if self._runs_root else []:
            ckpt = run_checkpoint(rec.path)
            if ckpt is not None:
                miou = (rec.summary or {}).get("best_miou")
                label = rec.name + (f"  (mIoU {miou:.3f})" if isinstance(miou, float) else "")
                self.combo.addItem(label, str(ckpt))
        if current and self.combo.findData(current) < 0:
            self.combo.addItem(Path(current).name, current)
        self.combo.setCurrentIndex(max(0, self.combo.findData(current)))
        self.combo.blockSignals(False)

    def set_path(self, path: str | Path) -> None:
        """Choose a checkpoint file (added to the list if it is not a listed run)."""
        path = str(path)
        i = self.combo.findData(path)
        if i < 0:
            self.combo.addItem(Path(path).name, path)
            i = self.combo.count() - 1
        self.combo.setCurrentIndex(i)

    def _browse(self) -> None:
        start = str(self._runs_root or Path.home())
        path, _ = QFileDialog.getOpenFileName(self, "Choose a checkpoint", start,
                                              "Checkpoints (*.pt);;All files (*)")
        if path:
            self.set_path(path)
