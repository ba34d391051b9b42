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

Each optimizer and schedule is registered once (``register_optimizer``, ``register_schedule``,
``register_curve`` for a warm-up + curve LambdaLR) with a help line; ``roadseg train``'s flags and
the Train view's dropdowns list the registries, so a new one appears there without other edits.

When resuming, create the scheduler *before* ``optimizer.load_state_dict`` (creating a scheduler
rewrites the optimizer's lr), then ``scheduler.load_state_dict``.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import torch
from torch.optim.lr_scheduler import LambdaLR, LRScheduler, OneCycleLR

from core.errors import ConfigError

POLY_POWER = 0.9
ONECYCLE_DEFAULT_PCT = 0.3


@dataclass(frozen=True)
class OptimizerSpec:
    """An optimizer by name: how to build it, a help line, and whether it takes ``nesterov``."""

    name: str
    build: Callable[..., torch.optim.Optimizer]  # (params, lr, weight_decay, momentum, nesterov)
    help: str
    nesterov: bool = False


@dataclass(frozen=True)
class ScheduleSpec:
    """A per-step lr schedule by name: how to build it and a help line."""

    name: str
    build: Callable[[torch.optim.Optimizer, int, int], LRScheduler]  # (opt, total, warmup)
    help: str


_OPTIMIZERS: dict[str, OptimizerSpec] = {}
_SCHEDULES: dict[str, ScheduleSpec] = {}
_CURVES: dict[str, Callable[[float], float]] = {}  # LambdaLR schedules: factor at progress p


def register_optimizer(name: str, help: str, nesterov: bool = False):
    """Decorator: `build(params, lr, weight_decay, momentum, nesterov) -> Optimizer` under
    `name` (arguments already checked by `create_optimizer`)."""
    def deco(build):
        _OPTIMIZERS[name] = OptimizerSpec(name, build, help, nesterov)
        return build
    return deco


def register_schedule(name: str, help: str):
    """Decorator: `build(optimizer, total_steps, warmup_steps) -> LRScheduler` under `name`."""
    def deco(build):
        _SCHEDULES[name] = ScheduleSpec(name, build, help)
        return build
    return deco


def register_curve(name: str, help: str):
    """Decorator: a warm-up then `curve(p)` (p: progress 0..1 past the warm-up, result: factor of
    the base lr) as a LambdaLR schedule under `name`; `lr_factor` reads the same curve."""
    def deco(curve):
        _CURVES[name] = curve

        def build(optimizer, total_steps, warmup_steps):
            return LambdaLR(optimizer, lambda step: lr_factor(name, step, total_steps, warmup_steps))

        register_schedule(name, help)(build)
        return curve
    return deco


def optimizer_specs() -> dict[str, OptimizerSpec]:
    return dict(_OPTIMIZERS)


def schedule_specs() -> dict[str, ScheduleSpec]:
    return dict(_SCHEDULES)


@register_optimizer("adam", "Adam, weight decay added to the gradient (L2)")
def _adam(params, lr, weight_decay, momentum, nesterov):
    return torch.optim.Adam(params, lr=lr, weight_decay=weight_decay)


@register_optimizer("adamw", "AdamW, decoupled weight decay")
def _adamw(params, lr, weight_decay, momentum, nesterov):
    return torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay)


@register_optimizer("sgd", "SGD with momentum (nesterov optional)", nesterov=True)
def _sgd(params, lr, weight_decay, momentum, nesterov):
    return torch.optim.SGD(params, lr=lr, momentum=momentum, weight_decay=weight_decay,
                           nesterov=nesterov)


@register_optimizer("rmsprop", "RMSprop with momentum")
def _rmsprop(params, lr, weight_decay, momentum, nesterov):
    return torch.optim.RMSprop(params, lr=lr, momentum=momentum, weight_decay=weight_decay)


@register_curve("constant", "the base lr throughout")
def _constant(p: float) -> float:
    return 1.0


@register_curve("poly", f"(1 - p)^{POLY_POWER:g} decay to 0")
def _poly(p: float) -> float:
    return (1.0 - p) ** POLY_POWER


@register_curve("cosine", "half a cosine down to 0")
def _cosine(p: float) -> float:
    return 0.5 * (1.0 + math.cos(math.pi * p))


@register_schedule("onecycle", "one cycle: up from lr/25 to lr, then down to lr/25/1e4")
def _onecycle(optimizer, total_steps, warmup_steps):
    return OneCycleLR(optimizer, max_lr=[g["lr"] for g in optimizer.param_groups],
                      total_steps=total_steps, pct_start=_onecycle_pct(total_steps, warmup_steps),
                      cycle_momentum=False)


