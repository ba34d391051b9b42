"""A run's time budget: the epochs go on while the minutes last, and the learning rate follows
the share of the budget used, not an epoch count guessed early.

Why: a budget is "the best recipe for N minutes of this machine", and the machine does other
things meanwhile (the app's own views, a browser, a backup). Planning an epoch count from the
first epochs and re-planning the schedule whenever an epoch ran slow made a 55-minute camvid-fast
run that was slowed twice for a minute or two end after 27 minutes on a schedule compressed to
42 epochs (the pace had recovered at once, but the plan only ever shrank). Here a slowdown costs
steps, never the shape of the schedule or the unused minutes:

- the schedule's progress (core.engine.budget_schedule) is the share of the budget used, anchored
  afresh at every epoch start from the measured time, moving step by step within the epoch (the
  same on every rank under torchrun: the times are averaged over ranks);
- before each epoch `next_epoch` decides from the latest pace: a whole epoch; or, when a whole
  one would overrun, one shortened to the steps that fit before the last validation (skipped
  when not one step fits). The last epoch's progress runs to 1, so the run ends on the
  schedule's final learning rate. Only a whole epoch after which not one more step would fit is
  planned as the last in advance: after a slow epoch the machine may be quick again, and an
  epoch planned as the last on a slow pace would leave the rest of the budget unused.

Budget time is the epochs' wall time (training, the waits for data, validation, checkpoints), as
in `epoch_seconds`; setup before the first epoch is not counted.
"""
from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

@dataclass(frozen=True)
class EpochPlan:
    """What the next epoch does: `steps` (0: the run ends), whether it is the `last`, the
    schedule's progress at its start and end, and a note on a shortened or skipped epoch."""

    steps: int
    last: bool
    progress_start: float
    progress_end: float
    note: str = ""


@dataclass
class Pace:
    """The latest epoch's pace: seconds per training step (data waits included) and the seconds
    of validation and checkpoints after the steps."""

    step_s: float
    overhead_s: float


def next_epoch(budget_s: float, used_s: float, pace: Pace | None, steps_per_epoch: int,
               epochs_done: int, max_epochs: int, progress: float = 0.0) -> EpochPlan:
    """The plan for epoch `epochs_done + 1` with `used_s` of `budget_s` seconds gone and the
    schedule at `progress`.

    The epoch starts at the budget's share used, or where the schedule already is if an epoch
    ran faster than its pace predicted (progress never goes back), and moves the remaining
    progress in proportion to the share of the remaining time its steps will take."""
    cap_reached = epochs_done + 1 >= max_epochs
    if pace is None:  # nothing timed yet: a whole epoch, its progress measured when it ends
        return EpochPlan(steps_per_epoch, cap_reached, 0.0, 1.0 if cap_reached else 0.0)
    step_s = max(pace.step_s, 1e-9)
    usable = max(budget_s - pace.overhead_s, 1e-9)  # the last steps end where the last validation starts
    start = min(max(used_s / usable, progress), 1.0)
    left = usable - used_s
    fit = int(left // step_s) if left > 0 else 0
    if fit >= steps_per_epoch:
        # the last whole epoch: not one step of another would fit after it (its validation included)
        last = cap_reached or left - steps_per_epoch * step_s - pace.overhead_s < step_s
        end = 1.0 if last else start + (1.0 - start) * min(steps_per_epoch * step_s / left, 1.0)
        return EpochPlan(steps_per_epoch, last, start, end)
    if fit >= 1:
        return EpochPlan(fit, True, start, 1.0,
                         f"last epoch shortened to {fit} of {steps_per_epoch} steps to end within the budget")
    return EpochPlan(0, True, start, start,
                     f"epoch {epochs_done + 1} skipped: {max(budget_s - used_s, 0):.0f} s of the budget left, "
                     f"less than a step ({step_s:.1f} s) and a validation ({pace.overhead_s:.0f} s)")


def epochs_estimate(budget_s: float, used_s: float, pace: Pace | None, steps_per_epoch: int,
                    epochs_done: int, max_epochs: int) -> int:
    """Epochs the run will have in all at the latest pace, a shortened last one included (what
    progress displays show)."""
    if pace is None:
        return max_epochs
    epoch_s = steps_per_epoch * pace.step_s + pace.overhead_s
    more = math.ceil(max(budget_s - used_s - pace.overhead_s, 0.0) / max(epoch_s, 1e-9) - 1e-9)
    return max(epochs_done, min(max_epochs, epochs_done + more))


def describe_use(budget_s: float, epoch_seconds: Sequence[float], note: str) -> dict:
    """summary.json's record of the budget: how much was used and how the pace varied."""
    used = float(sum(epoch_seconds))
    out = {"budget_s": round(budget_s, 1), "used_s": round(used, 1),
           "used_share": round(used / budget_s, 4) if budget_s else None,
           "epochs": len(epoch_seconds), "last_epoch": note or "whole"}
    if epoch_seconds:
        out["epoch_s"] = {"min": round(min(epoch_seconds), 2), "median": round(statistics.median(epoch_seconds), 2),
                          "max": round(max(epoch_seconds), 2)}
    return out
