"""Training off the UI thread: a QObject worker in a QThread runs core Trainers one after another
and turns their events into Qt signals (delivered queued, so slots run on the UI thread).

torch releases the GIL inside its kernels, so the UI keeps drawing while a step runs. The worker
holds no training logic: it names the run folder, calls `Trainer.run()`, and forwards events.
"""
from __future__ import annotations

import re
import time
import traceback
from pathlib import Path

from guiapp.workers.runner import QueueWorker, WorkerRunner


def run_name(cfg, when: float | None = None) -> str:
    """Readable run folder name: the config's name (a preset's run) or arch-encoder-loss-optimizer,
    then -YYYYmmdd-HHMMSS."""
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(when))
    parts = [cfg.name, stamp] if cfg.name else [cfg.arch, cfg.encoder or "", cfg.loss, cfg.optimizer, stamp]
    name = "-".join(p for p in parts if p)
    return re.sub(r"[^A-Za-z0-9._-]+", "", name.replace("+", "_"))


def unique_run_dir(root: str | Path, cfg, when: float | None = None) -> Path:
    """`root/run_name(cfg)`, with -2, -3… appended when that folder already exists."""
    root = Path(root)
    base = run_name(cfg, when)
    path, n = root / base, 2
    while path.exists():
        path, n = root / f"{base}-{n}", n + 1
    return path


class TrainWorker(QueueWorker):
    """Runs `configs` in turn with core Trainers in this thread (signals: see QueueWorker)."""

    def __init__(self, configs: list, runs_root: str | Path, trainer_factory=None):
        super().__init__(configs, runs_root)
        self._factory = trainer_factory

    def _stop_run(self, trainer) -> None:
        trainer.cancel()

    def _run_one(self, index: int, cfg) -> None:
        from core.engine.events import RunFailed, RunFinished

        run_dir = unique_run_dir(self.runs_root, cfg)
        cfg = cfg.replace(out=str(run_dir), name=run_dir.name)  # Trainer writes into `out`
        outcome = {"status": "failed", "failed_sent": False, "dir": str(run_dir)}

        def listener(ev) -> None:
            if isinstance(ev, RunFinished):
                outcome["status"] = "cancelled" if ev.cancelled else "done"
                outcome["dir"] = ev.run_dir
            elif isinstance(ev, RunFailed):
                outcome["failed_sent"] = True
                outcome["dir"] = ev.run_dir or outcome["dir"]
                self.failed.emit(outcome["dir"], ev.message, ev.traceback)
            self.event.emit(ev)

        self.run_started.emit(index, str(run_dir))
        try:
            trainer = self._make_trainer(cfg, listener)
            self._set_current(trainer)
            trainer.run()
        except Exception as exc:  # noqa: BLE001 - every failure goes to the UI as a dialog
            outcome["status"] = "failed"
            if not outcome["failed_sent"]:
                self.failed.emit(outcome["dir"], str(exc) or type(exc).__name__,
                                 traceback.format_exc())
        finally:
            self._set_current(None)
        self.run_ended.emit(index, outcome["status"], outcome["dir"])

    def _make_trainer(self, cfg, listener):
        if self._factory is not None:
            return self._factory(cfg, [listener])
        from core.engine.trainer import Trainer

        return Trainer(cfg, listeners=[listener])


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
