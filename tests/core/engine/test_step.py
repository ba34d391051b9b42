"""The step's stop mode and loss reads: mid-step Stop only while steps are measured long, losses
read in one transfer every few steps on an asynchronous device, and the same run either way."""
import json
import math

import pytest
import torch
from torch import nn

from core.engine import setup
from core.engine import step as step_module
from core.engine import trainer as trainer_module
from core.engine.checkpoint import load_checkpoint
from core.engine.events import RunFailed, StepDone
from core.engine.step import LossReader, StopMode
from core.engine.trainer import NonFiniteLoss, Trainer

from .test_interrupt import stop_in_training_pass
from .test_trainer import _Wrap, assert_same_weights, tiny


def _net():
    return nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU(), nn.Conv2d(4, 2, 1))


def _hooks(net) -> int:
    return sum(len(m._forward_hooks) for m in net.modules())


def test_long_probed_steps_keep_the_hooks():
    net = _net()
    mode = StopMode(net, lambda: False, enabled=True, asynchronous=False)
    assert mode.mid_step and _hooks(net) == 3
    for seconds in (3.0, 0.6, 0.7):  # median of the last two: 0.65 s > 0.5 s
        mode.observe(seconds)
    assert mode.mid_step and _hooks(net) == 3 and mode.read_every == 1


def test_short_probed_steps_drop_the_hooks_and_read_every_few_steps_when_asynchronous():
    net = _net()
    mode = StopMode(net, lambda: False, enabled=True, asynchronous=True)
    for seconds in (2.0, 0.01, 0.01):  # the first (warm-up) step does not count
        mode.observe(seconds)
    assert not mode.mid_step and _hooks(net) == 0
    assert mode.read_every == 25  # ceil(0.25 s / 0.01 s)
    mode.observe(10.0)  # the choice is made once
    assert not mode.mid_step and mode.read_every == 25


def test_short_steps_on_a_synchronous_device_read_every_step():
    mode = StopMode(_net(), lambda: False, enabled=True, asynchronous=False)
    for seconds in (0.05, 0.05, 0.05):
        mode.observe(seconds)
    assert not mode.mid_step and mode.read_every == 1


def test_without_mid_step_stop_there_are_no_hooks_from_the_start():
    net = _net()
    mode = StopMode(net, lambda: False, enabled=False, asynchronous=True)
    assert not mode.mid_step and _hooks(net) == 0 and mode.read_every == step_module.MAX_READ_EVERY


def test_loss_reader_returns_each_step_once_in_order():
    reader = LossReader()
    for i, v in enumerate([0.5, 0.25, float("nan")]):
        reader.add(torch.tensor(v), ("step", i))
    assert len(reader) == 3
    got = reader.read()
    assert [m for _, m in got] == [("step", 0), ("step", 1), ("step", 2)]
    assert got[0][0] == 0.5 and got[1][0] == 0.25 and math.isnan(got[2][0])
    assert reader.read() == [] and len(reader) == 0


def _asynchronous(monkeypatch):
    """The CUDA reading pattern on the CPU: losses stay pending and are read every few steps."""
    real = trainer_module.StopMode

    def make(model, should_stop, enabled, asynchronous):
        mode = real(model, should_stop, enabled, asynchronous=True)
        return mode
    monkeypatch.setattr(trainer_module, "StopMode", make)
    monkeypatch.setattr(step_module, "READ_EVERY_S", 1e9)  # then read_every = MAX_READ_EVERY
    monkeypatch.setattr(step_module, "MID_STEP_STOP_ABOVE_S", math.inf)  # GPU steps: short, however loaded


def test_deferred_reads_report_every_step_with_its_own_loss(synth_data, tmp_path, monkeypatch):
    straight = []
    Trainer(tiny(synth_data, tmp_path / "a"), [lambda e: isinstance(e, StepDone) and straight.append(e)]).run()
    _asynchronous(monkeypatch)
    deferred = []
    Trainer(tiny(synth_data, tmp_path / "b"), [lambda e: isinstance(e, StepDone) and deferred.append(e)]).run()
    assert [e.step for e in deferred] == [e.step for e in straight] == list(range(1, len(straight) + 1))
    assert [e.loss for e in deferred] == pytest.approx([e.loss for e in straight], rel=1e-5)
    # steps read together share their interval: one rate for all of them, not one huge and the rest
    per_read = {}
    for e in deferred:
        per_read.setdefault(e.epoch, set()).add(e.images_per_s)
    assert len(per_read[1]) == 3  # the first steps are probed: each read on its own
    assert len(per_read[2]) == 1  # then an epoch's 3 steps are one read
    a = [json.loads(x) for x in (tmp_path / "a" / "metrics.jsonl").read_text().splitlines()]
    b = [json.loads(x) for x in (tmp_path / "b" / "metrics.jsonl").read_text().splitlines()]
    assert [r["train_loss"] for r in b] == pytest.approx([r["train_loss"] for r in a], rel=1e-5)


