"""Several configurations trained one after another (the report's comparison as one click).

A failed run is reported (RunFailed) and the queue goes on with the next; cancelling stops the
current run between two steps and skips the rest.
"""
from __future__ import annotations

import threading
from collections.abc import Callable, Iterable

from core.config import TrainConfig
from core.engine.trainer import Trainer
from core.errors import RoadsegError


class RunQueue:
    def __init__(self, configs: Iterable[TrainConfig], listeners: Iterable[Callable] = ()):
        self.configs = list(configs)
        self.listeners = list(listeners)
        self.summaries: list[dict | None] = []
        self._current: Trainer | None = None
        self._stop = threading.Event()
        self._lock = threading.Lock()

    @property
    def cancelled(self) -> bool:
        return self._stop.is_set()

    def cancel(self) -> None:
        self._stop.set()
        with self._lock:
            if self._current is not None:
                self._current.cancel()

    def run(self) -> list[dict | None]:
        """Run every config; returns each run's summary (None for failed or skipped runs)."""
        for cfg in self.configs:
            if self._stop.is_set():
                self.summaries.append(None)
                continue
            trainer = Trainer(cfg, self.listeners)
            with self._lock:
                self._current = trainer
            if self._stop.is_set():
                trainer.cancel()
            try:
                self.summaries.append(trainer.run())
            except (RoadsegError, RuntimeError, ValueError, OSError):
                self.summaries.append(None)  # already reported to listeners as RunFailed
            finally:
                with self._lock:
                    self._current = None
        return self.summaries
