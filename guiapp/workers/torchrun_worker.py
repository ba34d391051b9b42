"""Training on several processes / GPUs from the GUI: torchrun in a subprocess, followed through
the run folder, reported with the same Qt signals as the in-process TrainWorker.

The worker only polls `core.engine.torchrun_run.TorchrunRun` (which starts torchrun, reads
metrics.jsonl and summary.json, and turns them into core events) and re-emits what it gets, so
the train view draws a torchrun run with the code that draws an in-process one. Per-step values
stay inside the worker processes: one StepDone arrives per epoch.
"""
from __future__ import annotations

import time
from pathlib import Path

from guiapp.workers.runner import QueueWorker, WorkerRunner
from guiapp.workers.train_worker import unique_run_dir


class TorchrunWorker(QueueWorker):
    """Runs `configs` in turn, each on `nproc` processes (signals: see QueueWorker)."""

    def __init__(self, configs: list, runs_root: str | Path, nproc: int, run_factory=None,
                 poll_s: float = 0.5):
        super().__init__(configs, runs_root)
        self.nproc = int(nproc)
        self.poll_s = poll_s
        self._factory = run_factory

    def _stop_run(self, run) -> None:
        """SIGINT to torchrun: every rank stops after its step, last.pt kept (SIGKILL to the
        whole group if it does not end in time)."""
        run.request_stop()

    def kill(self) -> None:
        """End the current run's processes now (window closing and the run will not stop)."""
        with self._lock:
            self._stop = True
            run = self._current
        if run is not None:
            run.kill()

    def _run_one(self, index: int, cfg) -> None:
        from core.engine.events import RunFailed, RunFinished

        run_dir = unique_run_dir(self.runs_root, cfg)
        cfg = cfg.replace(out=str(run_dir), name=run_dir.name)  # the Trainer writes into `out`
        status = "failed"
        self.run_started.emit(index, str(run_dir))
        run = None
        try:
            run = self._make_run(cfg)
            run.start()
            self._set_current(run)
            while not run.done:
                for ev in run.poll():
                    if isinstance(ev, RunFinished):
                        status = "cancelled" if ev.cancelled else "done"
                    elif isinstance(ev, RunFailed):
                        self.failed.emit(ev.run_dir, ev.message, ev.traceback)
                    self.event.emit(ev)
                if not run.done:
                    time.sleep(self.poll_s)
        except Exception as exc:  # noqa: BLE001 - e.g. torchrun could not start: one dialog
            import traceback

            status = "failed"
            self.failed.emit(str(run_dir), str(exc) or type(exc).__name__, traceback.format_exc())
            if run is not None:
                run.kill()
        finally:
            self._set_current(None)
            if run is not None:
                run.cleanup()
        self.run_ended.emit(index, status, str(run_dir))

    def _make_run(self, cfg):
        if self._factory is not None:
            return self._factory(cfg, self.nproc)
        from core.engine.torchrun_run import TorchrunRun

        return TorchrunRun(cfg, self.nproc)


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
