"""Optimizers and per-step learning-rate schedules by name.

Schedules are plain torch schedulers, so their ``state_dict()`` holds only numbers and strings
(checkpoint-safe with ``weights_only=True``) and a resumed run continues the same curve. Each is
stepped once per optimizer step; the lr used for step ``s`` (0-based) is the lr after ``s`` calls
to ``scheduler.step()``.

- ``constant``, ``poly``, ``cosine``: one ``LambdaLR`` whose factor is a pure function of the step,
  so there is no hidden state beyond the step count. With ``warmup_steps = w`` the factor ramps
  linearly ``1/(w+1), 2/(w+1), ... w/(w+1)``, then the main curve runs over the remaining
  ``T - w`` steps with ``p = (s - w) / (T - w)``: poly ``(1 - p)^0.9``, cosine
  ``(1 + cos(pi p)) / 2``. Both reach 0 only at ``s = T`` (never used for an update), and past
  ``T`` they stay at 0 instead of raising.
- ``onecycle``: torch ``OneCycleLR`` with ``max_lr`` = the optimizer's lr and torch's defaults
  (start at lr/25, cosine up then down to lr/25/1e4). Its own ramp replaces the warm-up: the
  peak lr is at step ``warmup_steps`` as for the other schedules (``pct_start = (w + 1) / T``;
  ``warmup_steps = 0`` means torch's default ``pct_start`` of 0.3), kept within steps 1..T-2
  because OneCycleLR divides by zero when the peak is the first or the last step.
  Momentum is *not* cycled, so the optimizer's momentum stays what the config says. It raises if
  stepped more than ``T`` times.

When resuming, create the scheduler *before* ``optimizer.load_state_dict`` (creating a scheduler
rewrites the optimizer's lr), then ``scheduler.load_state_dict``.
"""
from __future__ import annotations

import math
from collections.abc import Iterable

import torch
from torch.optim.lr_scheduler import LambdaLR, LRScheduler, OneCycleLR

from core.errors import ConfigError

OPTIMIZERS = ("adam", "adamw", "sgd", "rmsprop")
SCHEDULES = ("constant", "poly", "cosine", "onecycle")

POLY_POWER = 0.9
ONECYCLE_DEFAULT_PCT = 0.3


def _pick(kind: str, name: str, choices: tuple[str, ...]) -> str:
    key = str(name).strip().lower()
    if key not in choices:
        raise ConfigError(f"{kind}: unknown {kind} {name!r}; choose one of {', '.join(choices)}")
    return key


def create_optimizer(name: str, params: Iterable, lr: float, weight_decay: float = 1e-4,
                     momentum: float = 0.9, nesterov: bool = False) -> torch.optim.Optimizer:
    """Build an optimizer by name (see ``OPTIMIZERS``). ``momentum`` applies to sgd and rmsprop;
    ``nesterov`` to sgd only. Adam adds weight decay to the gradient (L2); AdamW decouples it."""
    key = _pick("optimizer", name, OPTIMIZERS)
    if not (lr > 0 and math.isfinite(lr)):
        raise ConfigError(f"optimizer: lr must be a positive number, got {lr}")
    if not (weight_decay >= 0 and math.isfinite(weight_decay)):
        raise ConfigError(f"optimizer: weight_decay must be >= 0, got {weight_decay}")
    if not 0 <= momentum < 1:
        raise ConfigError(f"optimizer: momentum must be in [0, 1), got {momentum}")
    if nesterov and (key != "sgd" or momentum == 0):
        raise ConfigError("optimizer: nesterov needs optimizer 'sgd' with momentum > 0 "
                          f"(got optimizer {key!r}, momentum {momentum})")
    params = list(params)
    if key == "adam":
        return torch.optim.Adam(params, lr=lr, weight_decay=weight_decay)
    if key == "adamw":
        return torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay)
    if key == "sgd":
        return torch.optim.SGD(params, lr=lr, momentum=momentum, weight_decay=weight_decay,
                               nesterov=nesterov)
    return torch.optim.RMSprop(params, lr=lr, momentum=momentum, weight_decay=weight_decay)


def lr_factor(name: str, step: int, total_steps: int, warmup_steps: int = 0) -> float:
    """Multiplier of the base lr at ``step`` for constant/poly/cosine (what the LambdaLR uses;
    also handy for plotting the curve before training). Not for ``onecycle``."""
    if name not in ("constant", "poly", "cosine"):
        raise ConfigError(f"schedule: lr_factor covers constant, poly and cosine, not {name!r}")
    w = min(warmup_steps, total_steps)
    if step < w:
        return (step + 1) / (w + 1)
    p = min(max((step - w) / max(total_steps - w, 1), 0.0), 1.0)
    if name == "poly":
        return (1.0 - p) ** POLY_POWER
    if name == "cosine":
        return 0.5 * (1.0 + math.cos(math.pi * p))
    return 1.0


def create_scheduler(name: str, optimizer: torch.optim.Optimizer, total_steps: int,
                     warmup_steps: int = 0) -> LRScheduler:
    """Build a per-step lr schedule by name (see ``SCHEDULES`` and the module docstring)."""
    key = _pick("schedule", name, SCHEDULES)
    if int(total_steps) != total_steps or total_steps < 1:
        raise ConfigError(f"schedule: total_steps must be a positive integer, got {total_steps}")
    if int(warmup_steps) != warmup_steps or warmup_steps < 0:
        raise ConfigError(f"schedule: warmup_steps must be an integer >= 0, got {warmup_steps}")
    total_steps, warmup_steps = int(total_steps), int(warmup_steps)
    if key == "onecycle":
        return OneCycleLR(optimizer, max_lr=[g["lr"] for g in optimizer.param_groups],
                          total_steps=total_steps,
                          pct_start=_onecycle_pct(total_steps, warmup_steps),
                          cycle_momentum=False)

    def factor(step: int) -> float:
        return lr_factor(key, step, total_steps, warmup_steps)

    return LambdaLR(optimizer, factor)


def _onecycle_pct(total_steps: int, warmup_steps: int) -> float:
    """OneCycleLR's pct_start putting the peak at step ``warmup_steps`` (its phase 1 ends at step
    ``pct_start * T - 1``), clamped to steps 1..T-2 where its phase maths is defined."""
    if warmup_steps == 0 or total_steps < 3:
        return ONECYCLE_DEFAULT_PCT  # T < 3 is too short for a ramp; torch still steps fine
    return min(max(warmup_steps + 1, 2), total_steps - 1) / total_steps


def rebuild_scheduler(name: str, optimizer: torch.optim.Optimizer, total_steps: int,
                      warmup_steps: int, steps_done: int) -> LRScheduler:
    """The schedule over a new length, at the step a run has reached (a time budget re-planning
    its epochs, core.engine.budget). The base lr comes back first (OneCycleLR takes its max_lr
    from the optimizer's current lr). With a warm-up (``warmup_steps > 0``; onecycle without one
    ramps over 30% of its length) and ``steps_done`` inside it, every schedule here has had the
    same lrs whatever its length, so the result is the schedule the run would have had from the
    start; otherwise the lr moves onto the new curve at that step."""
    for group in optimizer.param_groups:
        group["lr"] = group.get("max_lr", group.get("initial_lr", group["lr"]))
        group.pop("initial_lr", None)
    scheduler = create_scheduler(name, optimizer, total_steps, warmup_steps)
    for _ in range(min(int(steps_done), int(total_steps))):
        scheduler.step()
    return scheduler
