"""TorchrunRun turns a launched run's files into the Trainer's events. A small script stands in
for torchrun here (it writes the run folder as rank 0 would); the real thing is exercised in
test_distributed.py."""
from __future__ import annotations

import sys
import textwrap
import time

import pytest

from core.config import TrainConfig
from core.engine.events import EpochDone, RunFailed, RunFinished, RunStarted, StepDone
from core.engine.torchrun_run import TorchrunRun

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX process groups")

FAKE = """
import json, os, signal, sys, time
out, epochs, mode = sys.argv[1], int(sys.argv[2]), sys.argv[3]
stop = []
signal.signal(signal.SIGINT, lambda *a: stop.append(1))
os.makedirs(out, exist_ok=True)
open(os.path.join(out, "metrics.jsonl"), "w").close()
if mode == "fail":
    print("roadseg: error: the dataset vanished", file=sys.stderr)
    sys.exit(2)
planned = 2 if mode == "budget" else epochs  # a time budget that fits 2 epochs
for e in range(1, planned + 1):
    if stop:
        break
    time.sleep(0.2)
    rec = {"epoch": e, "train_loss": 1.0 / e, "val_loss": 2.0 / e, "miou": [0.2, 0.4, 0.3][e - 1],
           "pixel_acc": 0.5, "iou": [0.1, None], "lr": 0.01, "seconds": 0.2, "epochs": planned}
    with open(os.path.join(out, "metrics.jsonl"), "a") as f:
        f.write(json.dumps(rec) + "\\n")
    if mode == "wait":
        while not stop:
            time.sleep(0.05)
json.dump({"best_miou": 0.4, "cancelled": bool(stop)}, open(os.path.join(out, "summary.json"), "w"))
sys.exit(130 if stop else 0)
"""


def _run(tmp_path, mode: str, epochs: int = 3) -> TorchrunRun:
    script = tmp_path / "fake_torchrun.py"
    script.write_text(textwrap.dedent(FAKE))
    out = tmp_path / "run"
    cfg = TrainConfig(data=str(tmp_path), arch="baseline", epochs=epochs, out=str(out))
    run = TorchrunRun(cfg, 2, command=[sys.executable, str(script), str(out), str(epochs), mode],
                      with_cost=False, stop_timeout=20)
    run.start()
    return run


def _follow(run: TorchrunRun, on_event=None, timeout: float = 60) -> list:
    events, end = [], time.monotonic() + timeout
    while not run.done:
        assert time.monotonic() < end, "timed out"
        for ev in run.poll():
            events.append(ev)
            if on_event:
                on_event(ev)
        time.sleep(0.05)
    run.cleanup()
    return events


def test_epochs_become_events_and_the_summary_ends_the_run(tmp_path):
    events = _follow(_run(tmp_path, "ok"))
    assert isinstance(events[0], RunStarted) and events[0].total_epochs == 3
    assert events[0].device == "torchrun x2"
    epochs = [e for e in events if isinstance(e, EpochDone)]
    assert [e.epoch for e in epochs] == [1, 2, 3]
    assert [e.is_best for e in epochs] == [True, True, False]
    steps = [e for e in events if isinstance(e, StepDone)]
    assert [s.step for s in steps] == [1, 2, 3] and steps[0].loss == pytest.approx(1.0)
    assert isinstance(events[-1], RunFinished) and not events[-1].cancelled
    assert events[-1].summary["best_miou"] == 0.4


def test_a_time_budget_plan_reaches_the_events(tmp_path):
    events = _follow(_run(tmp_path, "budget", epochs=3))
    assert events[0].total_epochs == 3  # the cap, until the run says otherwise
    assert [e.total_epochs for e in events if isinstance(e, EpochDone)] == [2, 2]
    assert [s.eta_s for s in events if isinstance(s, StepDone)] == pytest.approx([0.2, 0.0])


def test_a_failed_run_reports_its_error_line(tmp_path):
    events = _follow(_run(tmp_path, "fail"))
    assert isinstance(events[-1], RunFailed)
    assert events[-1].message == "roadseg: error: the dataset vanished"
    assert "dataset vanished" in events[-1].traceback


def test_stop_ends_the_run_as_cancelled(tmp_path):
    run = _run(tmp_path, "wait")
    events = _follow(run, lambda ev: isinstance(ev, EpochDone) and run.request_stop())
    assert [e.epoch for e in events if isinstance(e, EpochDone)] == [1]
    assert isinstance(events[-1], RunFinished) and events[-1].cancelled
    assert run.process.poll() == 130
