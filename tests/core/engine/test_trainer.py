"""The Trainer end to end on tiny synthetic data: events, files, cancel, resume, failures."""
import json
import time

import pytest
import torch

from core.config import TrainConfig
from core.engine import setup
from core.engine.checkpoint import load_checkpoint
from core.engine.events import CheckpointSaved, EpochDone, RunFailed, RunFinished, RunStarted, StepDone
from core.engine.queue import RunQueue
from core.engine.trainer import NonFiniteLoss, Trainer
from core.evaluate import evaluate
from core.optim import create_optimizer, create_scheduler, lr_factor
from core.data.source import open_dataset


def assert_same_weights(a_path, b_path) -> None:
    """Two checkpoints hold the same model weights (to float tolerance)."""
    a, b = load_checkpoint(a_path)["model"], load_checkpoint(b_path)["model"]
    for k in a:
        assert torch.allclose(a[k].float(), b[k].float(), atol=1e-5), k


def tiny(synth_data, out, **kw) -> TrainConfig:
    base = dict(data=str(synth_data), arch="baseline", loss="ce", optimizer="adam", epochs=2, batch_size=4,
                image_size=(32, 48), augment="none", out=str(out), seed=3, lr=3e-3)
    base.update(kw)
    return TrainConfig(**base)


def test_run_writes_folder_and_emits_events(synth_data, tmp_path):
    events = []
    summary = Trainer(tiny(synth_data, tmp_path / "r"), [events.append]).run()
    kinds = [type(e) for e in events]
    assert kinds[0] is RunStarted and kinds[-1] is RunFinished
    started = events[0]
    steps = [e for e in events if isinstance(e, StepDone)]
    assert len(steps) == started.total_steps == 2 * started.steps_per_epoch
    assert [s.step for s in steps] == list(range(1, len(steps) + 1))
    assert all(s.loss > 0 and s.images_per_s > 0 and s.eta_s >= 0 for s in steps)
    epochs = [e for e in events if isinstance(e, EpochDone)]
    assert [e.epoch for e in epochs] == [1, 2]
    assert any(isinstance(e, CheckpointSaved) and e.best for e in events)
    run = tmp_path / "r"
    assert {p.name for p in run.iterdir()} >= {"config.yaml", "metrics.jsonl", "last.pt", "best.pt", "summary.json"}
    lines = [json.loads(x) for x in (run / "metrics.jsonl").read_text().splitlines()]
    assert [x["epoch"] for x in lines] == [1, 2]
    best = max(x["miou"] for x in lines)
    assert summary["best_miou"] == pytest.approx(best)
    assert json.loads((run / "summary.json").read_text())["best_miou"] == pytest.approx(best)
    assert summary["gflops"] > 0 and summary["params"] > 0
    assert summary["efficiency"] == pytest.approx(100 * best / summary["gflops"])
    assert set(summary["per_class_iou"]) == set(started.class_names)
    assert TrainConfig.from_yaml(run / "config.yaml") == tiny(synth_data, run)
    # eval of best.pt reproduces the number the trainer recorded
    res = evaluate(run / "best.pt", open_dataset(synth_data), "val", device="cpu")
    assert res.scores.miou == pytest.approx(summary["best_miou"], abs=1e-9)


def test_cancel_then_resume_matches_uninterrupted(synth_data, tmp_path):
    straight = tiny(synth_data, tmp_path / "a")
    Trainer(straight).run()

    cfg = tiny(synth_data, tmp_path / "b")
    trainer = Trainer(cfg)
    seen, stopped_at = [], []

    def stop_in_epoch_two(ev):
        seen.append(ev)
        if isinstance(ev, StepDone) and ev.epoch == 2 and ev.epoch_step == 1:
            stopped_at.append(ev.step)
            trainer.cancel()

    trainer.add_listener(stop_in_epoch_two)
    summary = trainer.run()
    assert summary["cancelled"] is True and isinstance(seen[-1], RunFinished) and seen[-1].cancelled
    last = load_checkpoint(tmp_path / "b" / "last.pt")
    assert (last["epoch"], last["epoch_step"]) == (1, 1)  # stopped right after step 1 of epoch 2
    resumed_steps = []
    Trainer(cfg, [lambda e: isinstance(e, StepDone) and resumed_steps.append(e.step)], resume=True).run()
    assert resumed_steps[0] == stopped_at[0] + 1
    assert_same_weights(tmp_path / "a" / "last.pt", tmp_path / "b" / "last.pt")
    lines = (tmp_path / "b" / "metrics.jsonl").read_text().splitlines()
    assert [json.loads(x)["epoch"] for x in lines] == [1, 2]


