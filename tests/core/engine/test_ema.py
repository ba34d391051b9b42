"""The weight average (`ema`): what is validated and saved as best, and how it resumes."""
import json

import pytest
import torch

from core.config import TrainConfig
from core.engine import setup
from core.engine.checkpoint import load_checkpoint
from core.engine.events import RunStarted, StepDone
from core.engine.trainer import Trainer
from core.errors import ConfigError
from core.evaluate import evaluate
from core.data.source import open_dataset
from tests.core.engine.test_trainer import tiny as trainer_tiny


def tiny(synth_data, out, **kw) -> TrainConfig:
    """The Trainer tests' tiny run, one epoch, with the average on."""
    return trainer_tiny(synth_data, out, **{"epochs": 1, "ema": 0.9, **kw})


def _decay(step: int, cap: float) -> float:
    """The ramp by hand: no memory on the first update, then 1 - step^-3/4, capped."""
    n = step - 1
    return 0.0 if n <= 0 else min(1.0 - (1.0 + n) ** -0.75, cap)


def test_best_checkpoint_holds_the_average_of_the_trained_weights(synth_data, tmp_path, monkeypatch):
    built = []
    real_build = setup.build_model

    def spy_build(*a, **kw):
        built.append(real_build(*a, **kw))
        return built[-1]

    monkeypatch.setattr(setup, "build_model", spy_build)
    snapshots = []  # the trained weights after each step (StepDone comes after the update)

    def snap(ev):
        if isinstance(ev, StepDone):
            snapshots.append({k: v.detach().clone() for k, v in built[0].state_dict().items()})

    cfg = tiny(synth_data, tmp_path / "r", ema=0.6)
    Trainer(cfg, [snap]).run()
    assert len(snapshots) >= 3  # enough steps for the cap (0.6) to be reached: 1 - 2^-3/4 = 0.405, 1 - 3^-3/4 = 0.56
    expected = dict(snapshots[0])  # the first update copies the weights (decay 0)
    for step, weights in enumerate(snapshots[1:], start=2):
        d = _decay(step, 0.6)
        for k, v in weights.items():
            if v.is_floating_point():
                expected[k] = d * expected[k] + (1 - d) * v
    saved = load_checkpoint(tmp_path / "r" / "best.pt")["model"]
    trained = snapshots[-1]
    differs = False
    for k, v in expected.items():
        if v.is_floating_point():
            assert torch.allclose(saved[k], v, atol=1e-6), k
            differs |= not torch.allclose(saved[k], trained[k], atol=1e-4)
    assert differs  # the average is not simply the last weights
    last = load_checkpoint(tmp_path / "r" / "last.pt")
    for k, v in trained.items():  # last.pt keeps the trained weights and the average beside them
        assert torch.equal(last["model"][k], v), k
        assert torch.equal(last["ema"][k], saved[k]), k


def test_validation_scores_the_average(synth_data, tmp_path):
    summary = Trainer(tiny(synth_data, tmp_path / "r", epochs=2)).run()
    assert summary["ema"] == 0.9  # the run's summary says what was scored
    res = evaluate(tmp_path / "r" / "best.pt", open_dataset(synth_data), "val", device="cpu")
    assert res.scores.miou == pytest.approx(summary["best_miou"], abs=1e-9)


def test_cancel_then_resume_continues_the_average(synth_data, tmp_path):
    Trainer(tiny(synth_data, tmp_path / "a", epochs=2)).run()
    cfg = tiny(synth_data, tmp_path / "b", epochs=2)
    trainer = Trainer(cfg)

    def stop_in_epoch_two(ev):
        if isinstance(ev, StepDone) and ev.epoch == 2 and ev.epoch_step == 1:
            trainer.cancel()

    trainer.add_listener(stop_in_epoch_two)
    assert trainer.run()["cancelled"] is True
    Trainer(cfg, resume=True).run()
    a = load_checkpoint(tmp_path / "a" / "last.pt")["ema"]
    b = load_checkpoint(tmp_path / "b" / "last.pt")["ema"]
    for k in a:
        assert torch.allclose(a[k].float(), b[k].float(), atol=1e-5), k
    metrics = [json.loads(x)["miou"] for x in (tmp_path / "a" / "metrics.jsonl").read_text().splitlines()]
    resumed = [json.loads(x)["miou"] for x in (tmp_path / "b" / "metrics.jsonl").read_text().splitlines()]
    assert resumed == pytest.approx(metrics, abs=1e-6)


def test_resuming_a_run_without_average_starts_it_from_the_resumed_weights(synth_data, tmp_path, monkeypatch):
    cfg = tiny(synth_data, tmp_path / "r", epochs=1, ema=0.0)
    Trainer(cfg).run()
    assert "ema" not in load_checkpoint(tmp_path / "r" / "last.pt")
    resumed = load_checkpoint(tmp_path / "r" / "last.pt")["model"]
    made = []
    real_build_ema = setup.build_ema
    monkeypatch.setattr(setup, "build_ema", lambda *a: made.append(real_build_ema(*a)) or made[-1])
    at_start = []
    Trainer(cfg.replace(epochs=2, ema=0.99), [lambda ev: isinstance(ev, RunStarted) and at_start.append(
        {k: v.clone() for k, v in made[0].module.state_dict().items()})], resume=True).run()
    for k, v in resumed.items():  # before the first new step the average is the resumed weights
        assert torch.equal(at_start[0][k], v), k
    assert "ema" in load_checkpoint(tmp_path / "r" / "last.pt")


@pytest.mark.parametrize("bad", [-0.1, 1.0, 1.5])
def test_ema_outside_zero_to_one_is_refused(bad):
    with pytest.raises(ConfigError, match="ema"):
        TrainConfig(ema=bad)
