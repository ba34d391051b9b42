"""One torchrun training run seen as the Trainer's events, so a GUI draws it like an in-process run.

`TorchrunRun.poll()` turns what the launched run writes into core events: RunStarted once, then
per epoch record of metrics.jsonl a StepDone (one "step" per epoch: per-step values do not leave
the worker processes) and an EpochDone, and at the end RunFinished (summary.json) or RunFailed
(the run's last error line, with the log tail as traceback). `FollowedRun` drives one to its end
like a Trainer (`run()`, `cancel()`), so core.engine.queue.RunQueue runs torchrun launches too.
"""
from __future__ import annotations

import json
import shutil
import tempfile
import threading
import time
from pathlib import Path

from core.config import TrainConfig
from core.engine.events import EpochDone, RunFailed, RunFinished, RunStarted, StepDone
from core.engine.launcher import GroupProcess, MetricsFollower, launch_env, torchrun_command
from core.errors import ConfigError


def _cost(cfg: TrainConfig) -> tuple[list[str], float, int]:
    """Class names, GFLOPs and parameters for the RunStarted header (zeros when unknown)."""
    from core.engine.setup import open_source
    from core.models.cost import cost

    try:
        schema = open_source(cfg).schema
        return list(schema.names), *cost(cfg, schema.num_classes)
    except Exception:  # noqa: BLE001 - the run itself will report a real problem
        return [], 0.0, 0


class TorchrunRun:
    """Launch `cfg` on `nproc` processes with torchrun and report it as core events."""

    def __init__(self, cfg: TrainConfig, nproc: int, *, resume: bool = False,
                 stop_timeout: float = 60.0, torchrun_args=(), command: list[str] | None = None,
                 with_cost: bool = True):
        if not cfg.out:
            raise ConfigError("no run folder given (out)")
        self.cfg, self.nproc, self.resume = cfg, int(nproc), resume
        self.run_dir = Path(cfg.out)
        self.stop_timeout = stop_timeout
        self.torchrun_args = tuple(torchrun_args)
        self.command = command  # tests: any command that writes a run folder
        self.with_cost = with_cost
        self.process: GroupProcess | None = None
        self.follower: MetricsFollower | None = None
        self._tmp: Path | None = None
        self._best = -1.0
        self._started_sent = False
        self.done = False

    def start(self) -> None:
        """Write the config to a temporary YAML and start torchrun on it."""
        since = time.time() - 1.0  # mtime granularity; older files belong to an earlier run
        self._tmp = Path(tempfile.mkdtemp(prefix="roadseg-torchrun-"))
        config_path = self._tmp / "config.yaml"
        self.cfg.to_yaml(config_path)
        cmd = self.command or torchrun_command(config_path, self.nproc, resume=self.resume,
                                               torchrun_args=self.torchrun_args)
        cpu = self.cfg.device == "cpu" or not _cuda_available()
        self.follower = MetricsFollower(self.run_dir / "metrics.jsonl", since=since)
        self._since = since
        self.process = GroupProcess(cmd, env=launch_env(self.nproc, cpu),
                                    log_path=self._tmp / "torchrun.log")

    # --- following ---------------------------------------------------------------------
    def poll(self) -> list:
        """New events since the last call; the last one is RunFinished or RunFailed."""
        if self.done or self.process is None:
            return []
        events = []
        if not self._started_sent:
            events.append(self._run_started())
            self._started_sent = True
        code = self.process.poll()
        for rec in self.follower.poll():  # read after poll(): nothing is missed at exit
            events += self._epoch_events(rec)
        if code is None:
            t0 = self.process.stop_requested_at
            if t0 is not None and time.monotonic() - t0 > self.stop_timeout:
                self.process.kill()
            return events
        events.append(self._final_event(code))
        self.done = True
        return events

    def request_stop(self) -> None:
        """Stop after the current step on every rank (non-blocking; SIGKILL after stop_timeout)."""
        if self.process is not None and self.process.poll() is None:
            self.process.request_stop()

    def kill(self) -> None:
        if self.process is not None:
            self.process.kill()

    def cleanup(self) -> None:
        """Remove the temporary config and log (call after the final event)."""
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None

    # --- event synthesis ---------------------------------------------------------------
    def _run_started(self) -> RunStarted:
        names, gflops, params = _cost(self.cfg) if self.with_cost else ([], 0.0, 0)
        e = self.cfg.epochs
        return RunStarted(str(self.run_dir), self.cfg.to_dict(), 0, e, 1, e,
                          f"torchrun x{self.nproc}", self.cfg.precision, gflops, params, names)

    def _epoch_events(self, rec: dict) -> list:
        try:
            epoch = int(rec["epoch"])
            miou = float(rec["miou"])
        except (KeyError, TypeError, ValueError):
            return []
        is_best = miou > self._best
        self._best = max(self._best, miou)
        seconds = float(rec.get("seconds") or 0.0)
        train_loss = float(rec.get("train_loss", float("nan")))
        lr = float(rec.get("lr") or 0.0)
        planned = int(rec.get("epochs") or self.cfg.epochs)  # a time budget may lower it
        eta = seconds * max(0, planned - epoch)
        return [StepDone(epoch, epoch, 1, 1, train_loss, lr, 0.0, eta),
                EpochDone(epoch, train_loss, float(rec.get("val_loss", float("nan"))), miou,
                          float(rec.get("pixel_acc") or 0.0), list(rec.get("iou") or []), is_best,
                          seconds, lr, planned)]

    def _summary(self) -> dict | None:
        path = self.run_dir / "summary.json"
        try:
            if path.stat().st_mtime < self._since:
                return None
            return json.loads(path.read_text())
        except (OSError, ValueError):
            return None

    def _final_event(self, code: int):
        summary = self._summary()
        stopped = self.process.stop_requested_at is not None
        if summary is not None and (code == 0 or summary.get("cancelled")):
            return RunFinished(str(self.run_dir), summary, bool(summary.get("cancelled")))
        if stopped:
            return RunFinished(str(self.run_dir), summary or {"cancelled": True}, True)
        tail = self.process.log_tail(60)
        errors = [ln for ln in tail.splitlines() if ln.startswith("roadseg: error:")]
        message = errors[-1] if errors else f"torchrun exited with code {code}"
        return RunFailed(str(self.run_dir), message, tail)


