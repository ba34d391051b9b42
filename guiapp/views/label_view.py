"""The Label tab: fix masks by hand, starting from the model's prediction, most useful first.

Left: split, review order and the image list (edited images marked). Centre: tools and the
canvas. Right: class palette, model, and file actions. Moving to another image saves the
current one first; if that save fails the editor stays put with the edit in memory and says why.
The editing itself lives in guiapp.labeling (Qt) and core.labeling (masks, history, backups).
"""
from __future__ import annotations

import traceback
from collections import OrderedDict
from pathlib import Path

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (QComboBox, QFileDialog, QGroupBox, QHBoxLayout, QLabel, QPushButton, QSizePolicy,
                               QSplitter, QVBoxLayout, QWidget)

from core.labeling import backup
from core.labeling.session import LabelSession
from guiapp.labeling import shortcuts
from guiapp.labeling.canvas import LabelCanvas
from guiapp.labeling.editor import LabelEditor
from guiapp.labeling.image_list import EDITED, UNSAVED, ImageList
from guiapp.labeling.issue_review import IssueOverlay, IssueReviewPanel
from guiapp.labeling.model_picker import ModelPicker
from guiapp.labeling.model_runner import ModelRunner
from guiapp.labeling.palette import ClassPalette
from guiapp.labeling.segment_assistant import SegmentAssistant, segment_model_choices
from guiapp.labeling.tool_bar import LabelToolBar
from guiapp.widgets.error_dialog import show_error

SESSION_CACHE = 6  # images whose undo history survives walking away and back


