"""Qt model over core's runs table (core.runs.runs_table rows), plus a proxy that sorts numbers as
numbers and puts missing values last. The GUI never formats the table for export; it only shows
the same rows core exports."""
from __future__ import annotations

import math

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QSortFilterProxyModel, Qt

from core.runs import format_value
from guiapp.style import format_seconds

SORT_ROLE = Qt.ItemDataRole.UserRole + 1
KEY_ROLE = Qt.ItemDataRole.UserRole + 2      # the run's folder, to find the run again

MIOU_TOOLTIP = ("Best validation mIoU over the epochs. One confusion matrix is accumulated over "
                "the whole validation split (void pixels ignored); IoU per class = TP/(TP+FP+FN); "
                "mIoU = mean over the classes present in ground truth or prediction.")
TOOLTIPS = {
    "best_miou": MIOU_TOOLTIP, "miou": MIOU_TOOLTIP,
    "gflops": "Forward pass for one image at the run's input size "
              "(torch.utils.flop_counter; a multiply-add counts as two operations).",
    "efficiency": "100 · mIoU / GFLOPs — accuracy per unit of compute (higher is better).",
    "params_m": "Parameters of the model, in millions.",
    "train_min": "Wall-clock training time, in minutes.",
    "epochs": "Epochs completed (metrics.jsonl lines).",
}


def _is_number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def format_cell(key: str, value) -> str:
    """How a table value reads on screen (exports use core's own formatting)."""
    if key in ("train_seconds", "train_time") and _is_number(value):
        return format_seconds(float(value))
    if isinstance(value, (list, tuple)):
        return "x".join(str(v) for v in value)
    return format_value(key, value, missing="–")


class RunsTableModel(QAbstractTableModel):
    """Rows are dicts from core.runs.runs_table; ``columns`` are (key, header) pairs to show."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.rows: list[dict] = []
        self.keys: list[str] = []           # run folder per row
        self.columns: list[tuple[str, str]] = []

    def set_rows(self, rows: list[dict], keys: list[str], columns: list[tuple[str, str]]) -> None:
        self.beginResetModel()
        self.rows, self.keys, self.columns = list(rows), list(keys), list(columns)
        self.endResetModel()

    def rowCount(self, parent=QModelIndex()) -> int:  # noqa: N802 - Qt API
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent=QModelIndex()) -> int:  # noqa: N802 - Qt API
        return 0 if parent.isValid() else len(self.columns)

    def data(self, index: QModelIndex, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        key = self.columns[index.column()][0]
        value = self.rows[index.row()].get(key)
        if role == Qt.ItemDataRole.DisplayRole:
            return format_cell(key, value)
        if role == SORT_ROLE:
            return value
        if role == KEY_ROLE:
            return self.keys[index.row()]
        if role == Qt.ItemDataRole.TextAlignmentRole and _is_number(value):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ToolTipRole:
            return self.keys[index.row()]
        return None

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):  # noqa: N802
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(self.columns):
            return None
        key, header = self.columns[section]
        if role == Qt.ItemDataRole.DisplayRole:
            return header
        if role == Qt.ItemDataRole.ToolTipRole:
            return TOOLTIPS.get(key, header)
        return None


class RunsSortProxy(QSortFilterProxyModel):
    """Numbers compare as numbers, text as text (case-insensitive); missing values sort last."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setSortRole(SORT_ROLE)

    def lessThan(self, left: QModelIndex, right: QModelIndex) -> bool:  # noqa: N802 - Qt API
        a, b = left.data(SORT_ROLE), right.data(SORT_ROLE)
        a_missing = a is None or (isinstance(a, float) and math.isnan(a))
        b_missing = b is None or (isinstance(b, float) and math.isnan(b))
        if a_missing or b_missing:
            # missing values last in ascending order (and first in descending: Qt just reverses)
            return not a_missing and b_missing
        if _is_number(a) and _is_number(b):
            return a < b
        return str(a).lower() < str(b).lower()
