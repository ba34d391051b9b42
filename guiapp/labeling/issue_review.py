"""The "likely label errors" order of the Label view, and the outline of suspect regions on the
canvas with the keys that act on them (accept the model's class, or mark reviewed).

The scoring is core.labeling.label_issues, run in the review panel's background worker with its
progress bar and Stop; regions a person marked reviewed are kept in the dataset's sidecar
(core.labeling.reviewed_issues) and left out of the next scoring.
"""
from __future__ import annotations

import threading

import cv2
import numpy as np
from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QPainterPath, QPen
from PySide6.QtWidgets import QFileDialog, QHBoxLayout, QLabel, QPushButton, QSlider, QWidget

from core.errors import RoadsegError
from core.evaluate import Prediction
from core.labeling.issue_regions import accept_region, region_at
from core.labeling.issue_options import IMAGE_SCORES, IssueOptions
from core.labeling.label_issues import IssueReport, score_label_issues, trained_on
from core.labeling.reviewed_issues import ReviewedIssues
from guiapp.labeling.outline_items import OutlinePathItem
from guiapp.labeling.review_queue import ReviewPanel

ISSUES = "issues"


class IssueReviewPanel(ReviewPanel):
    """ReviewPanel plus the "likely label errors" order. Signal issues_changed() when the
    report, or a region in it, changes."""

    issues_changed = Signal()

    def __init__(self, runner, parent=None):
        super().__init__(runner, parent)
        self.report = None  # core IssueReport of the last finished scoring
        self._report_model = None  # the checkpoint that scored it, or the report file it came from
        self._from_file = False  # an opened report stays until Rank scores the split again
        self.reviewed: ReviewedIssues | None = None
        self.options = IssueOptions()
        self.mode.addItem("Label errors first", ISSUES)  # as wide as the others: the canvas keeps its size
        self.mode.setToolTip(self.mode.toolTip() + "\nLabel errors first: images ranked by "
                             f"{IMAGE_SCORES[self.options.method]}. Outlined: regions whose label is "
                             "probably wrong (magenta) and objects nobody labelled (cyan), from the "
                             "probability the slider sets; J steps through them, A accepts the "
                             "model's class, R marks a region reviewed.")
        # placed by the view (beside the model that scores): the order column keeps its width
        self.open_button = QPushButton("Load report…")
        self.open_button.setToolTip("Open a report written by `roadseg label-issues --json` as the "
                                    "label-errors order (e.g. scored with --folds, so every image by a "
                                    "model that never trained on it)")
        self.open_button.clicked.connect(self._choose_report)
        # under the order, while label errors are shown: classes whose wrong labels are hard to find
        self.weak_label = QLabel("")
        self.weak_label.setWordWrap(True)
        self.weak_label.setStyleSheet("color: #9a5b00;")
        self.weak_label.setVisible(False)
        self.layout().addWidget(self.weak_label, 3, 0, 1, 3)
        # with learned region scores: outline only the regions at least this probable
        self.threshold = self.options.region_threshold
        self.threshold_slider = QSlider(Qt.Orientation.Horizontal)
        self.threshold_slider.setRange(5, 95)
        self.threshold_slider.setSingleStep(5)
        self.threshold_slider.setValue(round(self.threshold * 100))
        self.threshold_label = QLabel("")
        tip = ("Outline the regions the learned scorer gives at least this probability of being a "
               "label error. Higher: fewer outlines, more of them real mistakes; the default was "
               "chosen on planted errors (docs/label-errors.md)")
        self.threshold_slider.setToolTip(tip)
        self.threshold_label.setToolTip(tip)
        self.threshold_row = QWidget()
        row = QHBoxLayout(self.threshold_row)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.threshold_label)
        row.addWidget(self.threshold_slider, 1)
        self.threshold_row.setVisible(False)
        self.layout().addWidget(self.threshold_row, 4, 0, 1, 3)
        self.threshold_slider.valueChanged.connect(self._threshold_moved)
        self._threshold_moved(self.threshold_slider.value())

    @property
    def learned(self) -> bool:
        """The shown report ranks by learned region probabilities."""
        return self.report is not None and any(it.learned is not None for it in self.report.images)

    def _threshold_moved(self, value: int) -> None:
        self.threshold = value / 100
        self.threshold_label.setText(f"Outline p ≥ {self.threshold:.2f}")
        if self.report is not None:
            self.issues_changed.emit()

    def _show_threshold(self) -> None:
        self.threshold_row.setVisible(self.mode_key == ISSUES and self.learned)

    def _show_weak_classes(self) -> None:
        """The report's weak classes (core's IssueReport.weak_classes) under the order."""
        weak, note = [], ""
        if self.mode_key == ISSUES and self.report is not None and self._source is not None:
            names = self._source.schema.names
            weak, note = self.report.weak_classes(names), self.report.weak_note(names)
        listed = ", ".join(f"{n} {v:.2f}" for n, v in weak)
        self.weak_label.setText(f"Hard to find (model IoU): {listed}" if weak else "")
        self.weak_label.setToolTip(note[:1].upper() + note[1:])
        self.weak_label.setVisible(bool(weak))

    def _choose_report(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open a label-issues report", "", "JSON (*.json)")
        if path:
            self.open_report(path)

    def open_report(self, path: str) -> bool:
        """Take a report written by the CLI as this split's likely-label-errors order."""
        if self._source is None:
            return False
        try:
            report = IssueReport.read(path, None if self.reviewed is None else self.reviewed.get)
        except RoadsegError as e:
            self.message.emit(str(e))
            return False
        known = set(self._names)
        found = [it for it in report.images if it.name in known]
        if not found:
            self.message.emit(f"{path}: none of its {len(report.images)} images are in this split")
            return False
        report.images = found
        self.cancel()
        self._report_model, self._from_file = path, True
        self.show_report(report)
        return True

    def score_title(self) -> tuple[str, str]:
        if self.mode_key != ISSUES:
            return super().score_title()
        method = self.report.options.method if self.report is not None else self.options.method
        return "Suspect", f"Image score '{method}': {IMAGE_SCORES[method]} (core.labeling.label_issues)"

    def score_tips(self) -> dict[str, str]:
        if self.mode_key != ISSUES or self.report is None or self._source is None:
            return super().score_tips()
        schema = self._source.schema
        return {it.name: it.summary(schema.names, schema.void_name) for it in self.report.images}

    # --- state ---------------------------------------------------------------------------------
    def set_samples(self, source, samples) -> None:
        self.report = None
        self.reviewed = None
        if source is not None:
            try:
                self.reviewed = ReviewedIssues.for_dataset(source.root)
            except RoadsegError as e:
                self.message.emit(str(e))
        super().set_samples(source, samples)
        self._show_weak_classes()
        self._show_threshold()
        self.issues_changed.emit()

    def regions(self, name: str | None) -> list:
        if self.report is None or name is None:
            return []
        item = self.report.by_name().get(name)
        if item is None:
            return []
        if item.learned is None:
            return item.regions
        return [r for r in item.regions if (r.probability or 0.0) >= self.threshold]

    def show_issues(self) -> None:
        """Switch to the likely-label-errors order (scoring the split if not done yet)."""
        if self.mode_key == ISSUES:
            self._mode_changed()
        else:
            self.mode.setCurrentIndex(self.mode.findData(ISSUES))

    def drop_region(self, name: str, region) -> None:
        for item in (self.report.images if self.report is not None else []):
            if item.name == name:
                item.regions = [r for r in item.regions if r is not region]
        self.issues_changed.emit()

    def mark_reviewed(self, name: str, region) -> bool:
        """Remember the region in the sidecar (saved at once) and hide it."""
        if self.reviewed is None:
            self.message.emit("The reviewed-regions file of this dataset could not be read; "
                              "nothing is marked")
            return False
        self.reviewed.mark(name, region)
        try:
            self.reviewed.save()
        except OSError as e:
            self.message.emit(f"{self.reviewed.path}: cannot write ({e.strerror or e})")
            return False
        self.drop_region(name, region)
        return True

    # --- ReviewPanel hooks ---------------------------------------------------------------------
    def _mode_changed(self) -> None:
        self._show_weak_classes()
        self._show_threshold()
        if self.mode_key != ISSUES:
            super()._mode_changed()
        elif self.report is not None and (self._from_file or self._report_model == self.runner.checkpoint):
            self._publish()
        else:
            self.rank()

    def _publish(self) -> None:
        if self.mode_key != ISSUES:
            super()._publish()
            return
        if self.report is None:
            return
        order = self.report.order()
        ranked = set(order)
        order += [n for n in self._names if n not in ranked]
        method = self.report.options.method
        self.order_changed.emit(order, {it.name: it.score(method) for it in self.report.images})

    def rank(self) -> None:
        if self.mode_key != ISSUES:
            super().rank()
            return
        if self._source is None or not self._samples or self._running:
            return
        if not self.runner.has_model:
            self.message.emit("Choose a model (run or checkpoint) to look for label errors with it")
            return
        source, samples, runner, options = self._source, list(self._samples), self.runner, self.options
        overrides = dict(self._current_masks() if self._current_masks else {})
        reviewed = self.reviewed
        self._stop = stop = threading.Event()

        def read_mask(sample):
            m = overrides.get(sample.name)
            return m if m is not None else source.read_mask(sample)

        def work(progress, cancelled):
            predictor = runner.predictor(source.schema).with_tta(options.tta())
            seen = trained_on(predictor.config, samples[0].split)

            def probs_for(sample):
                p = predictor.predict(source.read_image(sample), with_probs=True)
                runner.remember(sample.name, Prediction(p.mask, p.entropy))
                return p.probs

            return score_label_issues(samples, probs_for, read_mask, source.schema.num_classes, options,
                                      in_sample=seen, model_name=lambda _s: str(runner.checkpoint),
                                      reviewed=None if reviewed is None else reviewed.get,
                                      progress=progress, cancelled=lambda: stop.is_set() or cancelled())

        self._running = True
        self.rank_button.setText("Stop")
        self.progress.setRange(0, len(samples))
        self.progress.setValue(0)
        self.progress.setFormat("Looking for label errors %v / %m")
        self.progress.setVisible(True)
        generation = self._generation

        model = runner.checkpoint

        def done(report):
            self._finish()
            if generation != self._generation:
                return
            self._report_model, self._from_file = model, False
            self.show_report(report)

        runner.run(work, done, "Looking for label errors…", self._on_progress, self._failed)

    def show_report(self, report) -> None:
        """Take a finished core IssueReport as the likely-label-errors order."""
        if report.cancelled:  # thresholds of a part of the split: not worth showing
            self.message.emit("Stopped: label errors need the whole split scored")
            return
        self.report = report
        if self.mode_key != ISSUES:
            self.mode.blockSignals(True)
            self.mode.setCurrentIndex(self.mode.findData(ISSUES))
            self.mode.blockSignals(False)
        self._publish()
        n_regions = sum(len(it.regions) for it in report.images)
        n_in = sum(it.in_sample for it in report.images)
        note = f"{n_regions} suspect regions in {len(report.images)} images"
        if self.learned:
            shown = sum(len(self.regions(it.name)) for it in report.images)
            note = (f"{shown} likely label errors outlined (p ≥ {self.threshold:.2f}) of {n_regions} "
                    f"candidate regions in {len(report.images)} images")
        elif report.region_fit is not None and not report.region_fit.used:
            note += f" ({report.region_fit.note})"
        if n_in:
            note += f"; the model trained on {n_in} of them (weak evidence there)"
        self.message.emit(note)
        self._show_weak_classes()
        self._show_threshold()
        self.issues_changed.emit()


def _outline_path(regions) -> QPainterPath:
    path = QPainterPath()
    for r in regions:
        if r.stencil is None:
            continue
        x0, y0 = r.bbox[0], r.bbox[1]
        padded = np.pad(r.stencil.astype(np.uint8), 1)  # contours of pixels touching the bbox edge
        contours, _ = cv2.findContours(padded, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        for c in contours:
            pts = c[:, 0, :].astype(float) - 1 + (x0, y0)
            path.moveTo(pts[0][0] + 0.5, pts[0][1] + 0.5)
            for px, py in pts[1:]:
                path.lineTo(px + 0.5, py + 0.5)
            path.closeSubpath()
    return path


def region_tip(region, schema) -> str:
    """What a region under the cursor is, in a person's words."""
    given, suggested = region.class_names(schema.names, schema.void_name)
    what = (f"Unlabelled: the model says {suggested}" if region.unlabelled
            else f"Labelled {given}, the model says {suggested}")
    p = region.probability
    chance = f"; probability {p:.2f} that this label is wrong" if p is not None else ""
    return f"{what} ({region.pixels} px){chance}. A accepts {suggested}, R marks it reviewed"


class IssueOverlay(QObject):
    """Outlines the open image's suspect regions (with learned scores, those at or above the
    panel's threshold); accept()/mark_reviewed() act on the region under the cursor, else on
    the one stepped to with next_region()/previous_region() (drawn solid, the view centred on
    it), else on the first remaining one (the most probable, or the largest)."""

    DOUBTED, UNLABELLED = "#ff2bd6", "#00e5ff"  # a label the model doubts; an object nobody labelled

    def __init__(self, canvas, editor, panel, parent=None):
        super().__init__(parent)
        self.canvas, self.editor, self.panel = canvas, editor, panel
        # over mask and prediction, under the tools' outlines
        self.item = self._add_item(self.DOUBTED, 2.0, Qt.PenStyle.DashLine, 2.5)
        self.unlabelled_item = self._add_item(self.UNLABELLED, 2.0, Qt.PenStyle.DashLine, 2.5)
        self.focus_item = self._add_item(self.DOUBTED, 3.0, Qt.PenStyle.SolidLine, 2.6, fill=False)
        self.focused = None  # the region stepped to with next_region / previous_region
        self.hover: tuple[int, int] = (-1, -1)
        canvas.hovered.connect(self._hovered)
        editor.session_changed.connect(lambda _s: self.refresh())
        panel.issues_changed.connect(self.refresh)

    def _add_item(self, color: str, width: float, style, z: float, fill: bool = True) -> OutlinePathItem:
        item = OutlinePathItem()
        pen = QPen(QColor(color), width, style)
        pen.setCosmetic(True)
        item.setPen(pen)
        if fill:
            c = QColor(color)
            c.setAlpha(40)
            item.setBrush(QBrush(c))
        item.setZValue(z)
        self.canvas.scene().addItem(item)
        return item

    def _hovered(self, x: int, y: int) -> None:
        self.hover = (x, y)
        region = self.region_at(x, y)
        s = self.editor.session
        tip = "" if region is None or s is None else region_tip(region, s.source.schema)
        viewport = self.canvas.viewport()
        if viewport.toolTip() != tip:
            viewport.setToolTip(tip)

    def region_at(self, x: int, y: int):
        """The open image's suspect region holding pixel (x, y), if any."""
        return region_at(self.regions(), x, y)

    def _name(self) -> str | None:
        s = self.editor.session
        return None if s is None else s.name

    def regions(self) -> list:
        return self.panel.regions(self._name())

    def refresh(self) -> None:
        regions = self.regions()
        if self.focused not in regions:  # accepted, reviewed, or another image
            self.focused = None
        for item in (self.item, self.unlabelled_item, self.focus_item):
            item.set_zoom(self.canvas.zoom())
        self.item.setPath(_outline_path([r for r in regions if not r.unlabelled]))
        self.unlabelled_item.setPath(_outline_path([r for r in regions if r.unlabelled]))
        focused = [self.focused] if self.focused is not None else []
        pen = self.focus_item.pen()
        pen.setColor(QColor(self.UNLABELLED if focused and self.focused.unlabelled else self.DOUBTED))
        self.focus_item.setPen(pen)
        self.focus_item.setPath(_outline_path(focused))

    def current(self):
        """The region under the cursor, else the one stepped to, else the largest one left."""
        regions = self.regions()
        if not regions:
            return None
        return region_at(regions, *self.hover) or self.focused or regions[0]

    def next_region(self) -> bool:
        return self._step(1)

    def previous_region(self) -> bool:
        return self._step(-1)

    def _step(self, delta: int) -> bool:
        """Go to the next (previous) region of this image, largest first, wrapping around."""
        regions, s = self.regions(), self.editor.session
        if s is None or not regions:
            self.editor.message.emit("No suspect region here")
            return False
        if self.focused in regions:
            i = (regions.index(self.focused) + delta) % len(regions)
        else:
            i = 0 if delta > 0 else len(regions) - 1
        self.focused, self.hover = regions[i], (-1, -1)  # the keys act on it until the mouse moves
        self.refresh()
        x0, y0, x1, y1 = self.focused.bbox
        self.canvas.centerOn((x0 + x1) / 2, (y0 + y1) / 2)
        given, suggested = self.focused.class_names(s.source.schema.names, s.source.schema.void_name)
        p = self.focused.probability
        self.editor.message.emit(f"Region {i + 1}/{len(regions)}: {given} → {suggested}, "
                                 f"{self.focused.pixels} px" + (f", p {p:.2f}" if p is not None else "")
                                 + " (keys A, R)")
        return True

    def accept(self) -> bool:
        """Give the region the model's class (one undoable edit), then hide its outline."""
        s, region = self.editor.session, self.current()
        if s is None or region is None:
            self.editor.message.emit("No suspect region here")
            return False
        rect = accept_region(s, region)
        if rect is not None:
            self.editor.mask_changed.emit(rect)
        self.editor.state_changed.emit()
        given, suggested = region.class_names(s.source.schema.names, s.source.schema.void_name)
        self.editor.message.emit(f"{given} → {suggested} ({region.pixels} px; Ctrl+Z undoes)")
        self.panel.drop_region(s.name, region)
        return True

    def mark_reviewed(self) -> bool:
        """Keep the region's labels; it will not come back in a later scoring."""
        s, region = self.editor.session, self.current()
        if s is None or region is None:
            self.editor.message.emit("No suspect region here")
            return False
        if self.panel.mark_reviewed(s.name, region):
            self.editor.message.emit(f"Region marked reviewed ({region.pixels} px)")
            return True
        return False
