"""Optimizers by name; lr schedules checked step by step against hand-computed values; resume."""
import io
import math

import pytest
import torch

from core.errors import ConfigError
from core.optim import OPTIMIZERS, SCHEDULES, create_optimizer, create_scheduler, lr_factor

LR = 0.1


def make(schedule, total, warmup=0, optimizer="sgd"):
    p = torch.nn.Parameter(torch.ones(3))
    opt = create_optimizer(optimizer, [p], lr=LR)
    return p, opt, create_scheduler(schedule, opt, total, warmup)


def lrs(schedule, total, warmup=0, steps=None):
    """lr used by each optimizer step 0..steps-1 (read before the step, scheduler stepped after)."""
    _, opt, sched = make(schedule, total, warmup)
    out = []
    for _ in range(total if steps is None else steps):
        out.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    return out


def test_constant_with_warmup():
    got = lrs("constant", total=10, warmup=3)
    assert got == pytest.approx([0.025, 0.05, 0.075] + [0.1] * 7)


def test_poly_no_warmup_and_past_the_end():
    got = lrs("poly", total=10, steps=13)
    assert got[0] == pytest.approx(0.1)
    assert got[5] == pytest.approx(0.1 * 0.5 ** 0.9)  # 0.053588...
    assert got[9] == pytest.approx(0.1 * 0.1 ** 0.9)
    assert got[10:] == [0.0, 0.0, 0.0]  # stepping past total_steps does not raise


def test_poly_with_warmup():
    got = lrs("poly", total=12, warmup=2)
    assert got[:3] == pytest.approx([0.1 / 3, 0.2 / 3, 0.1])
    assert got[7] == pytest.approx(0.1 * 0.5 ** 0.9)  # p = (7 - 2) / (12 - 2)


def test_cosine():
    got = lrs("cosine", total=10)
    assert got[0] == pytest.approx(0.1) and got[5] == pytest.approx(0.05)
    assert got[9] == pytest.approx(0.05 * (1 + math.cos(math.pi * 0.9)))
    got = lrs("cosine", total=8, warmup=4)
    assert got[:5] == pytest.approx([0.02, 0.04, 0.06, 0.08, 0.1])
    assert got[6] == pytest.approx(0.05)  # p = 2/4


def test_onecycle_warmup_sets_the_peak():
    got = lrs("onecycle", total=10, warmup=3)  # pct_start 0.4: phase 1 is steps 0..3
    start, peak, floor = 0.1 / 25, 0.1, 0.1 / 25 / 1e4
    assert got[0] == pytest.approx(start)
    assert got[1] == pytest.approx(peak + (start - peak) / 2 * (math.cos(math.pi / 3) + 1))  # 0.028
    assert got[3] == pytest.approx(peak)
    assert got[6] == pytest.approx((peak + floor) / 2)  # half way down: (6-3)/(9-3)
    assert got[9] == pytest.approx(floor)
    assert max(got) == pytest.approx(peak)


def test_onecycle_defaults_and_edge_lengths():
    got = lrs("onecycle", total=10)  # torch's default pct_start 0.3: peak at step 2
    assert max(got) == pytest.approx(0.1) and got.index(max(got)) == 2
    for total, warmup in [(1, 0), (2, 1), (3, 1), (4, 0), (5, 100)]:
        got = lrs("onecycle", total=total, warmup=warmup)
        assert all(math.isfinite(x) and 0 < x <= 0.1 + 1e-12 for x in got)
    _, opt, sched = make("onecycle", 10, 2, optimizer="sgd")
    assert opt.param_groups[0]["momentum"] == 0.9  # momentum is not cycled


def test_lr_factor_matches_scheduler():
    for name in ("constant", "poly", "cosine"):
        got = lrs(name, total=20, warmup=5)
        assert got == pytest.approx([LR * lr_factor(name, s, 20, 5) for s in range(20)])


@pytest.mark.parametrize("schedule", SCHEDULES)
def test_scheduler_state_round_trips(schedule):
    total, warmup, cut = 12, 3, 5
    reference = lrs(schedule, total, warmup)

    p, opt, sched = make(schedule, total, warmup, optimizer="adamw")
    seen = []
    for _ in range(cut):
        seen.append(opt.param_groups[0]["lr"])
        p.grad = torch.ones_like(p)
        opt.step()
        sched.step()
    buf = io.BytesIO()
    torch.save({"opt": opt.state_dict(), "sched": sched.state_dict()}, buf)
    buf.seek(0)
    state = torch.load(buf, weights_only=True)  # plain values only

    p2 = torch.nn.Parameter(p.detach().clone())
    opt2 = create_optimizer("adamw", [p2], lr=LR)
    sched2 = create_scheduler(schedule, opt2, total, warmup)  # before opt.load_state_dict
    opt2.load_state_dict(state["opt"])
    sched2.load_state_dict(state["sched"])
    for _ in range(total - cut):
        seen.append(opt2.param_groups[0]["lr"])
        p2.grad = torch.ones_like(p2)
        opt2.step()
        sched2.step()
    assert seen == pytest.approx(reference)


def test_optimizers_built_as_asked():
    p = [torch.nn.Parameter(torch.ones(2))]
    sgd = create_optimizer("sgd", p, lr=0.01, momentum=0.8, nesterov=True, weight_decay=0.0)
    assert isinstance(sgd, torch.optim.SGD)
    assert sgd.defaults["momentum"] == 0.8 and sgd.defaults["nesterov"] is True
    rms = create_optimizer("RMSprop", p, lr=0.01, momentum=0.5)
    assert isinstance(rms, torch.optim.RMSprop) and rms.defaults["momentum"] == 0.5
    assert rms.defaults["weight_decay"] == 1e-4
    assert type(create_optimizer("adam", p, lr=0.01)) is torch.optim.Adam
    assert type(create_optimizer("adamw", p, lr=0.01)) is torch.optim.AdamW


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_each_optimizer_reduces_a_quadratic(name):
    x = torch.nn.Parameter(torch.tensor([3.0, -2.0]))
    opt = create_optimizer(name, [x], lr=0.05)
    start = float((x.detach() ** 2).sum())
    for _ in range(20):
        opt.zero_grad()
        (x ** 2).sum().backward()
        opt.step()
    assert float((x.detach() ** 2).sum()) < start


def test_bad_arguments():
    p = [torch.nn.Parameter(torch.ones(2))]
    with pytest.raises(ConfigError, match="unknown optimizer 'lamb'"):
        create_optimizer("lamb", p, lr=0.1)
    with pytest.raises(ConfigError, match="lr"):
        create_optimizer("adam", p, lr=0.0)
    with pytest.raises(ConfigError, match="momentum"):
        create_optimizer("sgd", p, lr=0.1, momentum=1.5)
    with pytest.raises(ConfigError, match="nesterov"):
        create_optimizer("adam", p, lr=0.1, nesterov=True)
    with pytest.raises(ConfigError, match="nesterov"):
        create_optimizer("sgd", p, lr=0.1, momentum=0.0, nesterov=True)
    opt = create_optimizer("sgd", p, lr=0.1)
    with pytest.raises(ConfigError, match="unknown schedule 'step'"):
        create_scheduler("step", opt, 10)
    with pytest.raises(ConfigError, match="total_steps"):
        create_scheduler("poly", opt, 0)
    with pytest.raises(ConfigError, match="warmup_steps"):
        create_scheduler("poly", opt, 10, warmup_steps=-1)
