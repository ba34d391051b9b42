"""The chosen checkpoint, loaded once and run off the UI thread.

Loading a model and predicting a 2048x1024 image take long enough to freeze the window, so both
happen in background tasks (guiapp.workers.background); results come back on the UI thread.
One lock serialises use of the model between the editor's "predict this image" and the review
queue's ranking pass. Predictions are kept in a small cache, so walking back to an image does
not run the model again.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from core.errors import CheckpointError
from guiapp.workers.background import run_in_background

CACHE_SIZE = 12


class ModelRunner(QObject):
    """Signals: busy(bool, str) while a job runs (with what it does); failed(str, str)."""

    busy = Signal(bool, str)
    failed = Signal(str, str)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.checkpoint: Path | None = None
        self._predictor = None
        self._generation = 0
        self._lock = threading.RLock()
        self._cache: OrderedDict[str, object] = OrderedDict()
        self._jobs = 0
        self._tasks: list = []  # BackgroundTasks started here, joined on shutdown

    def set_checkpoint(self, path: str | Path | None) -> None:
        path = Path(path) if path else None
        if path == self.checkpoint:
            return
        with self._lock:
            self.checkpoint = path
            self._predictor = None
            self._cache.clear()
            self._generation += 1

    @property
    def has_model(self) -> bool:
        return self.checkpoint is not None

    # --- usable from worker threads ----------------------------------------------------------
    def predictor(self, schema):
        """The loaded core Predictor (loading it on first use); CheckpointError on class mismatch."""
        from core.evaluate import Predictor

        with self._lock:
            if self.checkpoint is None:
                raise CheckpointError("no model chosen: pick a run or a checkpoint file first")
            if self._predictor is None:
                self._predictor = Predictor.from_checkpoint(self.checkpoint)
            pred = self._predictor
        if tuple(pred.schema.names) != tuple(schema.names):
            raise CheckpointError(
                f"{self.checkpoint}: trained on classes {list(pred.schema.names)}, but the dataset "
                f"has {list(schema.names)}")
        return pred

    def predict_now(self, schema, image):
        """Predict in the calling thread, holding the model lock."""
        return self.locked(schema).predict(image)

    def locked(self, schema) -> "_LockedPredictor":
        """The predictor behind this runner's lock, for passes over many images (review ranking)."""
        return _LockedPredictor(self.predictor(schema), self._lock)

    def remember(self, name: str, prediction) -> None:
        with self._lock:
            self._cache[name] = prediction
            self._cache.move_to_end(name)
            while len(self._cache) > CACHE_SIZE:
                self._cache.popitem(last=False)

    def cached(self, name: str):
        with self._lock:
            return self._cache.get(name)

    # --- UI thread -----------------------------------------------------------------------------
    def _job(self, fn: Callable, on_done: Callable, what: str,
             on_progress: Callable | None = None, on_failed: Callable | None = None):
        generation = self._generation
        self._jobs += 1
        self.busy.emit(True, what)

        def finish():
            self._jobs -= 1
            if self._jobs == 0:
                self.busy.emit(False, "")

        def done(result):
            finish()
            if generation == self._generation:  # a result from a model no longer chosen is dropped
                on_done(result)

        def failed(message, details):
            finish()
            if on_failed is not None:
                on_failed(message, details)
            self.failed.emit(message, details)

        task = run_in_background(fn, done, failed, on_progress)
        self._tasks = [t for t in self._tasks if not t.is_finished] + [task]
        return task

    def predict(self, source, sample, on_done: Callable) -> None:
        """Call on_done(name, Prediction) on the UI thread; cached results come back at once."""
        hit = self.cached(sample.name)
        if hit is not None:
            on_done(sample.name, hit)
            return

        def work(progress, cancelled):
            p = self.predict_now(source.schema, source.read_image(sample))
            self.remember(sample.name, p)
            return p

        self._job(work, lambda p: on_done(sample.name, p), f"Predicting {sample.name}…")

    def run(self, fn: Callable, on_done: Callable, what: str, on_progress: Callable | None = None,
            on_failed: Callable | None = None):
        """Run fn(progress, cancelled) in the background as a model job; returns the task."""
        return self._job(fn, on_done, what, on_progress, on_failed)

    @property
    def running(self) -> bool:
        return self._jobs > 0

    def shutdown(self, timeout_ms: int = 30000) -> None:
        """Drop pending results and wait for the model threads (a QThread must not outlive Qt)."""
        for task in self._tasks:
            task.cancel()
            task.thread.quit()
            task.thread.wait(timeout_ms)
        self._tasks = []
        self._jobs = 0


class _LockedPredictor:
    """predict() under the runner's lock, so two threads never run the model at once."""

    def __init__(self, predictor, lock):
        self._predictor, self._lock = predictor, lock

    def predict(self, image):
        with self._lock:
            return self._predictor.predict(image)
