"""Experiments tab: every run under the runs folder in one sortable table (the report's Table 1),
their curves overlaid, and the mIoU-vs-GFLOPs trade-off with its Pareto front.

Rows, numbers and export formats all come from core.runs; this view only shows them and forwards
the person's choices (selection, sort, export path).
"""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QItemSelection, QItemSelectionModel, Qt
from PySide6.QtWidgets import (QAbstractItemView, QFileDialog, QHBoxLayout, QHeaderView, QLabel,
                               QPushButton, QSplitter, QTableView, QVBoxLayout, QWidget)

from guiapp.widgets.empty_state import EmptyState
from guiapp.widgets.error_dialog import show_error
from guiapp.widgets.pareto_plot import ParetoPlot, RunPoint
from guiapp.widgets.run_curves_plot import RunCurvesPlot
from guiapp.widgets.runs_table_model import KEY_ROLE, RunsSortProxy, RunsTableModel

# (row key, header) in display order; keys core.runs.runs_table may use for the same column are
# tried in turn, and any further keys of the rows are shown after these.
COLUMNS = (
    (("run", "name"), "run"),
    (("arch", "architecture"), "architecture"),
    (("encoder",), "encoder"),
    (("optimizer",), "optimizer"),
    (("loss",), "loss"),
    (("augment", "augmentation"), "augmentation"),
    (("class_weights",), "class weights"),
    (("epochs",), "epochs"),
    (("best_miou", "miou"), "best mIoU"),
    (("holdout_miou",), "held-out mIoU"),
    (("gflops",), "GFLOPs"),
    (("efficiency",), "efficiency"),
    (("params_m", "params"), "params (M)"),
    (("train_min", "train_seconds"), "train (min)"),
    (("image_size",), "image size"),
    (("crop_size",), "train crop"),
    (("pixel_acc",), "pixel acc"),
    (("images_per_s",), "images/s"),
    (("status",), "status"),
)
HIDDEN = {"path", "run_dir", "dir"}
NO_RUNS = ("No runs in {root} yet — train one in the Train tab, or open another runs folder "
           "(File ▸ Open Runs Folder…, Ctrl+Shift+O).")
NO_SELECTION = "Select runs in the table above (Ctrl/Shift for several) to overlay their curves."


def choose_columns(rows: list[dict]) -> list[tuple[str, str]]:
    """(key, header) pairs for the keys the rows really have, known ones first."""
    present: list[str] = []
    for r in rows:
        for k in r:
            if k not in present:
                present.append(k)
    cols, used = [], set()
    for keys, header in COLUMNS:
        for k in keys:
            if k in present:
                cols.append((k, header))
                used.add(k)
                break
    cols += [(k, k.replace("_", " ")) for k in present if k not in used and k not in HIDDEN]
    return cols