OPTIMIZERS = tuple(_OPTIMIZERS)
SCHEDULES = tuple(_SCHEDULES)


def _pick(kind: str, name: str, choices) -> str:
    key = str(name).strip().lower()
    if key not in choices:
        raise ConfigError(f"{kind}: unknown {kind} {name!r}; choose one of {', '.join(choices)}")
    return key


def create_optimizer(name: str, params: Iterable, lr: float, weight_decay: float = 1e-4,
                     momentum: float = 0.9, nesterov: bool = False) -> torch.optim.Optimizer:
    """Build an optimizer by name (see ``OPTIMIZERS``). ``momentum`` applies to sgd and rmsprop;
    ``nesterov`` to sgd only. Adam adds weight decay to the gradient (L2); AdamW decouples it."""
    key = _pick("optimizer", name, _OPTIMIZERS)
    if not (lr > 0 and math.isfinite(lr)):
        raise ConfigError(f"optimizer: lr must be a positive number, got {lr}")
    if not (weight_decay >= 0 and math.isfinite(weight_decay)):
        raise ConfigError(f"optimizer: weight_decay must be >= 0, got {weight_decay}")
    if not 0 <= momentum < 1:
        raise ConfigError(f"optimizer: momentum must be in [0, 1), got {momentum}")
    if nesterov and (not _OPTIMIZERS[key].nesterov or momentum == 0):
        takers = " or ".join(repr(s.name) for s in _OPTIMIZERS.values() if s.nesterov)
        raise ConfigError(f"optimizer: nesterov needs optimizer {takers} with momentum > 0 "
                          f"(got optimizer {key!r}, momentum {momentum})")
    return _OPTIMIZERS[key].build(list(params), lr, weight_decay, momentum, nesterov)


def warmup_factor(step: int, warmup_steps: int) -> float:
    """The linear warm-up's factor at `step` < `warmup_steps`: 1/(w+1), 2/(w+1), ... w/(w+1)."""
    return (step + 1) / (warmup_steps + 1)


def lr_factor(name: str, step: int, total_steps: int, warmup_steps: int = 0) -> float:
    """Multiplier of the base lr at ``step`` for constant/poly/cosine (what the LambdaLR uses;
    also handy for plotting the curve before training). Not for ``onecycle``."""
    curve = _CURVES.get(name)
    if curve is None:
        *first, last = _CURVES
        raise ConfigError(f"schedule: lr_factor covers {', '.join(first)} and {last}, not {name!r}")
    w = min(warmup_steps, total_steps)
    if step < w:
        return warmup_factor(step, w)
    return curve(min(max((step - w) / max(total_steps - w, 1), 0.0), 1.0))


def create_scheduler(name: str, optimizer: torch.optim.Optimizer, total_steps: int,
                     warmup_steps: int = 0) -> LRScheduler:
    """Build a per-step lr schedule by name (see ``SCHEDULES`` and the module docstring)."""
    key = _pick("schedule", name, _SCHEDULES)
    if int(total_steps) != total_steps or total_steps < 1:
        raise ConfigError(f"schedule: total_steps must be a positive integer, got {total_steps}")
    if int(warmup_steps) != warmup_steps or warmup_steps < 0:
        raise ConfigError(f"schedule: warmup_steps must be an integer >= 0, got {warmup_steps}")
    return _SCHEDULES[key].build(optimizer, int(total_steps), int(warmup_steps))


def _onecycle_pct(total_steps: int, warmup_steps: int) -> float:
    """OneCycleLR's pct_start putting the peak at step ``warmup_steps`` (its phase 1 ends at step
    ``pct_start * T - 1``), clamped to steps 1..T-2 where its phase maths is defined."""
    if warmup_steps == 0 or total_steps < 3:
        return ONECYCLE_DEFAULT_PCT  # T < 3 is too short for a ramp; torch still steps fine
    return min(max(warmup_steps + 1, 2), total_steps - 1) / total_steps


def schedule_name(name: str) -> str:
    """The registered schedule `name` (case-insensitive); ConfigError listing them otherwise."""
    return _pick("schedule", name, _SCHEDULES)


def curve_at(name: str, p: float) -> float:
    """Factor of the base lr of the warm-up + curve schedule `name` at progress p (0..1) past its
    warm-up; core.engine.budget_schedule runs the same curves over a time budget."""
    return _CURVES[name](min(max(p, 0.0), 1.0))
