"""GUI Stop latency: Stop pressed mid-epoch on a real (tiny) training in TrainView ends the run
as cancelled, with last.pt written, within 2 s (the promise on the Stop button's tooltip:
"Stop after the current step; last.pt is kept")."""
from __future__ import annotations

import time
from pathlib import Path

import pytest
from PySide6.QtWidgets import QMessageBox

STOP_LIMIT_S = 2.0


@pytest.fixture
def view(train_view, monkeypatch):
    monkeypatch.setattr(QMessageBox, "open", lambda self: pytest.fail(self.text()))  # any dialog fails
    return train_view


def test_stop_mid_epoch_ends_cancelled_with_last_checkpoint_within_2s(qtbot, view):
    from core.engine.events import StepDone

    f = view.form                         # baseline at the fixture's 64x96, CPU: quick steps
    f.arch.setCurrentText("baseline")
    f.height.setValue(64)
    f.width.setValue(96)
    f.batch_size.setValue(2)              # 12 training images -> 6 steps an epoch
    f.epochs.setValue(500)                # far more than can finish before Stop
    f.device.setCurrentText("cpu")
    f.augment.setCurrentText("none")
    f.schedule.setCurrentText("constant")

    finished: list[tuple[float, str]] = []   # (time on the UI thread, run dir)
    view.state.run_finished.connect(lambda d: finished.append((time.perf_counter(), d)))
    view.start()
    assert view.is_running()
    steps: list[StepDone] = []
    view.runner.worker.event.connect(
        lambda ev: steps.append(ev) if isinstance(ev, StepDone) else None)
    # an epoch's first steps are done: the worker is inside an epoch, not in validation
    qtbot.waitUntil(lambda: any(s.epoch_step in (1, 2) and s.epoch >= 2 for s in steps),
                    timeout=60_000)

    t0 = time.perf_counter()
    view.stop()                           # the slot Stop's button triggers
    # wait past the limit, so that a slow Stop fails with its measured latency, not a timeout
    qtbot.waitUntil(lambda: bool(finished), timeout=30_000)
    latency = finished[0][0] - t0
    run_dir = Path(finished[0][1])

    assert latency <= STOP_LIMIT_S, f"Stop took {latency:.2f} s"
    assert view.last_summary is not None and view.last_summary["cancelled"] is True
    assert (run_dir / "last.pt").is_file()
    assert "Cancelled" in view.status.text()
    # the thread ends first; the view's "thread finished" handler (queued) then resets the buttons
    qtbot.waitUntil(lambda: not view.is_running() and view.start_btn.isEnabled(), timeout=10_000)
    assert view.queue.entries[0][1] == "cancelled"
    assert not view.stop_btn.isEnabled()
