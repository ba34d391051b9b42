"""core.engine.budget: which epoch comes next under a time budget, hand-computed; and
core.engine.budget_schedule: the lr as a function of the budget's share used."""
import math

import pytest
import torch

from core.engine.budget import Pace, describe_use, epochs_estimate, next_epoch
from core.engine.budget_schedule import ONECYCLE_END, ONECYCLE_START, BudgetSchedule, final_factor
from core.optim import create_scheduler

P = Pace(step_s=1.0, overhead_s=2.0)  # 10 steps + 2 s of validation: 12 s an epoch


def test_the_first_epoch_is_whole_and_not_anchored():
    plan = next_epoch(100.0, 0.0, None, 10, 0, 50)
    assert (plan.steps, plan.last, plan.progress_start, plan.progress_end) == (10, False, 0.0, 0.0)
    assert next_epoch(100.0, 0.0, None, 10, 0, 1).last  # --epochs 1: the cap makes it the last


@pytest.mark.parametrize("used, last, end", [
    (12.0, False, 22 / 98),  # usable = 100 - 2 (the last validation); progress moves 10 steps' worth
    (75.0, False, 85 / 98),  # 23 s usable left: after this epoch 11 s, 9 usable: steps still fit
    (86.0, True, 1.0),       # 12 s usable left: after it 0 s, not a step more: this is the last one
])
def test_whole_epochs_and_the_last_one(used, last, end):
    plan = next_epoch(100.0, used, P, 10, 3, 50)
    assert plan.steps == 10 and plan.last is last and not plan.note
    assert plan.progress_start == pytest.approx(used / 98) and plan.progress_end == pytest.approx(end)


def test_progress_never_goes_back_after_a_quick_epoch():
    # the schedule is at 0.5 though only 39 of 98 usable seconds are gone (the last epoch was
    # planned on a slow pace): it stays at 0.5 and spreads the other half over the 59 s left
    plan = next_epoch(100.0, 39.0, P, 10, 5, 50, progress=0.5)
    assert plan.progress_start == 0.5 and plan.progress_end == pytest.approx(0.5 + 0.5 * 10 / 59)
    behind = next_epoch(100.0, 49.0, P, 10, 5, 50, progress=0.3)  # a slow epoch: on to the share used
    assert behind.progress_start == pytest.approx(0.5)


def test_a_last_epoch_that_would_overrun_is_shortened_or_skipped():
    short = next_epoch(100.0, 91.0, P, 10, 7, 50)  # 7 s usable left: 7 of 10 steps
    assert (short.steps, short.last, short.progress_end) == (7, True, 1.0)
    assert short.note == "last epoch shortened to 7 of 10 steps to end within the budget"
    assert next_epoch(100.0, 97.0, P, 10, 8, 50).steps == 1  # one step still fits: it runs
    skip = next_epoch(100.0, 97.5, P, 10, 8, 50)  # half a step fits
    assert skip.steps == 0 and skip.note.startswith("epoch 9 skipped: 2 s of the budget left")
    assert next_epoch(100.0, 12.0, P, 10, 49, 50).last  # the cap


def test_estimate_and_summary_record():
    assert epochs_estimate(100.0, 24.0, P, 10, 2, 50) == 2 + 7  # 74 s usable: 6 epochs and a shortened one
    assert epochs_estimate(100.0, 38.0, P, 10, 2, 50) == 2 + 5  # 60 s usable: exactly 5 epochs
    assert epochs_estimate(100.0, 24.0, P, 10, 2, 5) == 5
    assert epochs_estimate(100.0, 24.0, None, 10, 2, 50) == 50
    rec = describe_use(60.0, [12.0, 6.0, 30.0], "")
    assert rec == {"budget_s": 60.0, "used_s": 48.0, "used_share": 0.8, "epochs": 3, "last_epoch": "whole",
                   "epoch_s": {"min": 6.0, "median": 12.0, "max": 30.0}}