def test_deferred_reads_still_name_the_first_non_finite_step(synth_data, tmp_path, monkeypatch):
    _asynchronous(monkeypatch)
    real = setup.build_loss
    calls = {"n": 0}

    def poisoned(*a, **k):
        inner = real(*a, **k)

        def loss(out, y):
            training = out.requires_grad  # a training step, not validation
            calls["n"] += training
            value = inner(out, y)
            return value * float("inf") if calls["n"] == 6 and training else value
        return loss

    monkeypatch.setattr(setup, "build_loss", lambda *a, **k: _Wrap(poisoned(*a, **k)))
    events = []
    with pytest.raises(NonFiniteLoss, match="at epoch 2, step 3; lower the learning rate"):
        Trainer(tiny(synth_data, tmp_path / "n", epochs=3), [events.append]).run()  # 3 steps an epoch
    assert isinstance(events[-1], RunFailed) and "inf" in events[-1].message
    assert [e.step for e in events if isinstance(e, StepDone)] == [1, 2, 3, 4, 5]
    assert load_checkpoint(tmp_path / "n" / "best.pt")["epoch"] == 1
    assert load_checkpoint(tmp_path / "n" / "last.pt")["epoch"] == 1  # not written after the bad step


def test_between_step_stop_finishes_the_step_then_resumes_exactly(synth_data, tmp_path, monkeypatch):
    """Short steps: Stop asked inside step 5 lets step 5 finish, saves after it, and a resumed run
    equals one that was never stopped."""
    monkeypatch.setattr(step_module, "MID_STEP_STOP_ABOVE_S", math.inf)
    straight = tiny(synth_data, tmp_path / "a")
    Trainer(straight).run()
    cfg = tiny(synth_data, tmp_path / "b")
    trainer = Trainer(cfg)
    real_build = stop_in_training_pass(monkeypatch, trainer, 5)
    steps = []
    trainer.add_listener(lambda e: isinstance(e, StepDone) and steps.append(e.step))
    assert trainer.run()["cancelled"] is True
    monkeypatch.setattr(setup, "build_model", real_build)
    assert steps == [1, 2, 3, 4, 5]
    last = load_checkpoint(tmp_path / "b" / "last.pt")
    assert (last["epoch"], last["epoch_step"]) == (1, 2)  # 3 steps an epoch: after step 5
    resumed = []
    Trainer(cfg, [lambda e: isinstance(e, StepDone) and resumed.append(e.step)], resume=True).run()
    assert resumed[0] == 6
    assert_same_weights(tmp_path / "a" / "last.pt", tmp_path / "b" / "last.pt")


def test_summary_names_the_phases_of_the_run(synth_data, tmp_path):
    summary = Trainer(tiny(synth_data, tmp_path / "p")).run()
    phases = json.loads((tmp_path / "p" / "summary.json").read_text())["phases"]
    assert summary["phases"] == phases
    for name in ("data", "decode", "model", "flops", "training", "first step", "steps", "validation",
                 "checkpoints", "previews", "total"):
        assert phases[name] >= 0, name
    assert phases["first step"] + phases["steps"] <= phases["training"]  # training adds the batch waits
    top = sum(v for k, v in phases.items() if k not in ("total", "first step", "steps"))
    assert top <= phases["total"] + 1e-3


@pytest.mark.parametrize("batched", [True, False])
def test_either_data_path_trains_stops_and_resumes_exactly(synth_data, tmp_path, monkeypatch, batched):
    """The CUDA data path (split decoded to device tensors, batches augmented there, losses read
    every few steps) run on the CPU, and the per-sample path (albumentations in a DataLoader):
    a stopped and resumed run equals an uninterrupted one."""
    from core.data.batch_loader import BatchLoader

    monkeypatch.setattr(setup, "BATCHED_DEVICES", ("cuda", "cpu") if batched else ())
    _asynchronous(monkeypatch)
    # the batched path seeds its augmentation per epoch, so even a strongly augmented run resumes
    # exactly; albumentations' stream runs on from the process start, so that path is exact without
    kw = dict(augment="strong", crop_size=(32, 32), rare_crop=0.5, copy_paste=0.5) if batched else {}
    kw["epochs"] = 3
    straight = tiny(synth_data, tmp_path / "a", **kw)
    loader = setup.build_train_loader(straight, setup.open_source(straight), torch.Generator(),
                                      device=torch.device("cpu"))
    assert isinstance(loader, BatchLoader) == batched
    Trainer(straight).run()
    cfg = tiny(synth_data, tmp_path / "b", **kw)
    trainer = Trainer(cfg)
    trainer.add_listener(lambda e: isinstance(e, StepDone) and e.step == 4 and trainer.cancel())
    assert trainer.run()["cancelled"] is True
    last = load_checkpoint(tmp_path / "b" / "last.pt")
    assert last["epoch"] * 3 + last["epoch_step"] >= 4
    Trainer(cfg, resume=True).run()
    assert_same_weights(tmp_path / "a" / "last.pt", tmp_path / "b" / "last.pt")


@pytest.mark.parametrize("batched", [False, True])
def test_every_bad_training_file_is_named_before_the_first_step(synth_data, tmp_path, monkeypatch, batched):
    import shutil

    from core.errors import DataError

    monkeypatch.setattr(setup, "BATCHED_DEVICES", ("cuda", "cpu") if batched else ())
    data = tmp_path / "data"
    shutil.copytree(synth_data, data)
    images = sorted((data / "train").glob("*.png"))
    images[1].write_bytes(b"not a png")
    images[-1].write_bytes(images[-1].read_bytes()[:40])
    steps = []
    with pytest.raises(DataError) as err:
        Trainer(tiny(data, tmp_path / "r"), [lambda e: isinstance(e, StepDone) and steps.append(e)]).run()
    message = str(err.value)
    assert images[1].name in message and images[-1].name in message and "\n" not in message
    assert steps == []
