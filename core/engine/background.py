"""Work a run hands to one background thread so the next steps go on: checkpoint writes
(core.engine.checkpoint) and TensorBoard preview encoding (core.engine.tensorboard_log).

Calls run in the order submitted. At most `pending` wait: a slower thread holds the run back
instead of piling up copies in memory. A failed call is raised to the run at its next `submit`,
`wait` or `close`, and the calls after it are skipped, as if the run had stopped there (a last.pt
never lands after the best.pt it names failed)."""
from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor


class Background:
    def __init__(self, name: str, pending: int = 2):
        self._pool = ThreadPoolExecutor(1, thread_name_prefix=name)
        self._pending: list[Future] = []
        self._limit = max(1, int(pending))
        self._failed = False

    def submit(self, fn: Callable, *args) -> None:
        while self._pending and self._pending[0].done():  # finished ones: their errors surface now
            self._pending.pop(0).result()
        while len(self._pending) >= self._limit:
            self._pending.pop(0).result()
        self._pending.append(self._pool.submit(self._call, fn, args))

    def _call(self, fn: Callable, args: tuple) -> None:
        if self._failed:
            return
        try:
            fn(*args)
        except BaseException:
            self._failed = True
            raise

    def wait(self) -> None:
        """Return when every submitted call has run; raise the first that failed."""
        pending, self._pending = self._pending, []
        for future in pending:
            future.result()

    def close(self) -> None:
        try:
            self.wait()
        finally:
            self._pool.shutdown(wait=True)
