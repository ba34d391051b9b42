"""Out of memory during training is caught and reported with what to change.

The model's forward is made to raise `torch.OutOfMemoryError` (what CUDA raises) in the first
training step; the Trainer must report it as a RunFailed whose message suggests a smaller batch
or image size (the GUI shows that message), and `roadseg train` must print one line with the
same hint and exit non-zero.
"""
import pytest
import torch

from core.config import TrainConfig
from core.engine import setup
from core.engine.events import RunFailed
from core.engine.trainer import Trainer
from core.errors import RoadsegError

from .conftest import train_argv

OOM = "CUDA out of memory. Tried to allocate 2.00 GiB (GPU 0; 7.79 GiB total capacity)"
HINT = "smaller batch size or image size"


@pytest.fixture
def oom_in_training(monkeypatch):
    """Every model built for training raises OutOfMemoryError on its first training forward."""
    real = setup.build_model

    def build_model(*a, **k):
        model = real(*a, **k)
        forward = model.forward

        def oom_forward(x):
            if model.training and torch.is_grad_enabled():
                raise torch.OutOfMemoryError(OOM)
            return forward(x)

        model.forward = oom_forward
        return model

    monkeypatch.setattr(setup, "build_model", build_model)


def test_trainer_reports_oom_with_a_hint(oom_in_training, tiny_data, tmp_path):
    events = []
    cfg = TrainConfig(data=str(tiny_data), arch="baseline", epochs=1, batch_size=2, image_size=(32, 48),
                      augment="none", device="cpu", out=str(tmp_path / "run"))
    with pytest.raises((torch.OutOfMemoryError, RoadsegError)):  # raw, or wrapped with the hint
        Trainer(cfg, [events.append]).run()
    failed = events[-1]
    assert isinstance(failed, RunFailed)
    assert failed.message.startswith("out of memory") and HINT in failed.message and OOM in failed.message


def test_cli_prints_one_line_with_the_hint(oom_in_training, tiny_data, tmp_path, cli):
    rc, err = cli(train_argv(tiny_data, tmp_path / "run"))
    assert rc == 2 and len(err) == 1, err
    assert err[0].startswith("roadseg: error: out of memory") and HINT in err[0], err
