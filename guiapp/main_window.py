"""The main window: five tabs in workflow order (Dataset | Train | Experiments | Evaluate | Label),
a File menu, keyboard shortcuts, and QSettings for geometry and last folders.

Views are built from one table and imported in one place (`_build_view`): a view that fails to
import or build (a missing optional dependency, a bug in one view) becomes a placeholder tab that
says why, instead of taking the whole window down.
"""
from __future__ import annotations

import importlib
import traceback
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (QApplication, QFileDialog, QLabel, QMainWindow, QMessageBox,
                               QTabWidget, QWidget)

from guiapp.app_icon import app_icon
from guiapp.widgets.error_dialog import show_error

# (tab title, module, class) in workflow order; Ctrl+1..5 follow this order.
VIEWS = (
    ("Dataset", "guiapp.views.dataset_view", "DatasetView"),
    ("Train", "guiapp.views.train_view", "TrainView"),
    ("Experiments", "guiapp.views.experiments_view", "ExperimentsView"),
    ("Evaluate", "guiapp.views.evaluate_view", "EvaluateView"),
    ("Label", "guiapp.views.label_view", "LabelView"),
)


def _build_view(module: str, cls: str, state) -> QWidget:
    """Import and build one view; a placeholder explaining the failure if that is impossible."""
    try:
        return getattr(importlib.import_module(module), cls)(state)
    except Exception as exc:  # noqa: BLE001 - a missing tab must not stop the others
        label = QLabel(f"<h3>{cls} is not available</h3><pre>{exc}</pre>"
                       f"<pre style='color:#5b6670'>{traceback.format_exc(limit=3)}</pre>")
        label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        label.setProperty("view_error", str(exc))
        return label