def _sched(name, warmup, lr=0.1):
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=lr)
    return opt, BudgetSchedule(name, opt, warmup)


def test_cosine_follows_the_budget_share_not_the_step_count():
    opt, s = _sched("cosine", 0)
    s.begin_epoch(0.0, 0.5, 4)  # this epoch moves the progress from 0 to 0.5 in 4 steps
    lrs = []
    for _ in range(4):
        lrs.append(opt.param_groups[0]["lr"])
        s.step()
    assert lrs == pytest.approx([0.1 * 0.5 * (1 + math.cos(math.pi * p)) for p in (0, 0.125, 0.25, 0.375)])
    s.begin_epoch(0.9, 1.0, 2)  # a slow machine: the next epoch starts at 90 % of the budget
    assert opt.param_groups[0]["lr"] == pytest.approx(0.05 * (1 + math.cos(math.pi * 0.9)))
    s.step(), s.step()
    assert opt.param_groups[0]["lr"] == pytest.approx(0.0, abs=1e-12)  # ends on the final lr


def test_warmup_in_steps_then_the_curve_over_the_rest_of_the_budget():
    opt, s = _sched("poly", 3)
    s.begin_epoch(0.0, 0.2, 10)
    lrs = []
    for _ in range(10):
        lrs.append(opt.param_groups[0]["lr"])
        s.step()
    assert lrs[:3] == pytest.approx([0.1 * k / 4 for k in (1, 2, 3)])  # (step + 1) / (w + 1)
    # warm-up ended at progress 0.06 (3 of 10 steps of 0..0.2): the curve runs from there to 1
    q = [(0.02 * k - 0.06) / 0.94 for k in range(3, 10)]
    assert lrs[3:] == pytest.approx([0.1 * (1 - v) ** 0.9 for v in q])


def test_onecycle_matches_torch_on_a_steady_machine():
    """With the budget's share growing exactly as the steps do, the budget one-cycle is torch's
    OneCycleLR as the step-count schedule builds it."""
    total, warm = 40, 5
    opt, s = _sched("onecycle", warm)
    ref_opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    ref = create_scheduler("onecycle", ref_opt, total, warm)
    # the curve starts where the warm-up ends: the epochs cover progress (warm)/total .. 1
    got, want = [], []
    for epoch in range(4):
        s.begin_epoch(epoch / 4, (epoch + 1) / 4, 10)
        for _ in range(10):
            got.append(opt.param_groups[0]["lr"])
            want.append(ref_opt.param_groups[0]["lr"])
            s.step(), ref_opt.step(), ref.step() if len(want) < total else None
    assert got[:warm] == pytest.approx(want[:warm], rel=1e-6)  # the warm-up ramp
    assert got[warm] == pytest.approx(0.1, rel=1e-3) and max(got) == pytest.approx(0.1, rel=1e-3)
    assert got[warm:] == sorted(got[warm:], reverse=True)  # then only down, along torch's curve
    # (torch ends its descent one step early, at step T - 1: at most a step's share apart)
    assert got[warm:] == pytest.approx(want[warm:], abs=0.1 * 0.05)
    assert opt.param_groups[0]["lr"] == pytest.approx(0.1 * ONECYCLE_END)
    assert final_factor("onecycle") == ONECYCLE_END and got[0] > 0.1 * ONECYCLE_START


def test_state_resumes_mid_epoch_exactly():
    opt, s = _sched("onecycle", 2)
    s.begin_epoch(0.1, 0.4, 6)
    for _ in range(4):
        s.step()
    st = s.state_dict()
    opt2, s2 = _sched("onecycle", 2)
    s2.load_state_dict(st)
    assert opt2.param_groups[0]["lr"] == opt.param_groups[0]["lr"]
    for _ in range(2):
        s.step(), s2.step()
    assert opt2.param_groups[0]["lr"] == opt.param_groups[0]["lr"]
    assert all(isinstance(v, (int, float, str, list, type(None))) for v in st.values())
