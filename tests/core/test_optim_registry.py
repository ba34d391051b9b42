"""Optimizers and schedules are registered once; create_* and `roadseg train`'s flags read the
registry, so a newly registered one is usable and offered without other edits."""
from __future__ import annotations

import pytest
import torch

import core.optim
from core.cli.main import build_parser
from core.errors import ConfigError
from core.optim import (create_optimizer, create_scheduler, lr_factor, optimizer_specs,
                        register_curve, register_optimizer, schedule_specs)


@pytest.fixture
def scratch_registry(monkeypatch):
    """Registrations made in a test vanish after it."""
    for name in ("_OPTIMIZERS", "_SCHEDULES", "_CURVES"):
        monkeypatch.setattr(core.optim, name, dict(getattr(core.optim, name)))


def _train_flag(flag):
    parser = build_parser()
    train = parser._subparsers._group_actions[0].choices["train"]
    return next(a for a in train._actions if flag in a.option_strings)


def test_every_entry_has_a_help_line_and_the_cli_offers_exactly_the_registry():
    assert optimizer_specs() and schedule_specs()
    assert all(s.help for s in [*optimizer_specs().values(), *schedule_specs().values()])
    for flag, specs in (("--optimizer", optimizer_specs()), ("--schedule", schedule_specs())):
        action = _train_flag(flag)
        assert tuple(action.choices) == tuple(specs)
        assert all(f"{s.name}: {s.help}" in action.help for s in specs.values())


def test_the_cli_takes_names_in_any_case_and_refuses_unknown_ones(capsys):
    args = build_parser().parse_args(["train", "--optimizer", "RMSprop", "--schedule", "Cosine"])
    assert (args.optimizer, args.schedule) == ("rmsprop", "cosine")
    with pytest.raises(SystemExit):
        build_parser().parse_args(["train", "--optimizer", "lamb"])
    assert "invalid choice: 'lamb'" in capsys.readouterr().err


def test_a_registered_optimizer_is_built_and_offered(scratch_registry):
    @register_optimizer("plainsgd", "SGD without momentum")
    def _plain(params, lr, weight_decay, momentum, nesterov):
        return torch.optim.SGD(params, lr=lr, weight_decay=weight_decay)

    opt = create_optimizer("plainsgd", [torch.nn.Parameter(torch.ones(2))], lr=0.5)
    assert type(opt) is torch.optim.SGD and opt.defaults["momentum"] == 0
    assert "plainsgd" in _train_flag("--optimizer").choices
    with pytest.raises(ConfigError, match="nesterov needs optimizer 'sgd'"):
        create_optimizer("plainsgd", [torch.nn.Parameter(torch.ones(2))], lr=0.5, nesterov=True)


def test_a_registered_curve_is_a_schedule_and_an_lr_factor(scratch_registry):
    @register_curve("linear", "straight down to 0")
    def _linear(p):
        return 1.0 - p

    assert lr_factor("linear", 0, 10, 4) == pytest.approx(0.2)  # warm-up 1/5
    assert lr_factor("linear", 7, 10, 4) == pytest.approx(0.5)  # p = (7 - 4) / (10 - 4)
    opt = create_optimizer("sgd", [torch.nn.Parameter(torch.ones(1))], lr=0.1)
    sched = create_scheduler("linear", opt, 10, 4)
    seen = []
    for _ in range(10):
        seen.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    assert seen == pytest.approx([0.1 * lr_factor("linear", s, 10, 4) for s in range(10)])
    assert "linear" in _train_flag("--schedule").choices
    with pytest.raises(ConfigError, match="covers constant, poly, cosine and linear, not 'onecycle'"):
        lr_factor("onecycle", 0, 10)
