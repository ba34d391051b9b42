"""One long-running worker QObject in its own QThread: start, cancel, wait, is_running.

Shared by the training, torchrun and evaluation runners so they agree on the one subtle rule:
the worker's "all done" signal quits the thread with a *direct* connection, because a window
that is closing blocks the UI thread in `wait()` and a queued quit would never be delivered.
"""
from __future__ import annotations

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
        self._active = False

    def is_running(self) -> bool:
        """True from the start until `finished` is delivered on the UI thread, so that every
        signal the worker sent before it ended (a queue row's last status) has been handled by
        the time a view sees the job as over."""
        return self._active

    @Slot()
    def _thread_ended(self) -> None:
        self._active = False
        self.finished.emit()

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
        thread.finished.connect(self._thread_ended)  # queued: after the worker's own signals
        if connect is not None:
            connect(worker)
        self.thread, self.worker = thread, worker
        self._active = True
        thread.start()
        return worker

    def cancel(self) -> None:
        if self.worker is not None:
            self.worker.cancel()

    def wait(self, timeout_ms: int = 30000) -> bool:
        """Cancel and join (window closing): no thread may outlive the QApplication."""
        if self.thread is None or not self.thread.isRunning():
            self._active = False
            return True
        self.cancel()
        joined = self.thread.wait(timeout_ms)
        if joined:  # joined from a blocked UI thread: its `finished` may never be delivered
            self._active = False
        return joined


class QueueWorker(QObject):
    """Runs core's queue (core.engine.queue.RunQueue: the loop, run folders, failures, Stop) from
    its own thread and only turns its events into Qt signals:
        run_started(int index, str run_dir)   -- before each run starts
        event(object)                          -- every core event (RunStarted, StepDone, …)
        run_ended(int index, str status, str run_dir)   status: done | cancelled | failed
        failed(str run_dir, str message, str traceback)  -- once per failed run
        all_done()                             -- the queue is over (finished or stopped)
    `make_run(cfg, listeners)` builds each run (default: a core Trainer).
    """

    run_started = Signal(int, str)
    event = Signal(object)
    run_ended = Signal(int, str, str)
    failed = Signal(str, str, str)
    all_done = Signal()

    def __init__(self, configs: list, runs_root, make_run=None):
        super().__init__()
        from core.engine.queue import RunQueue

        self.queue = RunQueue(configs, [self._forward], runs_root=runs_root, make_run=make_run)

    def _forward(self, ev) -> None:
        from core.engine.events import QueuedRunEnded, QueuedRunStarted, RunFailed

        if isinstance(ev, QueuedRunStarted):
            self.run_started.emit(ev.index, ev.run_dir)
        elif isinstance(ev, QueuedRunEnded):
            self.run_ended.emit(ev.index, ev.status, ev.run_dir)
        else:
            if isinstance(ev, RunFailed):
                self.failed.emit(ev.run_dir, ev.message, ev.traceback)
            self.event.emit(ev)

    def cancel(self) -> None:
        """Stop the current run (last.pt kept) and skip the rest. Thread-safe."""
        self.queue.cancel()

    @property
    def stopping(self) -> bool:
        return self.queue.cancelled

    @Slot()
    def run(self) -> None:
        try:
            self.queue.run()
        finally:
            self.all_done.emit()
