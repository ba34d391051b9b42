"""Evaluation off the UI thread: a QObject worker in a QThread calls core.evaluate.evaluate and
turns its progress into Qt signals, so the window keeps drawing while a split is scored.

The worker holds no metric code; it only forwards the core call's progress, result and errors.
"""
from __future__ import annotations

import threading
import traceback
from pathlib import Path

from PySide6.QtCore import QObject, Signal, Slot

from guiapp.workers.runner import WorkerRunner


class EvalWorker(QObject):
    """Evaluates one checkpoint on one split. Signals (delivered queued to the UI thread):
        progress(int done, int total)
        finished(object)          -- the core EvalResult
        failed(str message, str traceback)
        cancelled()
        over()                    -- always last, whatever happened
    """

    progress = Signal(int, int)
    finished = Signal(object)
    failed = Signal(str, str)
    cancelled = Signal()
    over = Signal()

    def __init__(self, checkpoint: str | Path, source, split: str, evaluate_fn=None):
        super().__init__()
        self.checkpoint = Path(checkpoint)
        self.source = source
        self.split = split
        self._evaluate = evaluate_fn
        self._cancel = threading.Event()

    def cancel(self) -> None:
        """Ask core to stop between two images (thread-safe)."""
        self._cancel.set()

    @property
    def cancel_requested(self) -> bool:
        return self._cancel.is_set()

    @Slot()
    def run(self) -> None:
        try:
            evaluate = self._evaluate
            if evaluate is None:
                from core.evaluate import evaluate
            result = evaluate(self.checkpoint, self.source, self.split,
                              progress=lambda d, t: self.progress.emit(int(d), int(t)),
                              cancel=self._cancel.is_set)
        except Exception as exc:  # noqa: BLE001 - every failure becomes a message for the UI
            if self._cancel.is_set():
                self.cancelled.emit()
            else:
                self.failed.emit(str(exc) or type(exc).__name__, traceback.format_exc())
        else:
            if result is None or getattr(result, "cancelled", False):
                self.cancelled.emit()
            else:
                self.finished.emit(result)
        self.over.emit()


class EvalRunner(WorkerRunner):
    """Owns at most one EvalWorker and its QThread. ``done`` (an alias of ``finished``) fires on
    the UI thread once the thread has really ended (after the worker's own signals)."""

    done = Signal()
    busy_message = "an evaluation is already running"

    def __init__(self, parent=None):
        super().__init__(parent)
        self.finished.connect(self.done)

    def start(self, checkpoint, source, split: str, connect=None,
              evaluate_fn=None) -> EvalWorker:
        """Start evaluating; ``connect(worker)`` wires signals before the thread starts."""
        worker = EvalWorker(checkpoint, source, split, evaluate_fn)
        return self._launch(worker, "roadseg-eval", worker.over, connect)
