"""EvalWorker/EvalRunner: core.evaluate runs off the UI thread with progress, a result equal to a
direct core call, cancel between images, and failures reported as messages (never raised)."""
from __future__ import annotations

import threading

import numpy as np
import pytest

from core.data.source import open_dataset
from core.evaluate import evaluate
from guiapp.workers.eval_worker import EvalRunner
from tests.guiapp.tiny_runs import tiny_runs


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory, synth_data):
    return tiny_runs(tmp_path_factory, synth_data) / "base-adam"


def collect(worker):
    got = {"progress": [], "finished": [], "failed": [], "cancelled": []}
    worker.progress.connect(lambda d, t: got["progress"].append((d, t)))
    worker.finished.connect(got["finished"].append)
    worker.failed.connect(lambda m, tb: got["failed"].append(m))
    worker.cancelled.connect(lambda: got["cancelled"].append(1))
    return got


def test_runs_to_completion_and_matches_core(qtbot, run_dir, synth_data):
    source = open_dataset(synth_data)
    runner = EvalRunner()
    got = {}
    with qtbot.waitSignal(runner.done, timeout=120_000):
        runner.start(run_dir / "best.pt", source, "val", lambda w: got.update(collect(w)))
    assert not got["failed"] and not got["cancelled"]
    (result,) = got["finished"]
    n = len(source.samples("val"))
    assert got["progress"][-1] == (n, n)
    direct = evaluate(run_dir / "best.pt", source, "val")
    np.testing.assert_array_equal(result.matrix, direct.matrix)
    assert result.names == direct.names and result.per_image_matrices.shape[0] == n
    assert not runner.is_running()


def test_evaluate_runs_off_the_ui_thread(qtbot):
    seen = {}

    def fake_evaluate(ckpt, source, split, progress=None, cancel=None):
        seen["thread"] = threading.current_thread()
        progress(1, 1)
        return "result"

    runner = EvalRunner()
    got = {}
    with qtbot.waitSignal(runner.done, timeout=10_000):
        runner.start("x.pt", None, "val", lambda w: got.update(collect(w)),
                     evaluate_fn=fake_evaluate)
    assert seen["thread"] is not threading.main_thread()
    assert got["finished"] == ["result"] and got["progress"] == [(1, 1)]


def test_cancel_stops_between_images(qtbot):
    release = threading.Event()

    def slow_evaluate(ckpt, source, split, progress=None, cancel=None):
        for i in range(1000):
            release.wait(5)
            if cancel():
                class R:
                    cancelled = True
                return R()
            progress(i + 1, 1000)
        raise AssertionError("never cancelled")

    runner = EvalRunner()
    got = {}
    with qtbot.waitSignal(runner.done, timeout=10_000):
        worker = runner.start("x.pt", None, "val", lambda w: got.update(collect(w)),
                              evaluate_fn=slow_evaluate)
        runner.cancel()
        release.set()
    assert worker.cancel_requested
    assert got["cancelled"] == [1] and not got["finished"] and not got["failed"]


def test_real_cancel_returns_cancelled(qtbot, run_dir, synth_data):
    runner = EvalRunner()
    got = {}
    source = open_dataset(synth_data)
    with qtbot.waitSignal(runner.done, timeout=60_000):
        runner.start(run_dir / "best.pt", source, "val", lambda w: (got.update(collect(w)),
                                                                    w.cancel()))
    assert got["cancelled"] == [1] and not got["finished"]


def test_failure_is_a_message(qtbot, tmp_path, synth_data):
    runner = EvalRunner()
    got = {}
    with qtbot.waitSignal(runner.done, timeout=60_000):
        runner.start(tmp_path / "missing.pt", open_dataset(synth_data), "val",
                     lambda w: got.update(collect(w)))
    assert len(got["failed"]) == 1 and "missing.pt" in got["failed"][0]
    assert runner.wait() is True


def test_one_at_a_time(qtbot):
    release = threading.Event()

    def blocking(ckpt, source, split, progress=None, cancel=None):
        release.wait(10)
        return "r"

    runner = EvalRunner()
    with qtbot.waitSignal(runner.done, timeout=15_000):
        runner.start("x.pt", None, "val", evaluate_fn=blocking)
        with pytest.raises(RuntimeError):
            runner.start("x.pt", None, "val", evaluate_fn=blocking)
        release.set()
