"""The one queue loop (core.engine.queue.RunQueue) with scripted runs, so these take milliseconds;
test_trainer.py runs it over real Trainers. Also FollowedRun, which lets it drive torchrun."""
from __future__ import annotations

import threading
import time
from pathlib import Path
from types import SimpleNamespace

from core.config import TrainConfig
from core.engine.events import (QueuedRunEnded, QueuedRunStarted, RunFailed, RunFinished,
                                RunStarted)
from core.engine.queue import RunQueue
from core.engine.torchrun_run import FollowedRun


class ScriptedRun:
    """Trainer-like: `mode` ok | raise | runfailed | silent | wait (runs until cancelled)."""

    def __init__(self, cfg, listeners, mode="ok"):
        self.cfg, self.listeners, self.mode = cfg, listeners, mode
        self.cancelled = threading.Event()

    def cancel(self):
        self.cancelled.set()

    def _emit(self, ev):
        for fn in self.listeners:
            fn(ev)

    def run(self):
        if self.mode == "raise":
            raise KeyError("no such column")
        if self.mode == "runfailed":
            self._emit(RunFailed(self.cfg.out, "data folder vanished", "tb"))
            raise RuntimeError("data folder vanished")
        if self.mode == "silent":  # a torchrun rank other than 0 reports nothing
            return {"best_miou": 0.5, "cancelled": False}
        if self.mode == "wait":
            self.cancelled.wait(5)
        Path(self.cfg.out).mkdir(parents=True, exist_ok=True)  # as a Trainer does
        self._emit(RunStarted(self.cfg.out, {}, 0, 1, 1, 1, "cpu", "fp32", 0.0, 0))
        summary = {"name": self.cfg.name, "cancelled": self.cancelled.is_set()}
        self._emit(RunFinished(self.cfg.out, summary, self.cancelled.is_set()))
        return summary


def _queue(configs, modes, **kw):
    events, made = [], []
    modes = iter(modes)

    def make_run(cfg, listeners):
        made.append(ScriptedRun(cfg, listeners, next(modes)))
        return made[-1]

    return RunQueue(configs, [events.append], make_run=make_run, **kw), events, made


def _kinds(events):
    return [type(e).__name__ for e in events]


def test_each_run_is_framed_by_queue_events_and_gets_its_own_folder(tmp_path, monkeypatch):
    import core.run_names

    noon = time.mktime((2024, 5, 1, 12, 30, 0, 0, 0, -1))  # both runs start in the same second
    monkeypatch.setattr(core.run_names, "time", SimpleNamespace(
        strftime=time.strftime, localtime=lambda when=None: time.localtime(noon)))
    same = TrainConfig(arch="unet", encoder="resnet18", loss="ce+dice", optimizer="sgd")
    queue, events, made = _queue([same, same], ["ok", "ok"], runs_root=tmp_path)
    summaries = queue.run()
    assert _kinds(events) == ["QueuedRunStarted", "RunStarted", "RunFinished", "QueuedRunEnded"] * 2
    first, second = (m.cfg for m in made)
    assert first.out == str(tmp_path / "unet-resnet18-ce_dice-sgd-20240501-123000")
    assert second.out == first.out + "-2"  # same second, folder taken: a counter
    assert same.out == "" and same.name == ""  # the queue's copies get the folders
    assert [s["name"] for s in summaries] == [first.name, second.name]
    assert first.name == Path(first.out).name
    ends = [e for e in events if isinstance(e, QueuedRunEnded)]
    assert [(e.index, e.status, e.run_dir) for e in ends] == [(0, "done", first.out),
                                                                (1, "done", second.out)]


def test_a_failure_is_reported_once_and_the_queue_goes_on(tmp_path):
    configs = [TrainConfig(out=str(tmp_path / n)) for n in "abc"]
    queue, events, _ = _queue(configs, ["raise", "runfailed", "ok"])
    summaries = queue.run()
    assert summaries[:2] == [None, None] and summaries[2]["cancelled"] is False
    failed = [e for e in events if isinstance(e, RunFailed)]
    assert [(f.run_dir, f.message) for f in failed] == [
        (str(tmp_path / "a"), "'no such column'"),  # raised without RunFailed: sent by the queue
        (str(tmp_path / "b"), "data folder vanished")]  # sent by the run itself: not twice
    assert "KeyError" in failed[0].traceback
    statuses = [e.status for e in events if isinstance(e, QueuedRunEnded)]
    assert statuses == ["failed", "failed", "done"]


def test_a_run_that_reports_nothing_takes_its_status_from_its_summary(tmp_path):
    queue, events, _ = _queue([TrainConfig(out=str(tmp_path / "r"))], ["silent"])
    assert queue.run() == [{"best_miou": 0.5, "cancelled": False}]
    assert [e.status for e in events if isinstance(e, QueuedRunEnded)] == ["done"]


def test_cancel_stops_the_current_run_and_skips_the_rest(tmp_path):
    configs = [TrainConfig(out=str(tmp_path / n)) for n in "ab"]
    queue, events, made = _queue(configs, ["wait", "ok"])
    worker = threading.Thread(target=queue.run)
    worker.start()
    while queue.current is None:
        threading.Event().wait(0.001)
    queue.cancel()
    worker.join(5)
    assert not worker.is_alive() and len(made) == 1 and made[0].cancelled.is_set()
    assert queue.summaries == [{"name": "", "cancelled": True}, None]
    assert [type(e) for e in events if isinstance(e, (QueuedRunStarted, QueuedRunEnded))] == [
        QueuedRunStarted, QueuedRunEnded]
    assert events[-1].status == "cancelled" and queue.cancelled


def test_a_stop_before_the_run_is_registered_reaches_it(tmp_path):
    queue, _, made = _queue([TrainConfig(out=str(tmp_path / "a"))], ["wait"])
    queue._stop.set()  # Stop pressed while the queue was between two runs' set-up
    assert queue._run_one(0, queue.configs[0])["cancelled"] is True
    assert made[0].cancelled.is_set()


class ScriptedLaunch:
    """TorchrunRun's interface: two polls of events, or none until stopped (`hang`)."""

    def __init__(self, hang=False):
        self.hang, self.done = hang, False
        self.started = self.stop_requested = self.cleaned = False
        self.script = [[RunStarted("d", {}, 0, 1, 1, 1, "torchrun x2", "fp32", 0.0, 0)],
                       [RunFinished("d", {"best_miou": 0.25}, False)]]

    def start(self):
        self.started = True

    def poll(self):
        if self.stop_requested:
            self.script = [[RunFinished("d", {"cancelled": True}, True)]]
        elif self.hang and len(self.script) == 1:
            return []
        events = self.script.pop(0)
        self.done = not self.script
        return events

    def request_stop(self):
        assert self.started, "a stop before start() would be lost by a real torchrun launch"
        self.stop_requested = True

    def kill(self):
        self.stop_requested = True

    def cleanup(self):
        self.cleaned = True


def test_followed_run_hands_on_events_and_returns_the_summary():
    launch, seen = ScriptedLaunch(), []
    assert FollowedRun(launch, [seen.append], poll_s=0).run() == {"best_miou": 0.25}
    assert _kinds(seen) == ["RunStarted", "RunFinished"] and launch.cleaned


def test_followed_run_cancelled_before_start_stops_once_started():
    launch = ScriptedLaunch(hang=True)
    run = FollowedRun(launch, [], poll_s=0)
    run.cancel()
    assert run.run() == {"cancelled": True} and launch.stop_requested and launch.cleaned
