"""A time budget on a machine in use: the Trainer with a fake clock whose steps slow down 5x for
two epochs and recover. The run spends its budget and ends on the schedule's final lr."""
import json

import pytest

from core.engine.budget_schedule import final_factor
from core.engine.checkpoint import load_checkpoint
from core.engine.events import EpochDone, StepDone
from core.engine.trainer import Trainer
from tests.core.engine.test_trainer import tiny


class StepClock:
    """Time moves only with the training steps: `cost(epoch)` seconds each (validation and
    checkpoints take no time), so the run sees exactly the machine the test describes."""

    def __init__(self, cost):
        self.t, self.cost = 0.0, cost

    def __call__(self) -> float:
        return self.t

    def on_event(self, ev) -> None:
        if isinstance(ev, StepDone):
            self.t += self.cost(ev.epoch)


def _run(cfg, cost, resume=False, stop_at=None):
    clock, events = StepClock(cost), []
    trainer = Trainer(cfg, [events.append], resume=resume, clock=clock)
    trainer.add_listener(clock.on_event)
    if stop_at is not None:
        trainer.add_listener(lambda e: isinstance(e, StepDone) and (e.epoch, e.epoch_step) == stop_at
                             and trainer.cancel())
    return trainer.run(), events


QUIET = lambda epoch: 1.0  # noqa: E731
BUSY = lambda epoch: 5.0 if epoch in (3, 4) else 1.0  # noqa: E731


@pytest.mark.parametrize("schedule", ["onecycle", "cosine"])
def test_a_slowdown_costs_steps_not_the_budget_or_the_schedule(synth_data, tmp_path, schedule):
    cfg = tiny(synth_data, tmp_path / "busy", epochs=200, time_budget=1.0, schedule=schedule,
               warmup_epochs=1, lr=1e-3)
    summary, events = _run(cfg, BUSY)
    spe = events[0].steps_per_epoch
    budget = summary["budget"]
    assert budget["used_share"] >= 0.95 and budget["used_s"] <= 60.0 + spe  # within one epoch of it
    epochs = [e for e in events if isinstance(e, EpochDone)]
    assert [e.seconds for e in epochs[2:4]] == [5.0 * spe] * 2 and epochs[5].seconds == spe
    assert budget["epoch_s"] == {"min": float(spe), "median": float(spe), "max": 5.0 * spe}
    # the schedule ran to its end: the optimizer holds the final lr, and the lr only fell after the warm-up
    st = load_checkpoint(tmp_path / "busy" / "last.pt")
    assert st["optimizer"]["param_groups"][0]["lr"] == pytest.approx(cfg.lr * final_factor(schedule), abs=1e-15)
    lrs = [e.lr for e in events if isinstance(e, StepDone)][spe:]
    assert lrs == sorted(lrs, reverse=True)
    # the same budget on a quiet machine: more steps, the same curve over the budget's share
    quiet, quiet_events = _run(cfg.replace(out=str(tmp_path / "quiet")), QUIET)
    assert quiet["budget"]["used_share"] >= 0.95
    busy_steps = len([e for e in events if isinstance(e, StepDone)])
    quiet_steps = len([e for e in quiet_events if isinstance(e, StepDone)])
    assert quiet_steps - busy_steps == pytest.approx(8 * spe, abs=spe)  # 2 epochs at 5x: 8 epochs' time
    # ETA is the budget's time left: 60 s less what the steps before took (this clock moves after
    # each step is reported)
    steps = [e for e in events if isinstance(e, StepDone)]
    assert [s.eta_s for s in steps[:3]] == pytest.approx([60.0, 59.0, 58.0]) and steps[-1].eta_s <= 5.0
    lines = [json.loads(x) for x in (tmp_path / "busy" / "metrics.jsonl").read_text().splitlines()]
    assert lines[-1]["epochs"] == len(lines) == summary["epochs"]


def test_a_shortened_last_epoch_is_said_and_the_run_resumes_inside_it(synth_data, tmp_path):
    # 2.5 s a step, 33 s: whole epochs, then the steps that are left of the budget
    cfg = tiny(synth_data, tmp_path / "r", epochs=200, time_budget=0.55, schedule="cosine", lr=1e-3)
    summary, events = _run(cfg, lambda epoch: 2.5)
    spe = events[0].steps_per_epoch
    epochs_done = summary["budget"]["epochs"]
    whole = int(33.0 // (2.5 * spe))  # epochs that fit whole
    left_steps = int((33.0 - whole * 2.5 * spe) // 2.5)
    assert 0 < left_steps < spe, "the test needs a budget that ends inside an epoch"
    assert summary["budget"]["last_epoch"] == (f"last epoch shortened to {left_steps} of {spe} steps "
                                               "to end within the budget")
    assert epochs_done == whole + 1 and summary["budget"]["used_s"] == pytest.approx(33.0 - 33.0 % 2.5)
    st = load_checkpoint(tmp_path / "r" / "last.pt")
    assert st["optimizer"]["param_groups"][0]["lr"] == pytest.approx(0.0, abs=1e-15)
    # stopped in the middle of the last epoch, --resume runs the rest of that epoch's plan
    cut = tiny(synth_data, tmp_path / "cut", epochs=200, time_budget=0.55, schedule="cosine", lr=1e-3)
    last_steps = [e for e in events if isinstance(e, StepDone) and e.epoch == epochs_done]
    stop_at = (epochs_done, max(1, len(last_steps) // 2))
    first, _ = _run(cut, lambda epoch: 2.5, stop_at=stop_at)
    assert first["cancelled"]
    resumed, more = _run(cut, lambda epoch: 2.5, resume=True)
    rest = [e for e in more if isinstance(e, StepDone)]
    assert [e.epoch_step for e in rest] == [e.epoch_step for e in last_steps][stop_at[1]:]
    assert [e.lr for e in rest] == pytest.approx([e.lr for e in last_steps][stop_at[1]:], rel=1e-9)
    assert not resumed["cancelled"] and resumed["epochs"] == summary["epochs"]
