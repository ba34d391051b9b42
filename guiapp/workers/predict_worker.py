"""Predictions for the prediction browser, made off the UI thread and kept in a small LRU cache.

Switching images must feel instant: the browser asks for the current image first and its
neighbours after it, so by the time the person presses an arrow key the next prediction is
usually cached already and showing it is just drawing. The worker calls core's Predictor; it
holds no model code.
"""
from __future__ import annotations

import threading
import traceback
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
from PySide6.QtCore import QThread, Signal


@dataclass
class Predicted:
    """Everything the browser draws for one image."""

    name: str
    image: np.ndarray       # HxWx3 uint8 RGB
    gt: np.ndarray | None   # HxW uint8 train ids (255 void)
    pred: np.ndarray        # HxW uint8 train ids
    entropy: np.ndarray     # HxW float32 softmax entropy (nats)
    views: dict = field(default_factory=dict)   # display arrays made by ``prepare``


class PredictionCache:
    """Thread-safe LRU of Predicted by image name (about 1.5 MB each at 360x480)."""

    def __init__(self, capacity: int = 24):
        self.capacity = capacity
        self._items: OrderedDict[str, Predicted] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, name: str) -> Predicted | None:
        with self._lock:
            item = self._items.get(name)
            if item is not None:
                self._items.move_to_end(name)
            return item

    def put(self, item: Predicted) -> None:
        with self._lock:
            self._items[item.name] = item
            self._items.move_to_end(item.name)
            while len(self._items) > self.capacity:
                self._items.popitem(last=False)

    def __contains__(self, name: str) -> bool:
        with self._lock:
            return name in self._items

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


class PredictWorker(QThread):
    """Serves ``request([names])`` (most urgent first; a new request replaces the old queue).

    ``make_predictor()`` runs once in this thread (loading a checkpoint takes a moment);
    ``load(name) -> (image, gt)`` reads the pair; ``prepare(item)`` (optional) fills
    ``item.views`` with display arrays here rather than on the UI thread. Signals:
    ``ready(name)`` once it is in the cache, ``failed(name, message)``.
    """

    ready = Signal(str)
    failed = Signal(str, str)

    def __init__(self, make_predictor: Callable, load: Callable, cache: PredictionCache,
                 prepare: Callable | None = None, parent=None):
        super().__init__(parent)
        self._prepare = prepare
        self.setObjectName("roadseg-predict")
        self._make_predictor = make_predictor
        self._load = load
        self.cache = cache
        self._pending: list[str] = []
        self._cond = threading.Condition()
        self._stop = False

    def request(self, names: list[str]) -> None:
        with self._cond:
            self._pending = [n for n in dict.fromkeys(names)]
            self._cond.notify()

    def stop(self, timeout_ms: int = 10000) -> bool:
        with self._cond:
            self._stop = True
            self._pending = []
            self._cond.notify()
        return self.wait(timeout_ms)

    def _next(self) -> str | None:
        with self._cond:
            while not self._stop:
                while self._pending:
                    name = self._pending.pop(0)
                    if name not in self.cache:
                        return name
                self._cond.wait()
            return None

    def run(self) -> None:  # noqa: D401 - QThread entry point
        predictor = None
        while True:
            name = self._next()
            if name is None:
                return
            try:
                if predictor is None:
                    predictor = self._make_predictor()
                image, gt = self._load(name)
                p = predictor.predict(image)
                item = Predicted(name, image, gt, np.asarray(p.mask, np.uint8),
                                 np.asarray(p.entropy, np.float32))
                if self._prepare is not None:
                    self._prepare(item)
                self.cache.put(item)
            except Exception as exc:  # noqa: BLE001 - shown in the browser, never a crash
                self.failed.emit(name, f"{exc or type(exc).__name__}\n{traceback.format_exc(limit=2)}")
                continue
            self.ready.emit(name)
