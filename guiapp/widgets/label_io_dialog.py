"""File ▸ Import Labels… / Export Labels…: pick a format and paths, and let core.labelformats do
the work (the same calls as `roadseg convert`).

The conversion runs off the UI thread (guiapp.workers.background) with a progress bar; a failure
goes to the app's error dialog and leaves nothing half-written (core stages its output). After an
import the dialog emits `imported(folder)`, and the main window opens that dataset when "Open the
new dataset" is ticked.
"""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDialog, QDialogButtonBox, QFileDialog,
                               QFormLayout, QHBoxLayout, QLabel, QLineEdit, QProgressBar,
                               QPushButton, QVBoxLayout, QWidget)

from guiapp.widgets.error_dialog import show_error

IMPORT_CHOICES = (("labelme", "labelme JSON (folder of .json files)"),
                  ("coco", "COCO segmentation JSON (polygons, RLE)"),
                  ("voc", "Pascal VOC / CVAT segmentation masks (labelmap.txt)"))
EXPORT_CHOICES = (("voc", "Pascal VOC / CVAT (palette PNG + labelmap.txt)"),
                  ("coco", "COCO JSON with RLE masks"),
                  ("cityscapes", "Cityscapes gtFine labelIds"),
                  ("folder", "roadseg folder (images/ + masks/)"))
CLASS_CHOICES = (("camvid", "CamVid-11"), ("cityscapes", "Cityscapes-19"),
                 ("from-labels", "From the label names found (writes classes.yaml)"),
                 ("file", "From a file: classes.yaml, labelme labels.txt, CVAT labelmap.txt…"))
ALL_SPLITS = "All splits"


def _path_row(edit: QLineEdit, browse) -> QWidget:
    row = QWidget()
    lay = QHBoxLayout(row)
    lay.setContentsMargins(0, 0, 0, 0)
    lay.addWidget(edit, 1)
    button = QPushButton("Browse…")
    button.clicked.connect(browse)
    lay.addWidget(button)
    return row