def test_non_finite_loss_stops_and_keeps_best(synth_data, tmp_path, monkeypatch):
    cfg = tiny(synth_data, tmp_path / "n", epochs=3)
    real = setup.build_loss
    calls = {"n": 0}

    def poisoned(*a, **k):
        inner = real(*a, **k)

        def loss(out, y):
            calls["n"] += 1
            value = inner(out, y)
            return value * float("nan") if calls["n"] > 4 else value
        return loss

    monkeypatch.setattr(setup, "build_loss", lambda *a, **k: _Wrap(poisoned(*a, **k)))
    events = []
    with pytest.raises(NonFiniteLoss, match="lower the learning rate"):
        Trainer(cfg, [events.append]).run()
    assert isinstance(events[-1], RunFailed) and "nan" in events[-1].message
    assert load_checkpoint(tmp_path / "n" / "best.pt")["epoch"] == 1


class _Wrap(torch.nn.Module):
    def __init__(self, fn):
        super().__init__()
        self.fn = fn

    def forward(self, out, y):
        return self.fn(out, y)


def test_queue_runs_each_config_and_survives_a_failure(synth_data, tmp_path):
    configs = [tiny(synth_data, tmp_path / "q1", epochs=1),
               tiny(synth_data, tmp_path / "q2", epochs=1, arch="no-such-arch"),
               tiny(synth_data, tmp_path / "q3", epochs=1, loss="dice")]
    failed = []
    summaries = RunQueue(configs, [lambda e: isinstance(e, RunFailed) and failed.append(e)]).run()
    assert summaries[0]["loss"] == "ce" and summaries[1] is None and summaries[2]["loss"] == "dice"
    assert len(failed) == 1 and "no-such-arch" in failed[0].message


def test_model_with_aux_head_trains_through_aux_loss(synth_data, tmp_path, monkeypatch):
    """DDRNet returns (main, [aux]) while training; the Trainer wraps its loss in AuxLoss."""
    from core import losses

    seen = []
    real = losses.AuxLoss.forward

    def spy(self, out, y):
        seen.append(isinstance(out, tuple))
        return real(self, out, y)

    monkeypatch.setattr(losses.AuxLoss, "forward", spy)
    summary = Trainer(tiny(synth_data, tmp_path / "rt", arch="ddrnet23-slim", epochs=1)).run()
    steps = len(open_dataset(synth_data).samples("train")) // 4
    assert seen[:steps] == [True] * steps  # training steps see (main, [aux]); validation only main
    assert summary["best_miou"] is not None


class SlowLoader:
    """A training loader that waits `delay` seconds before each batch."""

    def __init__(self, loader, delay):
        self.loader, self.delay = loader, delay

    def __len__(self):
        return len(self.loader)

    def __iter__(self):
        for batch in self.loader:
            time.sleep(self.delay)
            yield batch

    def __getattr__(self, name):  # sampler etc. for set_epoch
        return getattr(self.loader, name)


def test_step_rate_counts_data_loading_and_eta_counts_validation(synth_data, tmp_path, monkeypatch):
    """A loader that takes 0.2 s per batch caps the reported rate at batch/0.2 img/s, and the
    time left counts the loading and the validation still to run."""
    real = setup.build_train_loader
    monkeypatch.setattr(setup, "build_train_loader", lambda *a, **k: SlowLoader(real(*a, **k), 0.2))
    events = []
    Trainer(tiny(synth_data, tmp_path / "slow"), [events.append]).run()
    steps = [e for e in events if isinstance(e, StepDone)]
    epochs = [e for e in events if isinstance(e, EpochDone)]
    assert all(s.images_per_s <= 4 / 0.2 for s in steps)
    assert steps[0].eta_s >= 0.2 * (len(steps) - 1)
    # after the last step only the last validation is left, timed on the first epoch's
    assert 0 < steps[-1].eta_s < epochs[0].seconds


