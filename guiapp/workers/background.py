"""Run one plain function off the UI thread and get its result back on the UI thread.

Used for the short jobs that would freeze the window if run inline: class statistics (touch every
mask), GFLOPs counting (builds the model), demo-data generation. The function gets a `progress`
callable (core's `progress(done, total)` convention) and a `cancelled` callable it may poll.

Callbacks always run on the UI thread: the task's signals are delivered to a relay QObject that
lives there, so a queued connection is guaranteed whatever kind of callable is passed.
"""
from __future__ import annotations

import traceback
from typing import Callable

from PySide6.QtCore import QObject, Qt, QThread, Signal, Slot

_RUNNING: set["BackgroundTask"] = set()


class _Job(QObject):
    """Lives in the worker thread; calls the function and reports through signals."""

    progress = Signal(int, int)
    done = Signal(object)
    failed = Signal(str, str)
    over = Signal()

    def __init__(self, fn: Callable):
        super().__init__()
        self._fn = fn
        self.cancel_requested = False

    @Slot()
    def run(self) -> None:
        try:
            result = self._fn(progress=lambda d, t: self.progress.emit(int(d), int(t)),
                              cancelled=lambda: self.cancel_requested)
        except Exception as exc:  # noqa: BLE001 - every failure becomes a message for the UI
            self.failed.emit(str(exc) or type(exc).__name__, traceback.format_exc())
        else:
            self.done.emit(result)
        self.over.emit()


class BackgroundTask(QObject):
    """Handle to one running function; lives on the UI thread and relays its results.

    Keep no reference yourself unless you want to cancel: running tasks are kept alive in a
    module-level set until their thread ends."""

    def __init__(self, fn: Callable, on_done: Callable | None = None,
                 on_failed: Callable | None = None, on_progress: Callable | None = None):
        super().__init__()
        self._on_done, self._on_failed, self._on_progress = on_done, on_failed, on_progress
        self.thread = QThread()
        self.job = _Job(fn)
        self.job.moveToThread(self.thread)
        self.thread.started.connect(self.job.run)
        self.job.done.connect(self._done)
        self.job.failed.connect(self._failed)
        self.job.progress.connect(self._progress)
        self.job.over.connect(self.thread.quit, Qt.ConnectionType.DirectConnection)
        self.thread.finished.connect(self._cleanup)
        self.is_finished = False

    def start(self) -> "BackgroundTask":
        _RUNNING.add(self)
        self.thread.start()
        return self

    def cancel(self) -> None:
        """Ask the function to stop (it must poll `cancelled()`) and drop its result."""
        self.job.cancel_requested = True
        self._on_done = self._on_failed = self._on_progress = None

    @Slot(object)
    def _done(self, result) -> None:
        if self._on_done is not None:
            self._on_done(result)

    @Slot(str, str)
    def _failed(self, message: str, tb: str) -> None:
        if self._on_failed is not None:
            self._on_failed(message, tb)

    @Slot(int, int)
    def _progress(self, done: int, total: int) -> None:
        if self._on_progress is not None:
            self._on_progress(done, total)

    @Slot()
    def _cleanup(self) -> None:
        self.is_finished = True
        _RUNNING.discard(self)


def run_in_background(fn: Callable, on_done: Callable | None = None,
                      on_failed: Callable | None = None,
                      on_progress: Callable | None = None) -> BackgroundTask:
    """Start `fn(progress=..., cancelled=...)` in its own QThread; callbacks run on the UI thread."""
    return BackgroundTask(fn, on_done, on_failed, on_progress).start()


def wait_all(timeout_ms: int = 10000) -> None:
    """Cancel and join every running task (on window close, so no thread outlives Qt)."""
    for task in list(_RUNNING):
        task.cancel()
        task.thread.quit()
        task.thread.wait(timeout_ms)