class ExperimentsView(QWidget):
    """Table on top; below it the selected runs' curves and the Pareto scatter."""

    def __init__(self, state, parent=None):
        super().__init__(parent)
        self.state = state
        self.records: list = []
        self.rows: list[dict] = []
        self.last_error: str | None = None

        self.heading = QLabel("Experiments")
        self.heading.setObjectName("heading")
        self.where = QLabel("")
        self.where.setObjectName("muted")
        self.refresh_btn = QPushButton("Refresh")
        self.refresh_btn.setShortcut("F5")
        self.refresh_btn.setToolTip("Read the runs folder again (F5)")
        self.refresh_btn.clicked.connect(self.refresh)
        self.csv_btn = QPushButton("Export CSV…")
        self.csv_btn.clicked.connect(lambda: self.export("csv"))
        self.md_btn = QPushButton("Export Markdown…")
        self.md_btn.clicked.connect(lambda: self.export("md"))
        bar = QHBoxLayout()
        bar.addWidget(self.heading)
        bar.addWidget(self.where, 1)
        for b in (self.refresh_btn, self.csv_btn, self.md_btn):
            bar.addWidget(b)

        self.model = RunsTableModel(self)
        self.proxy = RunsSortProxy(self)
        self.proxy.setSourceModel(self.model)
        self.table = QTableView()
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(22)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.selectionModel().selectionChanged.connect(self._selection_changed)

        self.curves = RunCurvesPlot()
        self.pareto = ParetoPlot()
        self.pareto.run_clicked.connect(self.select_runs)
        self.hint = QLabel("Select runs in the table (Ctrl/Shift for several) to overlay their "
                           "curves; click a point in the scatter to find its run.")
        self.hint.setObjectName("muted")

        plots = QSplitter(Qt.Orientation.Horizontal)
        self.curves_box = EmptyState(self.curves, NO_SELECTION)
        plots.addWidget(self.curves_box)
        plots.addWidget(self.pareto)
        plots.setSizes([640, 420])
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.table)
        split.addWidget(plots)
        split.setSizes([240, 440])
        self.runs_box = EmptyState(split, NO_RUNS.format(root=state.runs_root))
        lay = QVBoxLayout(self)
        lay.addLayout(bar)
        lay.addWidget(self.runs_box, 1)
        lay.addWidget(self.hint)

        state.runs_root_changed.connect(lambda _p: self.refresh())
        state.run_finished.connect(lambda _d: self.refresh())
        self.refresh()

    # --- data ------------------------------------------------------------------------------
    def refresh(self) -> None:
        """Re-read every run under state.runs_root (keeps the selection by run folder)."""
        from core.runs import list_runs, runs_table

        keep = self.selected_keys()
        root = Path(self.state.runs_root)
        try:
            self.records = list_runs(root) if root.is_dir() else []
            self.rows = runs_table(self.records)
            self.last_error = None
        except Exception as exc:  # noqa: BLE001 - a broken runs folder must not break the tab
            self.records, self.rows = [], []
            self.last_error = str(exc)
        keys = [str(r.path) for r in self.records]
        self.model.set_rows(self.rows, keys, choose_columns(self.rows))
        self.table.resizeColumnsToContents()
        n = len(self.rows)
        self.where.setText(f"{n} run{'s' * (n != 1)} in {root}" + (
            f"  —  could not read: {self.last_error}" if self.last_error else ""))
        self.pareto.set_points(self._points())
        if self.rows:
            self.runs_box.show_content()
        else:
            self.runs_box.show_empty(NO_RUNS.format(root=root))
        self.hint.setVisible(bool(self.rows))  # selection help means nothing without runs
        self.select_runs(*[k for k in keep if k in keys])
        self._selection_changed()

    def _points(self) -> list[RunPoint]:
        """Scatter points from the same rows the table shows (GFLOPs, best mIoU)."""
        pts = []
        for rec, row in zip(self.records, self.rows):
            arch = row.get("arch") or "?"
            enc = row.get("encoder")
            pts.append(RunPoint(str(rec.path), row.get("run") or Path(rec.path).name,
                                f"{arch}" + (f" ({enc})" if enc else ""),
                                row.get("gflops"), row.get("best_miou")))
        return pts

    def record(self, key: str):
        return next((r for r in self.records if str(r.path) == key), None)

    # --- selection -------------------------------------------------------------------------
    def selected_keys(self) -> list[str]:
        rows = sorted({i.row() for i in self.table.selectionModel().selectedRows()})
        return [self.proxy.index(r, 0).data(KEY_ROLE) for r in rows]

    def select_runs(self, *keys: str) -> None:
        """Select the rows of these run folders (replacing the selection)."""
        sel = QItemSelection()
        first = None
        for r in range(self.proxy.rowCount()):
            if self.proxy.index(r, 0).data(KEY_ROLE) in keys:
                last_col = self.proxy.columnCount() - 1
                sel.select(self.proxy.index(r, 0), self.proxy.index(r, last_col))
                first = first if first is not None else self.proxy.index(r, 0)
        flags = QItemSelectionModel.SelectionFlag.ClearAndSelect
        self.table.selectionModel().select(sel, flags)
        if first is not None:
            self.table.scrollTo(first)

    def _selection_changed(self, *_args) -> None:
        keys = self.selected_keys()
        runs = []
        for k in keys:
            rec = self.record(k)
            if rec is not None:
                runs.append((Path(rec.path).name, list(rec.epochs or [])))
        self.curves.set_runs(runs)
        if runs:
            self.curves_box.show_content()
        else:
            self.curves_box.show_empty()
        self.pareto.highlight(keys, [self.curves.color(k) for k in range(len(keys))])

    # --- export ----------------------------------------------------------------------------
    def visible_rows(self) -> list[dict]:
        """The table's rows in the order shown (sorting applied)."""
        out = []
        for r in range(self.proxy.rowCount()):
            src = self.proxy.mapToSource(self.proxy.index(r, 0)).row()
            out.append(self.rows[src])
        return out

    def export(self, kind: str) -> str | None:
        """Ask for a file and write the table as CSV or Markdown (core's formatting)."""
        from core.runs import table_to_csv, table_to_markdown

        ext, title, filt = (("csv", "Export runs as CSV", "CSV files (*.csv)") if kind == "csv"
                            else ("md", "Export runs as Markdown", "Markdown files (*.md)"))
        start = str(Path(self.state.runs_root) / f"runs.{ext}")
        path, _ = QFileDialog.getSaveFileName(self, title, start, filt)
        if not path:
            return None
        if not path.lower().endswith(f".{ext}"):
            path += f".{ext}"
        rows = self.visible_rows()
        text = table_to_csv(rows) if kind == "csv" else table_to_markdown(rows)
        try:
            Path(path).write_text(text, encoding="utf-8")
        except OSError as exc:
            show_error(self, "Export failed", f"Could not write {path}: {exc.strerror or exc}")
            return None
        self.where.setText(f"Exported {len(rows)} runs to {path}")
        return path
