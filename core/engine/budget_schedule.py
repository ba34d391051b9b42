"""The learning rate of a run with a time budget: a function of the share of the budget used.

The same curves as core.optim (constant, poly, cosine after a linear warm-up; one cycle), but
their progress p is not step / total steps: the trainer anchors it at every epoch start to the
budget's measured share (core.engine.budget.next_epoch) and it moves in equal steps to the share
predicted for the epoch's end, 1 for the last epoch. The warm-up stays in optimizer steps (it
guards the first updates, whatever the clock says); the curve then runs over the rest of the
budget, from the progress at which the warm-up ended. A slowed machine thus takes fewer steps
along the same curve, and the run ends at the curve's final learning rate.

State is numbers only (checkpoint-safe with weights_only) and resumes mid-epoch exactly.
"""
from __future__ import annotations

import math

import torch

from core.optim import curve_at, schedule_name, warmup_factor

ONECYCLE_START = 1 / 25  # OneCycleLR's defaults: from max_lr / 25 up, then down to that / 1e4
ONECYCLE_END = ONECYCLE_START / 1e4
ONECYCLE_RAMP = 0.3  # without a warm-up, one cycle climbs over this share of the budget


def _cos_between(a: float, b: float, t: float) -> float:
    """From a (t = 0) to b (t = 1) along half a cosine, as OneCycleLR anneals."""
    t = min(max(t, 0.0), 1.0)
    return b + (a - b) * (1 + math.cos(math.pi * t)) / 2


def budget_factor(name: str, step: int, warmup_steps: int, q: float | None) -> float:
    """Multiplier of the base lr at optimizer step `step`; `q` is the progress (0..1) of the curve
    past the warm-up (None while still warming up)."""
    if name == "onecycle":
        if warmup_steps and step < warmup_steps:  # OneCycleLR's climb: max / 25 at step 0, max at step w
            return _cos_between(ONECYCLE_START, 1.0, step / warmup_steps)
        q = q or 0.0
        if warmup_steps:
            return _cos_between(1.0, ONECYCLE_END, q)
        if q < ONECYCLE_RAMP:
            return _cos_between(ONECYCLE_START, 1.0, q / ONECYCLE_RAMP)
        return _cos_between(1.0, ONECYCLE_END, (q - ONECYCLE_RAMP) / (1 - ONECYCLE_RAMP))
    if step < warmup_steps:
        return warmup_factor(step, warmup_steps)
    return curve_at(name, q or 0.0)


def final_factor(name: str) -> float:
    """The factor the schedule ends on (p = 1)."""
    return budget_factor(name, 10**9, 0, 1.0)


class BudgetSchedule:
    """Sets the optimizer's lr each step from the budget's progress (see the module docstring).

    Call `begin_epoch(start, end, steps)` before an epoch's first step; `step()` after each
    optimizer step, as for a torch scheduler."""

    def __init__(self, name: str, optimizer: torch.optim.Optimizer, warmup_steps: int = 0):
        self.name = schedule_name(name)
        self.optimizer = optimizer
        self.warmup_steps = int(warmup_steps)
        for g in optimizer.param_groups:
            g.setdefault("initial_lr", g["lr"])
        self.base_lrs = [float(g["initial_lr"]) for g in optimizer.param_groups]
        self.steps = 0  # optimizer steps taken
        self.warm_end: float | None = 0.0 if self.warmup_steps == 0 else None  # progress when warm-up ended
        self.start, self.end, self.epoch_steps, self.done = 0.0, 0.0, 1, 0
        self._apply()

    def begin_epoch(self, start: float, end: float, steps: int) -> None:
        self.start, self.end, self.epoch_steps, self.done = float(start), float(max(end, start)), max(int(steps), 1), 0
        self._apply()

    def progress(self) -> float:
        return self.start + (self.end - self.start) * min(self.done / self.epoch_steps, 1.0)

    def step(self) -> None:
        self.steps += 1
        self.done += 1
        self._apply()

    def factor(self) -> float:
        if self.warm_end is None and self.steps >= self.warmup_steps:
            self.warm_end = min(self.progress(), 0.999)
        q = None
        if self.warm_end is not None:
            q = (self.progress() - self.warm_end) / max(1.0 - self.warm_end, 1e-9)
        return budget_factor(self.name, self.steps, self.warmup_steps, q)

    def _apply(self) -> None:
        f = self.factor()
        for g, base in zip(self.optimizer.param_groups, self.base_lrs, strict=True):
            g["lr"] = base * f

    def get_last_lr(self) -> list[float]:
        return [g["lr"] for g in self.optimizer.param_groups]

    def state_dict(self) -> dict:
        return {"name": self.name, "warmup_steps": self.warmup_steps, "base_lrs": list(self.base_lrs),
                "steps": self.steps, "warm_end": self.warm_end, "start": self.start, "end": self.end,
                "epoch_steps": self.epoch_steps, "done": self.done}

    def load_state_dict(self, st: dict) -> None:
        self.warmup_steps, self.base_lrs = int(st["warmup_steps"]), [float(v) for v in st["base_lrs"]]
        self.steps, self.warm_end = int(st["steps"]), st["warm_end"]
        self.start, self.end = float(st["start"]), float(st["end"])
        self.epoch_steps, self.done = int(st["epoch_steps"]), int(st["done"])
        self._apply()
