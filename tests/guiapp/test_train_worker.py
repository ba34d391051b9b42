"""TrainWorker: run naming, event forwarding, failures and cancellation — with a fake Trainer,
so these run in milliseconds (the real Trainer is exercised in test_train_view.py)."""
from __future__ import annotations

import time

import pytest

from core.config import TrainConfig
from core.engine.events import EpochDone, RunFailed, RunFinished, RunStarted, StepDone
from core.run_names import run_name, unique_run_dir
from guiapp.workers.train_worker import TrainRunner


class FakeTrainer:
    """Emits a short, valid event sequence; `mode` makes it raise or report RunFailed."""

    def __init__(self, cfg, listeners, mode="ok", steps=3):
        self.cfg, self.listeners, self.mode, self.steps = cfg, listeners, mode, steps
        self.cancelled = False

    def _emit(self, ev):
        for fn in self.listeners:
            fn(ev)

    def cancel(self):
        self.cancelled = True

    def run(self):
        run_dir = self.cfg.out
        if self.mode == "raise":
            raise RuntimeError("boom: cannot build model")
        if self.mode == "runfailed":
            self._emit(RunFailed(run_dir, "data folder vanished", "Traceback…"))
            raise RuntimeError("data folder vanished")
        self._emit(RunStarted(run_dir, self.cfg.to_dict(), 0, 1, self.steps, self.steps, "cpu",
                              "fp32", 0.1, 1000, ["a", "b"]))
        for s in range(1, self.steps + 1):
            if self.cancelled:
                self._emit(RunFinished(run_dir, {}, True))
                return {}
            self._emit(StepDone(1, s, s, self.steps, 1.0 / s, 1e-3, 10.0, 1.0))
        self._emit(EpochDone(1, 0.5, 0.6, 0.3, 0.8, [0.2, 0.4], True, 0.1))
        self._emit(RunFinished(run_dir, {"best_miou": 0.3}, False))
        return {"best_miou": 0.3}


def test_run_name_is_readable_and_unique(tmp_path):
    cfg = TrainConfig(arch="unet", encoder="resnet18", loss="ce+dice", optimizer="sgd")
    when = time.mktime((2024, 5, 1, 12, 30, 0, 0, 0, -1))
    assert run_name(cfg, when) == "unet-resnet18-ce_dice-sgd-20240501-123000"
    first = unique_run_dir(tmp_path, cfg, when)
    first.mkdir()
    second = unique_run_dir(tmp_path, cfg, when)
    assert second.name == first.name + "-2"


def _start(qtbot, tmp_path, configs, mode="ok"):
    runner = TrainRunner()
    record = {"events": [], "ended": [], "failed": [], "started": []}

    def connect(w):
        w.event.connect(lambda ev: record["events"].append(type(ev).__name__))
        w.run_ended.connect(lambda i, st, d: record["ended"].append((i, st)))
        w.failed.connect(lambda d, m, tb: record["failed"].append(m))
        w.run_started.connect(lambda i, d: record["started"].append(d))

    factory = lambda cfg, listeners: FakeTrainer(cfg, listeners, mode)  # noqa: E731
    with qtbot.waitSignal(runner.finished, timeout=10000):
        runner.start(configs, tmp_path / "runs", connect=connect, trainer_factory=factory)
    return record


def test_events_are_forwarded_in_order(qtbot, tmp_path):
    rec = _start(qtbot, tmp_path, [TrainConfig(arch="baseline"), TrainConfig(arch="unet")])
    assert rec["ended"] == [(0, "done"), (1, "done")]
    assert rec["events"][:2] == ["RunStarted", "StepDone"]
    assert rec["events"].count("RunFinished") == 2
    assert all(d.startswith(str(tmp_path / "runs")) for d in rec["started"])
    assert rec["failed"] == []


@pytest.mark.parametrize("mode", ["raise", "runfailed"])
def test_failure_is_reported_once(qtbot, tmp_path, mode):
    rec = _start(qtbot, tmp_path, [TrainConfig(arch="baseline")], mode=mode)
    assert rec["ended"] == [(0, "failed")]
    assert len(rec["failed"]) == 1  # RunFailed plus the exception it raises: one dialog


def test_cancel_stops_the_queue(qtbot, tmp_path):
    runner = TrainRunner()
    ended = []
    started = []

    class Slow(FakeTrainer):
        def run(self):
            started.append(1)
            while not self.cancelled:
                time.sleep(0.01)
            self._emit(RunFinished("x", {}, True))

    def connect(w):
        w.run_ended.connect(lambda i, st, d: ended.append((i, st)))

    runner.start([TrainConfig(), TrainConfig()], tmp_path, connect=connect,
                 trainer_factory=lambda c, l: Slow(c, l))
    qtbot.waitUntil(lambda: bool(started), timeout=5000)
    with qtbot.waitSignal(runner.finished, timeout=5000):
        runner.cancel()
    assert ended == [(0, "cancelled")]  # the second run never starts
    assert not runner.is_running()


class BlockingTrainer(FakeTrainer):
    """Runs until cancelled, like a long training."""

    def run(self):
        import time

        while not self.cancelled:
            time.sleep(0.01)
        self._emit(RunFinished(self.cfg.out, {}, True))
        return {}


def test_wait_from_the_ui_thread_joins_a_running_worker(qtbot, tmp_path):
    """Closing the window blocks the UI thread in wait(): the thread must still quit (the quit is
    a direct connection; a queued one would never be delivered and wait() would time out)."""
    import time

    runner = TrainRunner()
    runner.start([TrainConfig(arch="baseline")], tmp_path / "runs",
                 trainer_factory=lambda cfg, listeners: BlockingTrainer(cfg, listeners))
    qtbot.waitUntil(runner.is_running, timeout=5000)
    t = time.perf_counter()
    assert runner.wait(5000) is True
    assert time.perf_counter() - t < 2.0 and not runner.is_running()


def test_run_name_uses_a_preset_runs_name():
    from core.config import TrainConfig

    when = time.mktime((2024, 5, 1, 12, 30, 0, 0, 0, -1))
    cfg = TrainConfig(arch="ddrnet23-slim", name="camvid-fast-ddrnet23slim")
    assert run_name(cfg, when) == "camvid-fast-ddrnet23slim-20240501-123000"


def test_a_job_is_running_until_its_last_signals_are_handled(qtbot, tmp_path):
    """The thread may end before the UI thread has handled the queue's last signals; the job
    counts as running until then, so a view never sees it over with a row still "running"."""
    from PySide6.QtCore import QObject, Slot

    class Rows(QObject):  # lives on the UI thread, as a view does: the signals queue to it
        def __init__(self):
            super().__init__()
            self.ended: list[str] = []

        @Slot(int, str, str)
        def on_ended(self, index, status, run_dir):
            self.ended.append(status)

    rows = Rows()
    runner = TrainRunner()
    runner.start([TrainConfig(arch="baseline")], tmp_path / "runs",
                 connect=lambda w: w.run_ended.connect(rows.on_ended),
                 trainer_factory=lambda cfg, listeners: FakeTrainer(cfg, listeners))
    assert runner.thread.wait(5000)  # joined without handling any signal
    assert runner.is_running() and rows.ended == []
    qtbot.waitUntil(lambda: not runner.is_running(), timeout=5000)
    assert rows.ended == ["done"]
