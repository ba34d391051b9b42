"""Training on several processes / GPUs from the GUI: torchrun in a subprocess, followed through
the run folder, reported with the same Qt signals as the in-process TrainWorker.

The worker runs core's queue over `core.engine.torchrun_run.TorchrunRun`s (which start torchrun,
read metrics.jsonl and summary.json, and turn them into core events; `FollowedRun` polls one to
its end) and re-emits what it gets, so the train view draws a torchrun run with the code that
draws an in-process one. Per-step values stay inside the worker processes: one StepDone arrives
per epoch.
"""
from __future__ import annotations

from pathlib import Path

from guiapp.workers.runner import QueueWorker, WorkerRunner


class TorchrunWorker(QueueWorker):
    """Runs `configs` in turn, each on `nproc` processes (signals: see QueueWorker);
    `run_factory(cfg, nproc)` replaces TorchrunRun (tests)."""

    def __init__(self, configs: list, runs_root: str | Path, nproc: int, run_factory=None,
                 poll_s: float = 0.5):
        super().__init__(configs, runs_root, make_run=self._make_run)
        self.nproc = int(nproc)
        self.poll_s = poll_s
        self._factory = run_factory

    def kill(self) -> None:
        """End the current run's processes now (window closing and the run will not stop)."""
        self.queue.cancel()
        run = self.queue.current
        if run is not None:
            run.kill()

    def _make_run(self, cfg, listeners):
        """SIGINT on Stop (core's queue cancels the run): every rank stops after its step,
        last.pt kept, SIGKILL to the whole group if it does not end in time."""
        from core.engine.torchrun_run import FollowedRun, TorchrunRun

        launch = self._factory(cfg, self.nproc) if self._factory else TorchrunRun(cfg, self.nproc)
        return FollowedRun(launch, listeners, self.poll_s)


class TorchrunRunner(WorkerRunner):
    """TrainRunner's interface (start / cancel / wait / is_running / finished / worker) for
    torchrun runs, so the train view can hold either."""

    busy_message = "a training run is already in progress"

    def start(self, configs: list, runs_root, nproc: int, connect=None, run_factory=None,
              poll_s: float = 0.5) -> TorchrunWorker:
        if self.is_running():
            raise RuntimeError(self.busy_message)
        Path(runs_root).mkdir(parents=True, exist_ok=True)
        worker = TorchrunWorker(configs, runs_root, nproc, run_factory, poll_s)
        return self._launch(worker, "roadseg-torchrun", worker.all_done, connect)

    def wait(self, timeout_ms: int = 30000) -> bool:
        """Cancel and join (window closing); SIGKILL the processes if they outlast the timeout."""
        if super().wait(timeout_ms):
            return True
        self.worker.kill()
        return self.thread.wait(15000)
