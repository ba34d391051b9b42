"""One long-running worker QObject in its own QThread: start, cancel, wait, is_running.

Shared by the training, torchrun and evaluation runners so they agree on the one subtle rule:
the worker's "all done" signal quits the thread with a *direct* connection, because a window
that is closing blocks the UI thread in `wait()` and a queued quit would never be delivered.
"""
from __future__ import annotations

import threading

from PySide6.QtCore import QObject, Qt, QThread, Signal, Slot


class WorkerRunner(QObject):
    """Owns at most one worker and its thread. `finished` fires on the UI thread once the thread
    has really ended (after the worker's own signals)."""

    finished = Signal()
    busy_message = "a job is already running"

    def __init__(self, parent=None):
        super().__init__(parent)
        self.thread: QThread | None = None
        self.worker: QObject | None = None

    def is_running(self) -> bool:
        return self.thread is not None and self.thread.isRunning()

    def _launch(self, worker: QObject, name: str, done_signal, connect=None) -> QObject:
        """Move `worker` (with a `run` slot) to a new thread named `name` and start it;
        `connect(worker)` wires the caller's signals before the thread starts."""
        if self.is_running():
            raise RuntimeError(self.busy_message)
        thread = QThread()
        thread.setObjectName(name)
        worker.moveToThread(thread)
        thread.started.connect(worker.run)
        done_signal.connect(thread.quit, Qt.ConnectionType.DirectConnection)
        thread.finished.connect(self.finished)
        if connect is not None:
            connect(worker)
        self.thread, self.worker = thread, worker
        thread.start()
        return worker

    def cancel(self) -> None:
        if self.worker is not None:
            self.worker.cancel()

    def wait(self, timeout_ms: int = 30000) -> bool:
        """Cancel and join (window closing): no thread may outlive the QApplication."""
        if not self.is_running():
            return True
        self.cancel()
        return self.thread.wait(timeout_ms)


class QueueWorker(QObject):
    """Runs `configs` in turn, one run at a time, from its own thread. Signals:
        run_started(int index, str run_dir)   -- before each run starts
        event(object)                          -- every core event (RunStarted, StepDone, …)
        run_ended(int index, str status, str run_dir)   status: done | cancelled | failed
        failed(str run_dir, str message, str traceback)  -- RunFailed event or an exception
        all_done()                             -- the queue is over (finished or stopped)
    Subclasses implement `_run_one(index, cfg)` (registering the live run with `_set_current`)
    and `_stop_run(run)`.
    """

    run_started = Signal(int, str)
    event = Signal(object)
    run_ended = Signal(int, str, str)
    failed = Signal(str, str, str)
    all_done = Signal()

    def __init__(self, configs: list, runs_root):
        super().__init__()
        from pathlib import Path

        self.configs = list(configs)
        self.runs_root = Path(runs_root)
        self._lock = threading.Lock()
        self._current = None
        self._stop = False

    def _set_current(self, run) -> None:
        """Register (or clear, with None) the live run; a Stop that came first reaches it now."""
        with self._lock:
            self._current = run
            stop = self._stop
        if stop and run is not None:
            self._stop_run(run)

    def _stop_run(self, run) -> None:
        raise NotImplementedError

    def cancel(self) -> None:
        """Stop the current run (last.pt kept) and skip the rest. Thread-safe."""
        with self._lock:
            self._stop = True
            run = self._current
        if run is not None:
            self._stop_run(run)

    @property
    def stopping(self) -> bool:
        return self._stop

    @Slot()
    def run(self) -> None:
        for i, cfg in enumerate(self.configs):
            if self._stop:
                break
            self._run_one(i, cfg)
        self.all_done.emit()