class LabelView(QWidget):
    def __init__(self, state, parent=None):
        super().__init__(parent)
        self.state = state
        self.source = None
        self.samples: dict[str, object] = {}
        self._sessions: OrderedDict[str, LabelSession] = OrderedDict()
        self.last_error: str | None = None
        self.segment_assistant = SegmentAssistant(parent=self)  # the Segment tool's model
        self.editor = LabelEditor(self, self.segment_assistant)
        self.runner = ModelRunner(self)
        self._build()
        self.shortcuts = shortcuts.install(self)
        self._connect()
        self.picker.refresh(state.runs_root)
        self.set_source(state.source)

    # --- layout ------------------------------------------------------------------------------
    def _build(self) -> None:
        self.split_combo = QComboBox()
        self.review = IssueReviewPanel(self.runner)  # a ReviewPanel plus "likely label errors"
        self.image_list = ImageList()
        left = QWidget()
        lv = QVBoxLayout(left)
        lv.setContentsMargins(4, 4, 4, 4)
        row = QHBoxLayout()
        row.addWidget(QLabel("Split"))
        row.addWidget(self.split_combo, 1)
        lv.addLayout(row)
        lv.addWidget(self.review)
        lv.addWidget(self.image_list, 1)

        self.canvas = LabelCanvas(self.editor)
        self.tool_bar = LabelToolBar(self.editor, self.canvas)
        self.issue_overlay = IssueOverlay(self.canvas, self.editor, self.review, self)
        self.status = QLabel(" ")
        self.note = QLabel("")  # messages that must not be overwritten by the hover readout
        self.note.setStyleSheet("color: #9a5b00;")
        self.note.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self._note_timer = QTimer(self)
        self._note_timer.setSingleShot(True)
        self._note_timer.timeout.connect(lambda: self.note.setText(""))
        for label in (self.status, self.note):  # long texts are cut, never widen the window
            label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
            label.setMinimumWidth(0)
        status_row = QHBoxLayout()
        status_row.addWidget(self.status, 2)
        status_row.addWidget(self.note, 1)
        centre = QWidget()
        cv = QVBoxLayout(centre)
        cv.setContentsMargins(0, 0, 0, 0)
        cv.setSpacing(2)
        cv.addWidget(self.tool_bar)
        cv.addWidget(self.canvas, 1)
        cv.addLayout(status_row)

        self.palette = ClassPalette(self.editor)
        self.picker = ModelPicker()
        self.predict_button = QPushButton("Predict")
        self.predict_button.setToolTip("Run the model on this image (show it with Shift+M)")
        self.prelabel_button = QPushButton("Pre-label")
        self.prelabel_button.setToolTip("Replace this mask by the model's prediction (undoable)")
        self.segment_model = QComboBox()
        self.segment_model.setToolTip("The model the Segment tool (S) asks: weights from the Hugging Face "
                                      "cache (downloaded on first use when online) or a folder")
        for text, name in segment_model_choices():
            self.segment_model.addItem(text, name)
        self.segment_model.addItem("Folder…", "")
        self.segment_model.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        # as narrow as the panel already is: long model names must not widen it
        self.segment_model.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.segment_model.setMinimumContentsLength(6)
        self.model_status = QLabel("")
        self.model_status.setWordWrap(True)
        self.model_status.setStyleSheet("color: #5b6670;")
        model_box = QGroupBox("Model")
        mv = QVBoxLayout(model_box)
        mv.addWidget(self.picker)
        row = QHBoxLayout()
        row.addWidget(self.predict_button)
        row.addWidget(self.prelabel_button)
        mv.addLayout(row)
        mv.addWidget(self.review.open_button)
        row = QHBoxLayout()
        row.addWidget(QLabel("Segment"))
        row.addWidget(self.segment_model, 1)
        mv.addLayout(row)
        mv.addWidget(self.model_status)
        self.save_button = QPushButton("Save (Ctrl+S)")
        self.undo_button = QPushButton("Undo")
        self.redo_button = QPushButton("Redo")
        self.restore_button = QPushButton("Restore original")
        self.restore_button.setToolTip("Put back the mask as it was before it was first edited "
                                       "here (kept in <dataset>/.roadseg-backup)")
        file_box = QGroupBox("Mask")
        fv = QVBoxLayout(file_box)
        fv.addWidget(self.save_button)
        row = QHBoxLayout()
        row.addWidget(self.undo_button)
        row.addWidget(self.redo_button)
        fv.addLayout(row)
        fv.addWidget(self.restore_button)
        right = QWidget()
        rv = QVBoxLayout(right)
        rv.setContentsMargins(4, 4, 4, 4)
        rv.addWidget(self.palette, 1)
        rv.addWidget(model_box)
        rv.addWidget(file_box)
        for w in (self.predict_button, self.prelabel_button, self.review.open_button, self.save_button,
                  self.undo_button, self.redo_button, self.restore_button):
            w.setFocusPolicy(Qt.FocusPolicy.NoFocus)

        splitter = QSplitter()
        splitter.addWidget(left)
        splitter.addWidget(centre)
        splitter.addWidget(right)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([270, 900, 230])
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(splitter)

    def _connect(self) -> None:
        st, ed = self.state, self.editor
        st.dataset_changed.connect(self.set_source)
        st.runs_root_changed.connect(self.picker.refresh)
        st.run_finished.connect(lambda _d: self.picker.refresh(None))
        self.split_combo.currentTextChanged.connect(self._split_changed)
        self.image_list.picked.connect(self.open_image)
        self.review.order_changed.connect(self._show_order)
        self.review.message.connect(self._note)
        self.review.prev_clicked.connect(self.previous_image)
        self.review.next_clicked.connect(self.next_image)
        self.review.set_current_masks(self._unsaved_masks)
        self.picker.changed.connect(self._model_changed)
        self.runner.busy.connect(self._model_busy)
        self.runner.failed.connect(lambda m, d: self._error("Model", m, d))
        self.predict_button.clicked.connect(self.predict)
        self.prelabel_button.clicked.connect(self.prelabel)
        self.save_button.clicked.connect(self.save)
        self.undo_button.clicked.connect(ed.undo)
        self.redo_button.clicked.connect(ed.redo)
        self.restore_button.clicked.connect(ed.restore_original)
        ed.state_changed.connect(self._update_state)
        ed.message.connect(self._note)
        ed.save_failed.connect(lambda m, d: self._error("Save failed", m, d))
        ed.saved.connect(self._refresh_mark)
        self.canvas.hovered.connect(self._hover)
        self.segment_assistant.status.connect(self._note)
        self.segment_model.activated.connect(self._segment_model_chosen)

    # --- dataset and images --------------------------------------------------------------------
    def set_source(self, source) -> None:
        """A new dataset (AppState.dataset_changed): save the open mask, then start over."""
        if self.editor.session is not None and not self.editor.save():
            return
        self.review.cancel()
        self.source = source
        self._sessions.clear()
        self.editor.set_session(None)
        self.split_combo.blockSignals(True)
        self.split_combo.clear()
        if source is not None:
            self.split_combo.addItems(source.splits)
            self.palette.set_schema(source.schema)
        self.split_combo.blockSignals(False)
        self._split_changed(self.split_combo.currentText())

    def _split_changed(self, split: str) -> None:
        if self.editor.session is not None and not self.editor.save():
            return
        samples = self.source.samples(split) if (self.source is not None and split) else []
        self.samples = {s.name: s for s in samples}
        self.review.set_samples(self.source, samples)
        if samples:
            self.open_image(samples[0].name)

    def _marks(self) -> dict[str, str]:
        if self.source is None:
            return {}
        edited = {p.resolve() for p in backup.edited_masks(self.source.root)}
        marks = {n: EDITED for n, s in self.samples.items()
                 if s.mask is not None and Path(s.mask).resolve() in edited}
        for name, sess in self._sessions.items():
            if sess.dirty:
                marks[name] = UNSAVED
        return marks

    def _show_order(self, names: list[str], scores) -> None:
        self.image_list.set_score_title(*self.review.score_title())
        self.image_list.set_names(names, scores, self._marks(), self.review.score_tips())
        if self.editor.session is not None:
            self.image_list.set_current(self.editor.session.name)

    def _refresh_mark(self, name: str) -> None:
        sess = self._sessions.get(name)
        sample = self.samples.get(name)
        mark = ""
        if sess is not None and sess.dirty:
            mark = UNSAVED
        elif sample is not None and sample.mask is not None and self.source is not None \
                and backup.has_backup(self.source.root, sample.mask):
            mark = EDITED
        self.image_list.set_mark(name, mark)

    def _unsaved_masks(self) -> dict:
        return {n: s.mask.copy() for n, s in self._sessions.items() if s.dirty}

    def current_name(self) -> str | None:
        return self.editor.session.name if self.editor.session is not None else None

    def open_image(self, name: str) -> bool:
        """Show image `name`, saving the current one first; False if we had to stay."""
        current = self.current_name()
        if name == current:
            return True
        if self.editor.session is not None and not self.editor.save():
            self.image_list.set_current(current)
            return False
        session = self._sessions.get(name)
        if session is None:
            try:
                session = LabelSession(self.source, self.samples[name])
            except Exception as exc:  # noqa: BLE001 - a bad file must not break the editor
                self._error("Cannot open image", str(exc), traceback.format_exc())
                if current is not None:
                    self.image_list.set_current(current)
                return False
            self._sessions[name] = session
            while len(self._sessions) > SESSION_CACHE:
                old, sess = self._sessions.popitem(last=False)
                if sess.dirty:  # never drop an unsaved edit: keep it, drop another
                    self._sessions[old] = sess
                    break
        self._sessions.move_to_end(name)
        self.editor.set_session(session)
        self.segment_assistant.set_image(name, session.image, self._upcoming(name))
        self.image_list.set_current(name)
        if session.prediction is None:
            hit = self.runner.cached(name)
            if hit is not None:
                self.editor.set_prediction(name, hit)
            elif self.runner.has_model:
                self.predict()
        return True

    def _upcoming(self, name: str):
        """(name, loader) of the image after `name` in the list, for the Segment tool to embed."""
        after = self.image_list.neighbour(name, +1)
        sample = self.samples.get(after) if after is not None else None
        if sample is None:
            return None
        source = self.source
        return after, lambda: source.read_image(sample)

    def _segment_model_chosen(self, index: int) -> None:
        name = self.segment_model.itemData(index)
        if not name:  # "Folder…": a transformers save_pretrained folder
            folder = QFileDialog.getExistingDirectory(self, "Segment model folder (config.json + model.safetensors)")
            if not folder:
                self.segment_model.setCurrentIndex(self.segment_model.findData(self.segment_assistant.model_name))
                return
            self.segment_model.insertItem(index, Path(folder).name, folder)
            self.segment_model.setCurrentIndex(index)
            name = folder
        self.segment_assistant.set_model(name)

    def next_image(self) -> bool:
        name = self.image_list.neighbour(self.current_name(), +1)
        return name is not None and self.open_image(name)

    def previous_image(self) -> bool:
        name = self.image_list.neighbour(self.current_name(), -1)
        return name is not None and self.open_image(name)

    # --- model -------------------------------------------------------------------------------
    def _model_changed(self, path: str) -> None:
        self.runner.set_checkpoint(path or None)
        s = self.editor.session
        if s is not None:
            s.prediction = None
            self.editor.prediction_changed.emit()
            if path:
                self.predict()
        self.model_status.setText(f"{Path(path).name} — loads on first use" if path else "")

    def _model_busy(self, busy: bool, what: str) -> None:
        self.model_status.setText(what if busy else (self.picker.combo.currentText()
                                                    if self.runner.has_model else ""))

    def predict(self, then=None) -> None:
        """Run the model on the open image in the background; `then()` after it is attached."""
        s = self.editor.session
        if s is None:
            return
        if not self.runner.has_model:
            self._note("Choose a model first: a run from the list or a checkpoint file (…)")
            return

        def attach(name, prediction):
            self.editor.set_prediction(name, prediction)
            if then is not None and self.current_name() == name:
                then()

        self.runner.predict(self.source, s.sample, attach)

    def prelabel(self) -> None:
        """Start this image from the model's prediction (one undoable step)."""
        s = self.editor.session
        if s is not None and s.prediction is not None:
            self.editor.prelabel()
        else:
            self.predict(then=self.editor.prelabel)

    def find_label_errors(self, checkpoint: str, split: str) -> None:
        """Use `checkpoint` on `split`, ordered by likely label errors (scored in the background)."""
        if self.split_combo.findText(split) >= 0:
            self.split_combo.setCurrentText(split)
        self.picker.set_path(checkpoint)
        self.review.show_issues()

    # --- actions and feedback ------------------------------------------------------------------
    def save(self) -> bool:
        return self.editor.save()

    def _update_state(self) -> None:
        s = self.editor.session
        self.save_button.setEnabled(s is not None and s.dirty)
        self.undo_button.setEnabled(s is not None and s.history.can_undo)
        self.redo_button.setEnabled(s is not None and s.history.can_redo)
        self.restore_button.setEnabled(s is not None and s.has_backup)
        if s is not None:
            self.undo_button.setToolTip(f"Undo {s.history.undo_label or ''} (Ctrl+Z)")
            self.redo_button.setToolTip(f"Redo {s.history.redo_label or ''} (Ctrl+Shift+Z)")
            self._refresh_mark(s.name)
        self._hover(-1, -1)

    def _hover(self, x: int, y: int) -> None:
        s = self.editor.session
        if s is None:
            self.status.setText("No dataset — File ▸ Open Dataset…" if self.source is None
                                else "No image")
            return
        schema = s.source.schema
        parts = [f"{s.name}  {s.shape[1]}×{s.shape[0]}"]
        if x >= 0:
            def cls(v):
                return schema.void_name if v == 255 else schema.names[v]
            region = self.issue_overlay.region_at(x, y)
            if region is None:
                parts.append(f"x {x}, y {y}: {cls(int(s.mask[y, x]))}")
            else:  # the region in place of the pixel's class (its given one), early: the line is cut
                given, suggested = region.class_names(schema.names, schema.void_name)  # at the note
                chance = f", p {region.probability:.2f}" if region.probability is not None else ""
                parts.append(f"x {x}, y {y}: label error? {given} → {suggested}, {region.pixels} px{chance} "
                             "(keys A, R)")
            if s.prediction is not None:
                parts.append(f"model: {cls(int(s.prediction.mask[y, x]))}")
        parts.append("unsaved changes" if s.dirty else "saved")
        parts.append(f"{len(s.history)} undo steps")
        self.status.setText("   ·   ".join(parts))

    def _note(self, text: str) -> None:
        self.note.setText(text)
        self.note.setToolTip(text)
        self._note_timer.start(8000)

    def _error(self, title: str, message: str, details: str = "") -> None:
        self.last_error = message
        show_error(self, title, message, details)

    def shutdown(self) -> None:
        """Window closing: save the open mask (MainWindow cannot be stopped from closing, so a
        failure here is shown but the edit is then lost)."""
        self.review.cancel()
        self.runner.shutdown()
        self.segment_assistant.shutdown()
        if self.editor.session is not None:
            self.editor.save()
