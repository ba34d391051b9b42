"""TorchrunWorker: the same signals as TrainWorker, from a run followed through its files. A fake
run object keeps most tests instant; one follows a real subprocess that writes a run folder."""
from __future__ import annotations

import sys
import textwrap
import time
from pathlib import Path

import pytest

from core.config import TrainConfig
from core.engine.events import EpochDone, RunFailed, RunFinished, RunStarted, StepDone
from guiapp.workers.torchrun_worker import TorchrunRunner


class FakeRun:
    """Scripted TorchrunRun: `poll()` hands out its events, a few per call."""

    def __init__(self, cfg, nproc, mode="ok"):
        self.cfg, self.nproc, self.mode = cfg, nproc, mode
        self.done = False
        self.stop_requested = self.cleaned = False
        d = cfg.out
        self.script = [[RunStarted(d, cfg.to_dict(), 0, 2, 1, 2, f"torchrun x{nproc}", "fp32", 0.1, 10, [])],
                       [StepDone(1, 1, 1, 1, 0.9, 1e-3, 0.0, 1.0),
                        EpochDone(1, 0.9, 1.0, 0.3, 0.8, [0.3], True, 1.0)]]
        self.script.append([RunFailed(d, "boom", "tb")] if mode == "fail" else
                           [RunFinished(d, {"best_miou": 0.3}, False)])

    def start(self):
        pass

    def poll(self):
        if self.mode == "hang" and len(self.script) == 1 and not self.stop_requested:
            return []
        if self.stop_requested:
            self.script = [[RunFinished(self.cfg.out, {"cancelled": True}, True)]]
        events = self.script.pop(0) if self.script else []
        self.done = not self.script
        return events

    def request_stop(self):
        self.stop_requested = True

    def kill(self):
        self.request_stop()

    def cleanup(self):
        self.cleaned = True


def _start(qtbot, tmp_path, configs, factory, runner=None):
    runner = runner or TorchrunRunner()
    rec = {"events": [], "ended": [], "failed": [], "started": []}

    def connect(w):
        w.event.connect(lambda ev: rec["events"].append(ev))
        w.run_ended.connect(lambda i, st, d: rec["ended"].append((i, st, d)))
        w.failed.connect(lambda d, m, tb: rec["failed"].append(m))
        w.run_started.connect(lambda i, d: rec["started"].append(d))

    runner.start(configs, tmp_path / "runs", 2, connect=connect, run_factory=factory, poll_s=0.01)
    return runner, rec


def test_events_are_forwarded_and_runs_get_their_own_folders(qtbot, tmp_path):
    made = []

    def factory(cfg, nproc):
        made.append(FakeRun(cfg, nproc))
        return made[-1]

    runner, rec = _start(qtbot, tmp_path, [TrainConfig(arch="baseline"), TrainConfig(arch="unet")], factory)
    qtbot.waitUntil(lambda: not runner.is_running(), timeout=10000)
    names = [type(e).__name__ for e in rec["events"]]
    assert names[:4] == ["RunStarted", "StepDone", "EpochDone", "RunFinished"]
    assert [(i, st) for i, st, _ in rec["ended"]] == [(0, "done"), (1, "done")]
    assert [m.cfg.out for m in made] == rec["started"] == [d for _, _, d in rec["ended"]]
    assert all(Path(d).parent == tmp_path / "runs" for d in rec["started"])
    assert all(m.nproc == 2 and m.cleaned for m in made)


def test_failure_is_reported_once(qtbot, tmp_path):
    runner, rec = _start(qtbot, tmp_path, [TrainConfig()], lambda c, n: FakeRun(c, n, "fail"))
    qtbot.waitUntil(lambda: not runner.is_running(), timeout=10000)
    assert rec["failed"] == ["boom"] and rec["ended"][0][1] == "failed"


def test_a_run_that_cannot_start_is_a_failure_not_a_crash(qtbot, tmp_path):
    def factory(cfg, nproc):
        raise RuntimeError("torchrun not found")

    runner, rec = _start(qtbot, tmp_path, [TrainConfig()], factory)
    qtbot.waitUntil(lambda: not runner.is_running(), timeout=10000)
    assert rec["failed"] == ["torchrun not found"] and rec["ended"][0][1] == "failed"


def test_stop_reaches_the_run_and_skips_the_queue(qtbot, tmp_path):
    made = []

    def factory(cfg, nproc):
        made.append(FakeRun(cfg, nproc, "hang"))
        return made[-1]

    runner, rec = _start(qtbot, tmp_path, [TrainConfig(), TrainConfig()], factory)
    qtbot.waitUntil(lambda: len(rec["events"]) >= 3, timeout=10000)
    with qtbot.waitSignal(runner.finished, timeout=10000):
        runner.cancel()
    assert made[0].stop_requested and len(made) == 1
    assert [(i, st) for i, st, _ in rec["ended"]] == [(0, "cancelled")]
    assert runner.worker.stopping


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX process groups")
def test_follows_a_real_subprocess_through_its_files(qtbot, tmp_path):
    from core.engine.torchrun_run import TorchrunRun

    script = tmp_path / "writer.py"
    script.write_text(textwrap.dedent("""
        import json, os, sys, time
        out = sys.argv[1]
        os.makedirs(out, exist_ok=True)
        with open(os.path.join(out, "metrics.jsonl"), "w") as f:
            for e in (1, 2):
                time.sleep(0.1)
                f.write(json.dumps({"epoch": e, "train_loss": 1.0, "val_loss": 1.0, "miou": 0.1 * e,
                                    "pixel_acc": 0.5, "iou": [], "lr": 0.1, "seconds": 0.1}) + "\\n")
                f.flush()
        json.dump({"best_miou": 0.2, "cancelled": False}, open(os.path.join(out, "summary.json"), "w"))
    """))

    def factory(cfg, nproc):
        return TorchrunRun(cfg, nproc, with_cost=False,
                           command=[sys.executable, str(script), cfg.out])

    t0 = time.monotonic()
    runner, rec = _start(qtbot, tmp_path, [TrainConfig(arch="baseline", epochs=2)], factory)
    qtbot.waitUntil(lambda: not runner.is_running(), timeout=30000)
    assert time.monotonic() - t0 < 30
    epochs = [e for e in rec["events"] if isinstance(e, EpochDone)]
    assert [(e.epoch, e.is_best) for e in epochs] == [(1, True), (2, True)]
    assert isinstance(rec["events"][-1], RunFinished) and rec["ended"][0][1] == "done"
    assert (Path(rec["started"][0]) / "summary.json").is_file()
