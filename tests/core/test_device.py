"""Device, precision and memory-format choices: what `auto` and `None` resolve to."""
import pytest
import torch

from core import device as dev
from core.device import resolve_precision, use_channels_last
from core.errors import ConfigError

CPU = torch.device("cpu")


@pytest.mark.parametrize("native, expected", [(True, "bf16"), (False, "fp32")])
def test_auto_precision_on_cpu_follows_native_bf16(monkeypatch, native, expected):
    monkeypatch.setattr(dev, "cpu_has_native_bf16", lambda: native)
    assert resolve_precision("auto", CPU) == expected


def test_explicit_precision_wins_and_fp16_on_cpu_is_refused():
    assert resolve_precision("fp32", CPU) == "fp32"
    assert resolve_precision("bf16", CPU) == "bf16"
    with pytest.raises(ConfigError, match="fp16"):
        resolve_precision("fp16", CPU)


def test_channels_last_default_on_cpu_only_with_bf16():
    assert use_channels_last(None, CPU, "bf16") is True
    assert use_channels_last(None, CPU, "fp32") is False
    assert use_channels_last(None, CPU) is False
    assert use_channels_last(None, torch.device("cuda"), "fp16") is True
    assert use_channels_last(False, CPU, "bf16") is False
    assert use_channels_last(True, CPU, "fp32") is True
    assert use_channels_last(True, torch.device("mps"), "fp32") is False


def test_eval_precision_follows_the_run_unless_told(monkeypatch):
    """`eval` with precision auto scores a run in the run's own precision, so it repeats the run's
    validation numbers; what the device cannot run (fp16 on a CPU) falls back to auto."""
    from core.evaluate import _scoring_precision

    monkeypatch.setattr(dev, "cpu_has_native_bf16", lambda: True)
    assert _scoring_precision("auto", "fp32", CPU) == "fp32"
    assert _scoring_precision("auto", "auto", CPU) == "bf16"
    assert _scoring_precision("auto", "fp16", CPU) == "bf16"
    assert _scoring_precision("fp32", "bf16", CPU) == "fp32"