class FollowedRun:
    """A TorchrunRun (or anything with its start/poll/done/request_stop/kill/cleanup) as a
    Trainer-like run: `run()` starts it, polls it every `poll_s` seconds handing its events to
    `listeners` until its final event, and returns the summary (None when it failed); `cancel()`
    asks it to stop, also when asked before it has started."""

    def __init__(self, run, listeners, poll_s: float = 0.5):
        self.launch, self.listeners, self.poll_s = run, list(listeners), poll_s
        self._stop = threading.Event()
        self._started = False
        self._lock = threading.Lock()

    def cancel(self) -> None:
        self._stop.set()
        with self._lock:
            started = self._started
        if started:
            self.launch.request_stop()

    def kill(self) -> None:
        """End its processes now (a window closing on a run that will not stop)."""
        self._stop.set()
        self.launch.kill()

    def run(self) -> dict | None:
        summary = None
        try:
            self.launch.start()
            with self._lock:
                self._started = True
            if self._stop.is_set():
                self.launch.request_stop()
            while not self.launch.done:
                for ev in self.launch.poll():
                    if isinstance(ev, RunFinished):
                        summary = ev.summary
                    for fn in self.listeners:
                        fn(ev)
                if not self.launch.done:
                    time.sleep(self.poll_s)
        except BaseException:
            self.launch.kill()
            raise
        finally:
            self.launch.cleanup()
        return summary


def _cuda_available() -> bool:
    import torch

    return torch.cuda.is_available()