def test_resumed_epoch_skips_the_finished_batches_unread(synth_data, tmp_path, monkeypatch):
    """Resuming mid-epoch starts at the first unfinished batch (core.data.batch_loader.iter_from):
    the finished ones are neither read nor augmented, so the step clock starts once."""
    from core.engine import trainer as trainer_module
    from core.engine.pace import Pace

    calls = []

    class SpyPace(Pace):
        def start(self):
            calls.append("start")
            super().start()

        def steps_done(self, count, images):  # the trainer reports steps as they are read
            calls.extend(["step"] * count)
            return super().steps_done(count, images)

    cfg = tiny(synth_data, tmp_path / "r")
    trainer = Trainer(cfg)
    trainer.add_listener(lambda e: isinstance(e, StepDone) and e.epoch == 2 and e.epoch_step == 2
                         and trainer.cancel())
    trainer.run()
    monkeypatch.setattr(trainer_module, "Pace", SpyPace)
    resumed = []
    Trainer(cfg, [lambda e: isinstance(e, StepDone) and resumed.append(e)], resume=True).run()
    assert [e.epoch_step for e in resumed] == [3]
    assert calls == ["start", "step"]  # epoch start, then the one real step


def test_time_budget_stops_after_the_epochs_that_fit(synth_data, tmp_path):
    events = []
    # 0.06 s cannot hold a second epoch: after epoch 1 the next one is skipped
    summary = Trainer(tiny(synth_data, tmp_path / "r", epochs=3, time_budget=0.001),
                      [events.append]).run()
    done = [e for e in events if isinstance(e, EpochDone)]
    assert [(e.epoch, e.total_epochs) for e in done] == [(1, 1)]
    assert summary["epochs"] == 1 and summary["time_budget"] == 0.001
    assert summary["budget"]["epochs"] == 1 and summary["budget"]["last_epoch"].startswith("epoch 2 skipped")
    assert len([e for e in events if isinstance(e, StepDone)]) == events[0].steps_per_epoch
    st = load_checkpoint(tmp_path / "r" / "last.pt")
    assert st["epochs"] == 1 and len(st["epoch_seconds"]) == 1
    # a budget that holds the whole run leaves the epoch count alone
    roomy = Trainer(tiny(synth_data, tmp_path / "big", epochs=2, time_budget=600)).run()
    assert roomy["epochs"] == 2 and roomy["budget"]["last_epoch"] == "whole"


def test_run_writes_tensorboard_events_with_previews(synth_data, tmp_path):
    """Every run leaves TensorBoard events in RUN/tb: step losses as reported, one mIoU per
    epoch, and image | truth | prediction strips of validation images."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    steps, epochs = [], []
    Trainer(tiny(synth_data, tmp_path / "t"), [lambda e: isinstance(e, StepDone) and steps.append(e),
                                              lambda e: isinstance(e, EpochDone) and epochs.append(e)]).run()
    acc = EventAccumulator(str(tmp_path / "t" / "tb"), size_guidance={"scalars": 0, "images": 0})
    acc.Reload()
    tags = acc.Tags()
    loss = [e for e in acc.Scalars(next(t for t in tags["scalars"] if "loss" in t and "val" not in t
                                        and "epoch" not in t))]
    assert [e.step for e in loss] == [s.step for s in steps]
    assert [e.value for e in loss] == pytest.approx([s.loss for s in steps], rel=1e-6)
    miou = acc.Scalars(next(t for t in tags["scalars"] if "miou" in t.lower()))
    assert [e.value for e in miou] == pytest.approx([e.miou for e in epochs], rel=1e-6)
    previews = [t for t in tags["images"] if "preview" in t]
    assert len(previews) == 3  # the first three validation images
    img = acc.Images(previews[0])
    assert len(img) == 2 and img[0].width == 3 * 96 and img[0].height == 64  # 64x96 images, side by side


def test_the_last_epoch_writes_its_checkpoints_in_place(synth_data, tmp_path, monkeypatch):
    """Earlier epochs hand the writer a host copy (the next step changes the tensors); the last
    one hands it the state itself (that those files hold the right weights, the resume test
    shows)."""
    from core.engine import checkpoint

    copied, real = [], checkpoint.host_copy

    def counting(obj):  # host_copy calls itself on the parts: count whole checkpoints
        if isinstance(obj, dict) and "model" in obj and "epoch" in obj:
            copied.append(obj["epoch"])
        return real(obj)
    monkeypatch.setattr(checkpoint, "host_copy", counting)
    Trainer(tiny(synth_data, tmp_path / "r"), []).run()
    assert copied == [1, 1]  # epoch 1's best.pt (the first epoch is always the best yet) and last.pt
    assert load_checkpoint(tmp_path / "r" / "last.pt")["epoch"] == 2