class MainWindow(QMainWindow):
    """Holds the views and the application-level actions (open dataset, open runs folder)."""

    def __init__(self, state, parent=None):
        super().__init__(parent)
        self.state = state
        self.setWindowTitle("roadseg — road-scene segmentation workbench")
        self.setWindowIcon(app_icon())
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.views: dict[str, QWidget] = {}
        for i, (title, module, cls) in enumerate(VIEWS):
            view = _build_view(module, cls, state)
            self.views[title] = view
            self.tabs.addTab(view, title)
            self.tabs.setTabToolTip(i, f"{title} (Ctrl+{i + 1})")
        self.setCentralWidget(self.tabs)
        self._build_menus()
        self.dataset_label = QLabel("")
        self.runs_label = QLabel("")
        self.statusBar().addWidget(self.dataset_label, 1)
        self.statusBar().addPermanentWidget(self.runs_label)
        state.dataset_changed.connect(self._show_dataset)
        state.runs_root_changed.connect(self._show_runs_root)
        state.run_finished.connect(lambda d: self.statusBar().showMessage(f"Run finished: {d}", 8000))
        if hasattr(self.views.get("Evaluate"), "label_errors_requested"):
            self.views["Evaluate"].label_errors_requested.connect(self.find_label_errors)
        self._show_dataset(state.source)
        self._show_runs_root(str(state.runs_root))
        self._restore_geometry()

    # --- menus and shortcuts ---------------------------------------------------------------
    def _action(self, menu, text: str, slot, shortcut=None, tip: str = "") -> QAction:
        act = QAction(text, self)
        if shortcut:
            act.setShortcut(QKeySequence(shortcut))
        act.setStatusTip(tip)
        act.triggered.connect(slot)
        menu.addAction(act)
        return act

    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        self._action(file_menu, "&Open Dataset…", self.choose_dataset, QKeySequence.StandardKey.Open,
                     "Open a CamVid, Cityscapes or image/mask folder")
        self._action(file_menu, "Open &Demo Dataset", lambda: self.open_demo(),
                     tip="The built-in synthetic road scenes")
        self._action(file_menu, "Open &Runs Folder…", self.choose_runs_root, "Ctrl+Shift+O",
                     "Where training runs are written and read")
        from guiapp.widgets.label_io_dialog import open_label_io
        self._action(file_menu, "&Import Labels…", lambda: open_label_io(self, "import"),
                     tip="labelme, COCO or VOC / CVAT labels into a new folder dataset")
        self._action(file_menu, "&Export Labels…", lambda: open_label_io(self, "export"),
                     tip="The open dataset's labels as VOC / CVAT, COCO or Cityscapes")
        file_menu.addSeparator()
        self._action(file_menu, "&Quit", self.close, "Ctrl+Q")
        view_menu = self.menuBar().addMenu("&View")
        for i, (title, _m, _c) in enumerate(VIEWS):
            self._action(view_menu, title, lambda _=False, i=i: self.tabs.setCurrentIndex(i),
                         f"Ctrl+{i + 1}")
        help_menu = self.menuBar().addMenu("&Help")
        self._action(help_menu, "&About roadseg", self._about)

    def _about(self) -> None:
        QMessageBox.about(self, "About roadseg",
                          "<b>roadseg</b> — train, compare, inspect and relabel road-scene "
                          "segmentation models.<br><br>mIoU: one confusion matrix over the whole "
                          "split, mean IoU over classes present in ground truth or prediction.")

    # --- datasets and runs -----------------------------------------------------------------
    def choose_dataset(self) -> None:
        start = self.state.settings.value("paths/last_dataset", str(Path.home()), type=str)
        folder = QFileDialog.getExistingDirectory(self, "Open dataset folder", start)
        if folder:
            self.open_dataset(folder)

    def open_dataset(self, folder: str | Path, fmt: str = "auto") -> bool:
        """Open `folder` with core.data.source.open_dataset; errors go to a dialog."""
        from core.data.source import open_dataset

        QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            source = open_dataset(folder, fmt)
        except Exception as exc:  # noqa: BLE001 - bad input must never close the window
            QApplication.restoreOverrideCursor()
            show_error(self, "Cannot open dataset", str(exc), traceback.format_exc())
            return False
        QApplication.restoreOverrideCursor()
        self.state.set_source(source)
        return True

    def open_demo(self, folder=None, count: int | None = None, size=None) -> bool:
        """Open the synthetic demo set, generating it first when needed (injectable for tests)."""
        from guiapp import demo

        try:
            path = demo.ensure_demo(self, folder, count or demo.DEMO_COUNT, size or demo.DEMO_SIZE)
        except Exception as exc:  # noqa: BLE001
            show_error(self, "Demo dataset", str(exc), traceback.format_exc())
            return False
        return path is not None and self.open_dataset(path)

    def find_label_errors(self, checkpoint: str, source, split: str) -> None:
        """Evaluate's "Find likely label errors": the Label tab on that data, model and split."""
        label = self.views.get("Label")
        if not hasattr(label, "find_label_errors"):
            return
        if source is not self.state.source:
            self.state.set_source(source)
        self.tabs.setCurrentWidget(label)
        label.find_label_errors(checkpoint, split)

    def choose_runs_root(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Open runs folder", str(self.state.runs_root))
        if folder:
            self.state.set_runs_root(folder)

    def _show_dataset(self, source) -> None:
        if source is None:
            self.dataset_label.setText("No dataset — File ▸ Open Dataset… (Ctrl+O)")
            return
        counts = " · ".join(f"{s} {len(source.samples(s))}" for s in source.splits)
        self.dataset_label.setText(f"{source.root}  [{source.format}, {source.schema.name}]  {counts}")

    def _show_runs_root(self, path: str) -> None:
        self.runs_label.setText(f"Runs: {path}")

    # --- persistence and shutdown ------------------------------------------------------------
    def _restore_geometry(self) -> None:
        geo = self.state.settings.value("window/geometry")
        if geo is None or not self.restoreGeometry(geo):
            self.resize(1400, 880)
        tab = self.state.settings.value("window/tab", 0, type=int)
        if 0 <= tab < self.tabs.count():
            self.tabs.setCurrentIndex(tab)

    def closeEvent(self, event) -> None:
        from guiapp.workers.background import wait_all

        train = self.views.get("Train")
        if callable(getattr(train, "is_running", None)) and train.is_running():
            answer = QMessageBox.question(
                self, "Training in progress",
                "A run is still training. Stop it (its last.pt is kept, so it can be resumed) "
                "and quit?")
            if answer != QMessageBox.StandardButton.Yes:
                event.ignore()
                return
        self.state.settings.setValue("window/geometry", self.saveGeometry())
        self.state.settings.setValue("window/tab", self.tabs.currentIndex())
        self.state.settings.sync()
        for view in self.views.values():
            shutdown = getattr(view, "shutdown", None)
            if callable(shutdown):
                shutdown()
        wait_all()
        super().closeEvent(event)
