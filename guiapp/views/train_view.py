"""Train tab: choose a configuration, see what it costs (GFLOPs, parameters), train it — or a queue
of them — in a background thread, and watch loss, mIoU and learning rate move live.

The view only builds TrainConfigs (TrainForm) and draws events (TrainCurves); core's Trainer does
the work inside TrainWorker's thread. With "Processes / GPUs" above 1 the runs go to torchrun in a
subprocess instead (TorchrunRunner), followed through the run folder and drawn the same way, one
point per epoch. A finished run is announced on `state.run_finished`. The "Preset" dropdown loads
a named preset (core.presets) into the form, or queues every run of a queue preset.
"""
from __future__ import annotations

import os
import traceback
from pathlib import Path

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (QFormLayout, QHBoxLayout, QLabel, QProgressBar, QPushButton,
                               QScrollArea, QSpinBox, QSplitter, QVBoxLayout, QWidget)

from core.config import implied_class_weights
from core.engine.phases import describe
from guiapp.style import format_seconds
from guiapp.widgets.empty_state import EmptyState
from guiapp.widgets.error_dialog import show_error
from guiapp.widgets.preset_picker import PresetPicker
from guiapp.widgets.run_queue import RunQueuePanel
from guiapp.widgets.train_curves import TrainCurves
from guiapp.widgets.train_form import TrainForm
from guiapp.workers.background import run_in_background
from guiapp.workers.torchrun_worker import TorchrunRunner
from guiapp.workers.train_worker import TrainRunner

PROCESSES_KEY = "train/processes"
NO_CURVES = ("No training curves yet — choose a configuration (or a preset) on the left and press "
             "Start; loss, mIoU and the learning rate are drawn here as the run trains.")
PREPARING = "Loading data and building the model — the curves start with the first training step."


def max_processes() -> int:
    """Upper bound for "Processes / GPUs": the GPUs torch sees, or the CPU cores if more."""
    import torch

    return max(1, torch.cuda.device_count(), os.cpu_count() or 1)


def model_cost(cfg, num_classes: int) -> tuple[float, int]:
    """(GFLOPs, parameters) of the model `cfg` describes: core's rule (core.models.cost)."""
    from core.models.cost import cost

    return cost(cfg, num_classes)


