"""Training off the UI thread: a QObject worker in a QThread runs core's run queue with core
Trainers and turns their events into Qt signals (delivered queued, so slots run on the UI thread).

torch releases the GIL inside its kernels, so the UI keeps drawing while a step runs. The worker
holds no training logic: core's queue names the run folders (core.run_names), runs the Trainers
and reports failures; the worker forwards events.
"""
from __future__ import annotations

from pathlib import Path

from guiapp.workers.runner import QueueWorker, WorkerRunner


class TrainWorker(QueueWorker):
    """Runs `configs` in turn with core Trainers in this thread (signals: see QueueWorker);
    `trainer_factory(cfg, listeners)` replaces the Trainer (tests)."""

    def __init__(self, configs: list, runs_root: str | Path, trainer_factory=None):
        super().__init__(configs, runs_root, make_run=trainer_factory)


class TrainRunner(WorkerRunner):
    """Owns one TrainWorker and its QThread; the view keeps a single runner alive."""

    busy_message = "a training run is already in progress"

    def start(self, configs: list, runs_root, connect=None, trainer_factory=None) -> TrainWorker:
        """Start training `configs`; `connect(worker)` wires signals before the thread starts."""
        if self.is_running():
            raise RuntimeError(self.busy_message)
        Path(runs_root).mkdir(parents=True, exist_ok=True)
        worker = TrainWorker(configs, runs_root, trainer_factory)
        return self._launch(worker, "roadseg-train", worker.all_done, connect)
