"""Several configurations trained one after another (the report's comparison as one click).

This is the one queue loop: the CLI runs it in the foreground, the GUI's worker runs it in a
thread and only turns its events into Qt signals. Around each run it emits QueuedRunStarted and
QueuedRunEnded (done | cancelled | failed) to its listeners, which also get every event of the
run. A failed run is reported once (its own RunFailed, or one from here when it raised without
one) and the queue goes on with the next; cancelling stops the current run (last.pt kept) and
skips the rest.

A run is anything with `run() -> summary` and a thread-safe `cancel()`: a Trainer by default, a
followed torchrun launch (core.engine.torchrun_run.FollowedRun) in the GUI's multi-process mode.
"""
from __future__ import annotations

import threading
import traceback
from collections.abc import Callable, Iterable
from pathlib import Path

from core.engine.events import QueuedRunEnded, QueuedRunStarted, RunFailed, RunFinished
from core.run_names import unique_run_dir

Listener = Callable[[object], None]


def _trainer(cfg, listeners: list[Listener]):
    from core.engine.trainer import Trainer  # torch only once a run starts

    return Trainer(cfg, listeners)


class _Outcome:
    """What the run's own events said: its status and folder, and whether it sent RunFailed."""

    def __init__(self, run_dir: str):
        self.run_dir, self.status, self.failed_sent = run_dir, None, False

    def __call__(self, ev) -> None:
        if isinstance(ev, RunFinished):
            self.status = "cancelled" if ev.cancelled else "done"
            self.run_dir = ev.run_dir or self.run_dir
        elif isinstance(ev, RunFailed):
            self.status, self.failed_sent = "failed", True
            self.run_dir = ev.run_dir or self.run_dir


class RunQueue:
    """Runs `configs` in turn. With `runs_root` each run gets a new folder there, named at its
    start (core.run_names.unique_run_dir, also its config's `name`); without, it writes to its
    config's `out`. `make_run(cfg, listeners)` builds a run (default: a Trainer)."""

    def __init__(self, configs: Iterable, listeners: Iterable[Listener] = (), *,
                 runs_root: str | Path | None = None,
                 make_run: Callable[[object, list[Listener]], object] | None = None):
        self.configs = list(configs)
        self.listeners = list(listeners)
        self.runs_root = None if runs_root is None else Path(runs_root)
        self.summaries: list[dict | None] = []
        self._make_run = make_run or _trainer
        self._current = None
        self._stop = threading.Event()
        self._lock = threading.Lock()

    @property
    def cancelled(self) -> bool:
        return self._stop.is_set()

    @property
    def current(self):
        """The run in progress (None between runs)."""
        with self._lock:
            return self._current

    def cancel(self) -> None:
        """Stop the current run and skip the rest (thread-safe; a run starting meanwhile is
        stopped as soon as it is registered)."""
        self._stop.set()
        run = self.current
        if run is not None:
            run.cancel()

    def run(self) -> list[dict | None]:
        """Run every config; returns each run's summary (None for failed or skipped runs)."""
        for index, cfg in enumerate(self.configs):
            self.summaries.append(None if self._stop.is_set() else self._run_one(index, cfg))
        return self.summaries

    def _run_one(self, index: int, cfg) -> dict | None:
        if self.runs_root is not None:
            run_dir = unique_run_dir(self.runs_root, cfg)
            cfg = cfg.replace(out=str(run_dir), name=run_dir.name)
        outcome = _Outcome(str(cfg.out))
        listeners = [outcome, *self.listeners]
        self._emit(QueuedRunStarted(index, outcome.run_dir))
        summary = None
        try:
            run = self._make_run(cfg, listeners)
            self._set_current(run)
            summary = run.run()
        except Exception as exc:  # noqa: BLE001 - one run's failure never ends the queue
            if not outcome.failed_sent:
                failed = RunFailed(outcome.run_dir, str(exc) or type(exc).__name__,
                                   traceback.format_exc())
                for fn in listeners:
                    fn(failed)
            outcome.status = "failed"
        finally:
            self._set_current(None)
        if outcome.status is None:  # a run that reports nothing (a torchrun rank other than 0)
            outcome.status = "cancelled" if (summary or {}).get("cancelled") else "done"
        self._emit(QueuedRunEnded(index, outcome.status, outcome.run_dir))
        return None if outcome.status == "failed" else summary

    def _set_current(self, run) -> None:
        with self._lock:
            self._current = run
        if run is not None and self._stop.is_set():
            run.cancel()

    def _emit(self, ev) -> None:
        for fn in self.listeners:
            fn(ev)