class TrainView(QWidget):
    """Left: form, buttons, queue. Right: run header, progress, live curves."""

    def __init__(self, state, parent=None, trainer_factory=None, run_factory=None):
        super().__init__(parent)
        self.state = state
        self.trainer_factory = trainer_factory  # tests may inject a fake Trainer
        self.run_factory = run_factory          # ... or a fake TorchrunRun
        self.runner = TrainRunner(self)
        self.torchrun_runner = TorchrunRunner(self)
        self._active = self.runner               # the runner of the current / last batch
        self._batch: list[list] = []             # queue entries the worker is running, in order
        self._cost_cache: dict[tuple, tuple[float, int]] = {}
        self._cost_task = None
        self._steps_per_epoch = 1
        self._total_epochs = 1
        self._budget_s = 0  # the running run's time budget in seconds (0: none)
        self.last_summary: dict | None = None

        self.presets = PresetPicker()
        self.form = TrainForm()
        self.start_btn = QPushButton("Start")
        self.start_btn.setObjectName("primary")
        self.start_btn.setShortcut("Ctrl+Return")
        self.start_btn.setToolTip("Train the queued runs, or the form's configuration (Ctrl+Enter)")
        self.queue_btn = QPushButton("Add to Queue")
        self.queue_btn.setShortcut("Ctrl+Shift+Return")
        self.queue_btn.setToolTip("Queue the form's configuration (Ctrl+Shift+Enter)")
        self.stop_btn = QPushButton("Stop")
        self.stop_btn.setObjectName("danger")
        self.stop_btn.setShortcut("Ctrl+.")
        self.stop_btn.setToolTip("Stop after the current step; last.pt is kept (Ctrl+.)")
        self.stop_btn.setEnabled(False)
        self.queue = RunQueuePanel()
        self.procs = QSpinBox()
        self.procs.setRange(1, max_processes())
        self.procs.setValue(state.settings.value(PROCESSES_KEY, 1, type=int))
        self.procs.setToolTip("Training processes: above 1 the run starts through torchrun in a "
                              "subprocess, one process per GPU (or CPU share); the batch size is "
                              "split over them")

        form_holder = QWidget()
        fl = QVBoxLayout(form_holder)
        fl.setContentsMargins(0, 0, 6, 0)
        fl.addWidget(self.presets)
        fl.addWidget(self.form)
        launch = QFormLayout()
        launch.addRow("Processes / GPUs", self.procs)
        fl.addLayout(launch)
        btns = QHBoxLayout()
        btns.addWidget(self.start_btn, 2)
        btns.addWidget(self.queue_btn, 2)
        btns.addWidget(self.stop_btn, 1)
        fl.addLayout(btns)
        keys = QLabel("Ctrl+Enter start · Ctrl+Shift+Enter queue · Ctrl+. stop")
        keys.setObjectName("muted")
        fl.addWidget(keys, 0, Qt.AlignmentFlag.AlignHCenter)
        fl.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidget(form_holder)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setMinimumWidth(380)

        self.header = QLabel("No run yet — choose a configuration and press Start")
        self.header.setObjectName("heading")
        self.header.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.progress = QProgressBar()
        self.progress.setTextVisible(True)
        self.progress.setFormat("%p%")
        self.status = QLabel("")
        self.status.setObjectName("metric")
        self.epoch_label = QLabel("")
        self.epoch_label.setObjectName("muted")
        self.curves = TrainCurves()
        right = QWidget()
        rl = QVBoxLayout(right)
        rl.setContentsMargins(6, 0, 0, 0)
        rl.addWidget(self.header)
        rl.addWidget(self.progress)
        row = QHBoxLayout()
        row.addWidget(self.status, 1)
        row.addWidget(self.epoch_label)
        rl.addLayout(row)
        right_split = QSplitter(Qt.Orientation.Vertical)
        self.curves_box = EmptyState(self.curves, NO_CURVES)  # no axes before the first step
        right_split.addWidget(self.curves_box)
        right_split.addWidget(self.queue)
        right_split.setStretchFactor(0, 3)
        right_split.setStretchFactor(1, 1)
        right_split.setSizes([600, 200])
        rl.addWidget(right_split, 1)

        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(scroll)
        splitter.addWidget(right)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([420, 900])
        lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 6, 6, 6)
        lay.addWidget(splitter)

        self._cost_timer = QTimer(self)
        self._cost_timer.setSingleShot(True)
        self._cost_timer.setInterval(350)  # debounce: building resnet101 takes a moment
        self._cost_timer.timeout.connect(self._compute_cost)
        self.form.model_changed.connect(self._schedule_cost)
        self.start_btn.clicked.connect(self.start)
        self.queue_btn.clicked.connect(self.add_to_queue)
        self.presets.chosen.connect(self.apply_preset)
        self.stop_btn.clicked.connect(self.stop)
        self.queue.grid_requested.connect(self.queue_grid)
        self.queue.changed.connect(self._update_buttons)
        self.runner.finished.connect(self._on_thread_finished)
        self.torchrun_runner.finished.connect(self._on_thread_finished)
        self.procs.valueChanged.connect(lambda n: state.settings.setValue(PROCESSES_KEY, n))
        state.dataset_changed.connect(lambda _src: self._schedule_cost())
        self._cost_stale = True
        self._update_buttons()

    # --- building configs ---------------------------------------------------------------
    def _data_values(self) -> dict:
        """data/format/splits of the open dataset (empty without one)."""
        src = self.state.source
        extra = {}
        if src is not None:
            extra = {"data": str(src.root), "format": src.format}
            splits = src.splits
            if "train" not in splits and splits:
                extra["train_split"] = splits[0]
            if "val" not in splits:
                extra["val_split"] = "test" if "test" in splits else (splits[-1] if splits else "val")
        return extra

    def build_config(self, **overrides):
        """The form's TrainConfig pointed at the open dataset."""
        return self.form.build_config(**{**self._data_values(), **overrides})

    def apply_preset(self, name: str, values: dict) -> None:
        """One run: show it in the form. A queue (`runs`): queue every run, named, on the open
        dataset; each trains into the runs folder. The form's device stands unless the preset
        names one; a bad value goes to the error dialog."""
        from core.config import TrainConfig
        from core.presets import expand_runs

        values = {"device": self.form.device.currentText(), **values}
        runs = values.pop("runs", None)
        try:
            if runs:
                configs = expand_runs({**values, **self._data_values(), "workers": 0}, runs)
            else:
                cfg = TrainConfig.from_dict(values)
        except Exception as exc:  # noqa: BLE001 - ConfigError, TypeError: a dialog, not a crash
            self.presets.reset()
            show_error(self, "Preset", f"Preset {name!r} has a bad value:\n\n{exc}",
                       traceback.format_exc())
            return
        if runs:
            for cfg in configs:
                self.queue.add(cfg)
            self.presets.reset()  # the form is unchanged; picking the preset again queues again
        else:
            self.form.set_config(cfg)

    def add_to_queue(self) -> None:
        self.queue.add(self.build_config())

    def queue_grid(self, losses: list, optimizers: list) -> None:
        """Queue every loss × optimizer with the rest of the form unchanged."""
        base = self.build_config()
        chosen = self.form.class_weights.currentText()  # base may hold wce's coerced weights
        for loss in losses:
            for opt in optimizers:
                weights = implied_class_weights(loss, chosen)  # core's rule
                self.queue.add(base.replace(loss=loss, optimizer=opt, class_weights=weights))

    # --- running ---------------------------------------------------------------------------
    def is_running(self) -> bool:
        return self.runner.is_running() or self.torchrun_runner.is_running()

    def start(self) -> None:
        if self.is_running():
            return
        if self.state.source is None:
            show_error(self, "No dataset", "Open a dataset first (File ▸ Open Dataset…).")
            return
        pending = [e[0] for e in self.queue.pending()] or [self.build_config()]
        if not self._batch_splits(pending):
            return
        if not self.queue.pending():
            self.add_to_queue()
        self._run_pending()

    def _batch_splits(self, configs: list) -> bool:
        """Every batch size divides over the processes; otherwise say so and refuse."""
        n = self.procs.value()
        if n > 1 and any(cfg.batch_size % n for cfg in configs):
            show_error(self, "Batch size",
                       f"The batch size is split over {n} processes; use a multiple of {n}.")
            return False
        return True

    def _run_pending(self) -> None:
        self._batch = self.queue.pending()
        self.queue.lock(self._batch)
        configs = [e[0] for e in self._batch]
        n = self.procs.value()
        if n > 1:
            self._active = self.torchrun_runner
            self.torchrun_runner.start(configs, self.state.runs_root, n, connect=self._connect,
                                       run_factory=self.run_factory)
        else:
            self._active = self.runner
            self.runner.start(configs, self.state.runs_root, connect=self._connect,
                              trainer_factory=self.trainer_factory)
        self._update_buttons()

    def _on_thread_finished(self) -> None:
        """Batch over: runs queued meanwhile start next, unless the person pressed Stop."""
        worker = self._active.worker
        stopped = worker is not None and worker.stopping
        self.queue.unlock()
        self._batch = []
        pending = [e[0] for e in self.queue.pending()]
        if (not stopped and pending and self.state.source is not None
                and self._batch_splits(pending)):
            self._run_pending()
        self._update_buttons()

    def stop(self) -> None:
        if self.is_running():
            self._active.cancel()
            self.status.setText("Stopping after this step…")
            self.stop_btn.setEnabled(False)

    def _connect(self, worker) -> None:
        worker.run_started.connect(self._on_run_started)
        worker.event.connect(self._on_event)
        worker.run_ended.connect(self._on_run_ended)
        worker.failed.connect(self._on_failed)

    def _on_run_started(self, index: int, run_dir: str) -> None:
        self.queue.set_status(self._batch[index], "running")
        self.curves.reset()
        self.curves_box.show_empty(PREPARING)
        self.progress.setValue(0)
        self.header.setText(f"Preparing {Path(run_dir).name}…")
        self.status.setText("Loading data and building the model…")
        self.epoch_label.setText("")

    def _on_event(self, ev) -> None:
        kind = type(ev).__name__
        handler = getattr(self, f"_ev_{kind}", None)
        if handler is not None:
            handler(ev)

    def _ev_RunStarted(self, ev) -> None:
        self._steps_per_epoch = max(1, ev.steps_per_epoch)
        self._total_epochs = ev.total_epochs
        # with a time budget the bar is the budget's seconds, which the run spends whatever its pace
        minutes = float((ev.config or {}).get("time_budget") or 0.0)
        self._budget_s = max(1, round(minutes * 60)) if minutes else 0
        self.progress.setRange(0, self._budget_s or max(1, ev.total_steps))
        self.progress.setValue(0 if self._budget_s else ev.start_epoch * ev.steps_per_epoch)
        name = Path(ev.run_dir).name
        self.header.setText(f"{name}  <span style='color:#5b6670; font-weight:400'>"
                            f"{ev.device} · {ev.precision} · {ev.gflops:.2f} GFLOPs · "
                            f"{ev.params / 1e6:.2f} M params"
                            f"{' · ' + ev.data_plan.split(' (')[0] if ev.data_plan else ''}</span>")
        self.status.setText(f"Epoch {ev.start_epoch + 1}/{ev.total_epochs} · starting…")
        self.header.setToolTip(ev.data_plan)  # where the data lives and why (the memory plan)

    def _ev_StepDone(self, ev) -> None:
        self.curves.add_step(ev.step, ev.loss, ev.lr)
        self.curves_box.show_content()
        speed = f"{ev.images_per_s:.1f} img/s · " if ev.images_per_s else ""  # 0: torchrun
        if self._budget_s:  # epochs are an estimate; what counts is the budget's time left
            self.progress.setValue(int(self._budget_s - min(ev.eta_s, self._budget_s)))
            self.status.setText(f"Epoch {ev.epoch} of about {self._total_epochs} · step {ev.epoch_step}/"
                                f"{ev.steps_per_epoch} · {speed}{format_seconds(ev.eta_s)} of the "
                                f"{self._budget_s / 60:g}-min budget left")
            return
        self.progress.setValue(ev.step)
        self.status.setText(f"Epoch {ev.epoch}/{self._total_epochs} · step {ev.epoch_step}/"
                            f"{ev.steps_per_epoch} · {speed}ETA {format_seconds(ev.eta_s)}")

    def _ev_EpochDone(self, ev) -> None:
        if ev.total_epochs and ev.total_epochs != self._total_epochs:  # a time budget's estimate
            self._total_epochs = ev.total_epochs
        self.curves.add_epoch(ev.epoch, ev.train_loss, ev.val_loss, ev.miou, ev.is_best)
        self.curves_box.show_content()
        best = self.curves.best
        self.epoch_label.setText(
            f"epoch {ev.epoch}: val loss {ev.val_loss:.3f} · mIoU {ev.miou:.3f} · "
            f"pixel acc {ev.pixel_acc:.3f}" + (f" · best mIoU {best[1]:.3f} @ {best[0]}"
                                               if best else ""))

    def _ev_RunFinished(self, ev) -> None:
        self.last_summary = ev.summary
        what = "Cancelled — last.pt kept" if ev.cancelled else "Finished"
        best = ev.summary.get("best_miou") if isinstance(ev.summary, dict) else None
        budget = ev.summary.get("budget") if isinstance(ev.summary, dict) else None
        used = f" · {budget['used_s'] / 60:.1f} of {budget['budget_s'] / 60:g} min used" if budget else ""
        self.status.setText(what + (f" · best mIoU {best:.3f}" if isinstance(best, float) else "") + used)
        spent = describe(ev.summary.get("phases")) if isinstance(ev.summary, dict) else ""
        tip = [f"Where the run's time went: {spent}"] if spent else []
        if budget:
            tip.append(f"Last epoch: {budget['last_epoch']}; epoch times {budget.get('epoch_s', {})}")
        self.status.setToolTip("\n".join(tip))
        self.state.run_finished.emit(ev.run_dir)

    def _on_run_ended(self, index: int, status: str, _run_dir: str) -> None:
        self.queue.set_status(self._batch[index], status)

    def _on_failed(self, run_dir: str, message: str, tb: str) -> None:
        self.status.setText("Failed")
        show_error(self, "Training failed", f"{run_dir}\n\n{message}", tb)

    def _update_buttons(self) -> None:
        running = self.is_running()
        n = len(self.queue.pending())
        self.start_btn.setText(f"Start queue ({n})" if n > 1 else "Start")
        self.start_btn.setEnabled(not running)
        self.procs.setEnabled(not running)
        self.stop_btn.setEnabled(running and not self._active.worker.stopping)
        self.queue.grid_btn.setEnabled(True)

    def shutdown(self) -> None:
        """Stop training and join the threads (the main window calls this on close)."""
        self._cost_timer.stop()
        self.runner.wait()
        self.torchrun_runner.wait()  # SIGKILLs the process group if it will not stop in time
        if self._cost_task is not None:
            self._cost_task.cancel()
            self._cost_task.thread.wait()

    # --- cost (GFLOPs / params) -----------------------------------------------------------
    def _num_classes(self) -> int:
        src = self.state.source
        return src.schema.num_classes if src is not None else 11

    def _schedule_cost(self) -> None:
        """Recount after a pause in editing, and only while the tab is visible (no model builds
        for a hidden tab; showEvent catches up)."""
        self._cost_stale = True
        if self.isVisible():
            self._cost_timer.start()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self._cost_stale:
            self._cost_timer.start()

    def _compute_cost(self) -> None:
        self._cost_stale = False
        try:
            key = self.form.model_key()
            cfg = self.form.build_config()
        except Exception as exc:  # noqa: BLE001 - e.g. ConfigError for a bad size
            self.form.set_cost_text(f"– ({exc})")
            return
        ckey = key + (self._num_classes(),)
        if ckey in self._cost_cache:
            self._show_cost(self._cost_cache[ckey])
            return
        if self._cost_task is not None:
            self._cost_task.cancel()
        self.form.set_cost_text("computing…")
        n = self._num_classes()

        def done(result, ckey=ckey):
            self._cost_cache[ckey] = result
            if self.form.model_key() + (self._num_classes(),) == ckey:
                self._show_cost(result)

        def failed(message, _tb):
            self.form.set_cost_text("–")
            self.form.cost_label.setToolTip(message)

        self._cost_task = run_in_background(lambda progress, cancelled: model_cost(cfg, n),
                                            done, failed)

    def _show_cost(self, result) -> None:
        gflops, params = result
        self.form.set_cost_text(f"{gflops:.2f} GFLOPs · {params / 1e6:.2f} M params")
