"""Wall time per phase of a run (data, statistics, model, FLOP count, training, validation,
checkpoints, ...), written into `summary.json` so that a slow start or a slow tear-down shows
where it goes, and the next regression shows in the numbers instead of in a stopwatch."""
from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager


class Phases:
    def __init__(self, clock=time.perf_counter) -> None:
        self._clock = clock
        self.seconds: dict[str, float] = {}

    @contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        """Add the block's wall time to phase `name` (a phase may be entered many times)."""
        t0 = self._clock()
        try:
            yield
        finally:
            self.add(name, self._clock() - t0)

    def add(self, name: str, seconds: float) -> None:
        self.seconds[name] = self.seconds.get(name, 0.0) + float(seconds)

    def rounded(self) -> dict[str, float]:
        return {k: round(v, 3) for k, v in self.seconds.items()}


def describe(phases: dict | None, min_seconds: float = 0.05) -> str:
    """'model 1.6 s, decode 2.7 s, ...': the phases of a summary that took time, in run order,
    without the total (what the CLI prints and the Train view shows at a run's end)."""
    shown = [(k, v) for k, v in (phases or {}).items() if k != "total" and v >= min_seconds]
    return ", ".join(f"{k} {v:.1f} s" for k, v in shown)
