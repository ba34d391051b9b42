"""A run's time budget: how many epochs fit in N minutes on the machine it runs on.

Why: camvid-fast is "the best recipe for 60 minutes of a 2-core CPU", but such
CPUs differ by 2-3x (AVX2 fp32, Zen 4 bf16, Zen 5 bf16; benchmarks/RESULTS.md), so a
fixed epoch count is either too long for a slow one or leaves time unused on a fast one. With
`time_budget` (minutes) `epochs` becomes a cap: after each of the first `PLAN_EPOCHS` epochs the
trainer times them and sets the epoch count that fits, so the learning-rate schedule is planned
over the run's real length (with a warm-up of that many epochs the rebuilt schedule is the one it
would have been from the start, core.optim.rebuild_scheduler). Epochs can slow down later (a
camvid-fast run at 270x360 on a 2-core Zen 4 CPU, 2026-12-02, planned 98 epochs from 33 s ones,
then they took 40 s and it ended at 65 minutes of 55), so after the planning epochs the plan is
checked after every epoch against the pace of the last `RECENT_EPOCHS`, and shortened when they
no longer fit; it is never lengthened then, since a longer schedule would raise a learning rate
that has already begun to fall.
"""
from __future__ import annotations

from collections.abc import Sequence

PLAN_EPOCHS = 3  # the plan is revised after each of these first epochs, then only shortened
RECENT_EPOCHS = 3  # later checks time the epochs to come by the mean of this many latest ones


def plan_epochs(budget_s: float, max_epochs: int, epoch_seconds: Sequence[float],
                recent: int | None = None) -> int:
    """Epochs (at least those done, at most `max_epochs`) that fit `budget_s` seconds, given the
    wall seconds of the epochs done so far (training + validation). The first epoch pays one-off
    costs (allocator warm-up, validation cache), so once later ones are timed it is left out of
    the per-epoch estimate, though its time still counts against the budget. With `recent` only
    that many latest epochs set the pace."""
    done = len(epoch_seconds)
    if done == 0:
        return max_epochs
    timed = list(epoch_seconds[1:] if done > 1 else epoch_seconds)
    if recent:
        timed = timed[-recent:]
    per_epoch = max(sum(timed) / len(timed), 1e-9)
    left = budget_s - sum(epoch_seconds)
    more = int(left // per_epoch) if left > 0 else 0
    return max(done, min(max_epochs, done + more))


def replan(budget_s: float, max_epochs: int, planned: int, epoch_seconds: Sequence[float]) -> int:
    """The plan after the epochs in `epoch_seconds`: set afresh during the first `PLAN_EPOCHS`,
    afterwards `planned` or fewer when the latest epochs' pace no longer fits the budget."""
    if len(epoch_seconds) <= PLAN_EPOCHS:
        return plan_epochs(budget_s, max_epochs, epoch_seconds)
    return min(planned, plan_epochs(budget_s, max_epochs, epoch_seconds, recent=RECENT_EPOCHS))
