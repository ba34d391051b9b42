"""Stop inside a training step: the hooks raise at the next module boundary, the step is thrown
away, and a resumed run equals one that was never interrupted."""
import pytest
import torch
from torch import nn

from core.engine import setup
from core.engine import step as step_module
from core.engine.checkpoint import load_checkpoint
from core.engine.events import StepDone
from core.engine.interrupt import StepInterrupted, StepInterrupter, restore_buffers, snapshot_buffers
from core.engine.trainer import Trainer

from .test_trainer import assert_same_weights, tiny


def _net():
    return nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(inplace=True),
                         nn.Conv2d(4, 2, 1))


def test_raises_in_forward_only_when_armed_and_asked():
    net, stop = _net(), {"now": False}
    hooks = StepInterrupter(net, lambda: stop["now"])
    x = torch.randn(1, 3, 8, 8)
    with hooks.armed():
        net(x)  # not asked: runs
    stop["now"] = True
    net(x)  # asked but not armed (validation): runs
    with pytest.raises(StepInterrupted), hooks.armed():
        net(x)
    hooks.remove()
    with hooks.armed():
        net(x)  # hooks gone


def test_raises_in_backward_when_asked_after_forward():
    net, stop = _net(), {"now": False}
    hooks = StepInterrupter(net, lambda: stop["now"])
    with hooks.armed():
        loss = net(torch.randn(2, 3, 8, 8)).square().mean()
        stop["now"] = True
        with pytest.raises(StepInterrupted):
            loss.backward()
    # the first gradient hook raised at the last layer, before any weight's gradient was summed
    assert net[0].weight.grad is None


def test_hooks_change_no_values():
    torch.manual_seed(0)
    a = _net()
    b = _net()
    b.load_state_dict(a.state_dict())
    hooks = StepInterrupter(b, lambda: False)
    x = torch.randn(2, 3, 8, 8)
    a(x).sum().backward()
    with hooks.armed():
        b(x).sum().backward()
    for pa, pb in zip(a.parameters(), b.parameters()):
        assert torch.equal(pa.grad, pb.grad)


def test_buffers_restore_undoes_batch_norm_update():
    net = _net().train()
    saved = snapshot_buffers(net)
    net(torch.randn(2, 3, 8, 8) + 5)
    assert not torch.equal(net[1].running_mean, saved[0])
    restore_buffers(net, saved)
    assert torch.equal(net[1].running_mean, saved[0]) and int(net[1].num_batches_tracked) == 0


def stop_in_training_pass(monkeypatch, trainer, n: int, where: str = "forward"):
    """Make setup.build_model add a hook that asks `trainer` to stop inside its n-th training
    forward pass (or that pass's backward); returns the real build_model to put back."""
    real_build = setup.build_model
    calls = {"train_forward": 0}

    def build_with_trigger(*a, **k):
        model = real_build(*a, **k)
        first = next(m for m in model.modules() if isinstance(m, nn.Conv2d))

        def trigger(module, inputs, output):
            if not module.training:
                return
            calls["train_forward"] += 1
            if calls["train_forward"] == n:
                if where == "forward":
                    trainer.cancel()
                else:
                    output.register_hook(lambda g: trainer.cancel())
        first.register_forward_hook(trigger)
        return model

    monkeypatch.setattr(setup, "build_model", build_with_trigger)
    return real_build


@pytest.mark.parametrize("where", ["forward", "backward"])
def test_stop_mid_step_then_resume_matches_uninterrupted(synth_data, tmp_path, monkeypatch, where):
    monkeypatch.setattr(step_module, "MID_STEP_STOP_ABOVE_S", 0.0)  # these tiny steps count as long
    straight = tiny(synth_data, tmp_path / "a")
    Trainer(straight).run()

    cfg = tiny(synth_data, tmp_path / "b")
    trainer = Trainer(cfg)
    real_build = stop_in_training_pass(monkeypatch, trainer, 5, where)  # the 5th training step
    steps = []
    trainer.add_listener(lambda e: isinstance(e, StepDone) and steps.append(e.step))
    summary = trainer.run()
    monkeypatch.setattr(setup, "build_model", real_build)

    assert summary["cancelled"] is True
    assert steps == [1, 2, 3, 4]  # step 5 was interrupted and never reported
    last = load_checkpoint(tmp_path / "b" / "last.pt")
    spe = len(setup.build_train_loader(cfg, setup.open_source(cfg), torch.Generator()))
    assert last["epoch"] * spe + last["epoch_step"] == 4  # saved as it was before step 5
    resumed = []
    Trainer(cfg, [lambda e: isinstance(e, StepDone) and resumed.append(e.step)], resume=True).run()
    assert resumed[0] == 5
    assert_same_weights(tmp_path / "a" / "last.pt", tmp_path / "b" / "last.pt")