class LabelIODialog(QDialog):
    """mode "import": labels from other tools -> a folder dataset; mode "export": the open
    dataset `source` -> another format."""

    imported = Signal(str)
    exported = Signal(str)

    def __init__(self, mode: str, source=None, parent=None, open_after: bool = True):
        super().__init__(parent)
        if mode not in ("import", "export"):
            raise ValueError(f"mode must be import or export, not {mode!r}")
        self.mode, self.source, self.task = mode, source, None
        self.report = None  # the last import's ImportReport (clipped / skipped shapes)
        self.result_path: Path | None = None
        self.setWindowTitle("Import labels" if mode == "import" else "Export labels")
        form = QFormLayout()
        self.format_combo = QComboBox()
        for key, text in IMPORT_CHOICES if mode == "import" else EXPORT_CHOICES:
            self.format_combo.addItem(text, key)
        form.addRow("Format", self.format_combo)
        self.input_edit = QLineEdit()
        self.classes_combo = QComboBox()
        self.classes_edit = QLineEdit()
        self.split_edit = QLineEdit("train")
        self.split_combo = QComboBox()
        self.open_check = QCheckBox("Open the new dataset when done")
        if mode == "import":
            self.input_edit.setPlaceholderText("labelme folder, COCO .json, or VOC / CVAT export folder")
            form.addRow("Input", _path_row(self.input_edit, self._browse_input))
            for key, text in CLASS_CHOICES:
                self.classes_combo.addItem(text, key)
            self.classes_edit.setPlaceholderText("classes.yaml, labels.txt or labelmap.txt")
            self.classes_edit.setEnabled(False)
            self.classes_combo.currentIndexChanged.connect(self._classes_changed)
            form.addRow("Classes", self.classes_combo)
            form.addRow("", _path_row(self.classes_edit, self._browse_classes))
            self.split_edit.setToolTip("Split the images go into when the input names none")
            form.addRow("Split", self.split_edit)
        else:
            form.addRow("Dataset", QLabel(str(source.root) if source is not None else "(none open)"))
            self.split_combo.addItem(ALL_SPLITS)
            self.split_combo.addItems(source.splits if source is not None else [])
            form.addRow("Split", self.split_combo)
        self.out_edit = QLineEdit()
        self.out_edit.setPlaceholderText("new folder dataset (or an existing one to add a split to)"
                                         if mode == "import" else "new or empty folder")
        form.addRow("Output folder", _path_row(self.out_edit, self._browse_out))
        self.progress = QProgressBar()
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.status = QLabel("Saved masks are exported, hand corrections included: save open edits "
                             "in the Label view first." if mode == "export" else
                             "Label names are matched to the classes by name, ignoring case.")
        self.status.setWordWrap(True)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.run_button = self.buttons.addButton("Import" if mode == "import" else "Export",
                                                 QDialogButtonBox.ButtonRole.ActionRole)
        self.run_button.clicked.connect(self.start)
        self.buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addLayout(form)
        if mode == "import":
            self.open_check.setChecked(open_after)
            lay.addWidget(self.open_check)
        lay.addWidget(self.progress)
        lay.addWidget(self.status)
        lay.addWidget(self.buttons)
        self.resize(560, self.sizeHint().height())

    # --- choices -----------------------------------------------------------------------------
    def fmt(self) -> str:
        return self.format_combo.currentData()

    def _classes_changed(self) -> None:
        self.classes_edit.setEnabled(self.classes_combo.currentData() == "file")

    def classes(self) -> str:
        key = self.classes_combo.currentData()
        return self.classes_edit.text().strip() if key == "file" else key

    def split(self) -> str | None:
        if self.mode == "import":
            return self.split_edit.text().strip() or "train"
        text = self.split_combo.currentText()
        return None if text == ALL_SPLITS else text

    def _browse_input(self) -> None:
        if self.fmt() == "coco":
            path, _ = QFileDialog.getOpenFileName(self, "COCO annotation file", "", "JSON (*.json)")
        else:
            path = QFileDialog.getExistingDirectory(self, "Folder with the labels")
        if path:
            self.input_edit.setText(path)

    def _browse_classes(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Class schema", "",
                                              "Class lists (*.yaml *.yml *.txt);;All files (*)")
        if path:
            self.classes_edit.setText(path)

    def _browse_out(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Output folder")
        if path:
            self.out_edit.setText(path)

    # --- running -----------------------------------------------------------------------------
    def _job(self):
        """The core call to run, with the choices of this moment; None after showing why not."""
        from core.labelformats import export_labels, import_labels

        out, fmt, split = self.out_edit.text().strip(), self.fmt(), self.split()
        if self.mode == "export":
            if self.source is None:
                show_error(self, "Export labels", "Open a dataset first (File ▸ Open Dataset…).")
                return None
            if not out:
                show_error(self, "Export labels", "Choose an output folder.")
                return None
            source = self.source
            return lambda progress, cancelled: export_labels(source, fmt, out, split, progress, cancelled)
        src, classes = self.input_edit.text().strip(), self.classes()
        if not src or not out:
            show_error(self, "Import labels", "Choose the labels to import and an output folder.")
            return None
        if not classes:
            show_error(self, "Import labels", "Choose a classes file (classes.yaml, labels.txt, "
                       "labelmap.txt), or CamVid-11 / Cityscapes-19 / the label names found.")
            return None
        from core.labelformats.import_report import ImportReport

        report = self.report = ImportReport()
        return lambda progress, cancelled: import_labels(fmt, src, out, classes, split, None,
                                                         progress, cancelled, report)

    def start(self) -> bool:
        """Start the conversion in the background; False when the form is incomplete."""
        from guiapp.workers.background import run_in_background

        job = self._job()
        if job is None:
            return False
        self.run_button.setEnabled(False)
        self.progress.setRange(0, 0)  # busy until the first image is done
        self.status.setText("Reading the labels…" if self.mode == "import" else "Writing…")
        self.task = run_in_background(job, self._done, self._failed, self._progress)
        return True

    def is_running(self) -> bool:
        return self.task is not None and not self.task.is_finished

    def _progress(self, done: int, total: int) -> None:
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(done)
        self.status.setText(f"{done} of {total} images")

    def _done(self, path) -> None:
        self.run_button.setEnabled(True)
        self.progress.setRange(0, 1)
        self.progress.setValue(1 if path is not None else 0)
        if path is None:
            self.status.setText("Cancelled; nothing was written.")
            return
        self.result_path = Path(path)
        if self.mode == "import" and self.report is not None:
            self.status.setText(f"Done: {path}\n{self.report.summary()}")
        else:
            self.status.setText(f"Done: {path}")
        if self.mode == "import":
            self.imported.emit(str(path))
            if self.open_check.isChecked():
                self.accept()
        else:
            self.exported.emit(str(path))

    def _failed(self, message: str, details: str) -> None:
        self.run_button.setEnabled(True)
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.status.setText("Failed; nothing was written.")
        show_error(self, "Import failed" if self.mode == "import" else "Export failed", message, details)

    def reject(self) -> None:
        if self.task is not None and not self.task.is_finished:
            self.task.cancel()
        super().reject()


def open_label_io(window, mode: str) -> LabelIODialog | None:
    """Show the dialog over the main window; an import's folder opens as the current dataset."""
    source = getattr(window.state, "source", None)
    if mode == "export" and source is None:
        show_error(window, "Export labels", "Open a dataset first (File ▸ Open Dataset…).")
        return None
    dialog = LabelIODialog(mode, source, window)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)

    def imported(path: str) -> None:
        if dialog.open_check.isChecked():
            window.open_dataset(path)

    dialog.imported.connect(imported)
    dialog.open()
    return dialog
