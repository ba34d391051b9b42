"""Training pace as the person waiting sees it: images per second and time left.

A step's time runs from the end of the previous step (or from the start of the epoch), so time
spent waiting on the data loader counts; time left adds one validation per epoch still to
validate, at the length of the last one measured. Timing only the forward/backward pass and
leaving validation out made the ETA read ~37 min for a 50 min camvid-fast run.
"""
from __future__ import annotations

import time
from typing import Callable

SMOOTHING = 0.9  # weight of the running step time against the newest step


class Pace:
    def __init__(self, clock: Callable[[], float] = time.perf_counter) -> None:
        self._clock = clock
        self._mark = clock()
        self.step_s: float | None = None  # smoothed wall seconds per step, loading included
        self.val_s = 0.0  # the last validation's wall seconds (0 until one has run)

    def start(self) -> None:
        """Call where the loop starts asking the loader for batches (epoch start)."""
        self._mark = self._clock()

    def step_done(self, images: int) -> float:
        """Record a finished step of `images` images; returns its images per second."""
        return self.steps_done(1, images)

    def steps_done(self, count: int, images: int) -> float:
        """Record `count` steps of `images` images each, finished since the last mark (losses read
        together every few steps on a GPU): each is taken as an equal share of the interval, so the
        rate and the time left do not jump between reads. Returns images per second."""
        now = self._clock()
        dt = max(now - self._mark, 1e-9) / max(count, 1)
        self._mark = now
        for _ in range(max(count, 1)):
            self.step_s = dt if self.step_s is None else SMOOTHING * self.step_s + (1 - SMOOTHING) * dt
        return images / dt

    def validation_done(self, seconds: float) -> None:
        self.val_s = float(seconds)

    def eta_s(self, steps_left: int, validations_left: int) -> float:
        return (self.step_s or 0.0) * steps_left + self.val_s * validations_left
