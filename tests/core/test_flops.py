"""FLOP counting checked by hand: a multiply-add is two FLOPs, biases and norms are free."""
import math

import pytest
import torch
from torch import nn

from core.flops import count_gflops, count_params, efficiency


def test_conv_flops_by_hand():
    conv = nn.Conv2d(3, 8, kernel_size=3, padding=1)
    # 2 * Cout * H * W * (Cin * kh * kw) for one image
    assert count_gflops(conv, (10, 12)) * 1e9 == pytest.approx(2 * 8 * 10 * 12 * 3 * 3 * 3)


def test_strided_grouped_conv_and_linear():
    convs = nn.Sequential(nn.Conv2d(3, 4, 1), nn.Conv2d(4, 8, 3, stride=2, padding=1, groups=2))
    expected = 2 * 4 * 16 * 16 * 3 + 2 * 8 * 8 * 8 * (2 * 3 * 3)  # 2 input channels per group
    assert count_gflops(convs, (16, 16)) * 1e9 == pytest.approx(expected)
    model = nn.Sequential(nn.Flatten(), nn.Linear(3 * 4 * 5, 7))
    assert count_gflops(model, (4, 5)) * 1e9 == pytest.approx(2 * 60 * 7)


def test_norm_and_activation_count_nothing():
    model = nn.Sequential(nn.Conv2d(3, 4, 1), nn.BatchNorm2d(4), nn.ReLU())
    assert count_gflops(model, (8, 8)) * 1e9 == pytest.approx(2 * 4 * 64 * 3)


def test_count_keeps_mode_and_grad_state():
    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.Dropout2d(0.5)).train()
    count_gflops(model, (8, 8))
    assert model.training and torch.is_grad_enabled()
    model.eval()
    count_gflops(model, (8, 8))
    assert not model.training


def test_count_params_includes_frozen():
    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.Linear(4, 2))
    model[0].requires_grad_(False)
    assert count_params(model) == (3 * 4 * 9 + 4) + (4 * 2 + 2)


def test_real_model_flops_grow_with_size():
    from core.models import create_model

    model = create_model("baseline", 3)
    small, big = count_gflops(model, (64, 64)), count_gflops(model, (128, 128))
    assert big == pytest.approx(4 * small, rel=1e-6)


def test_efficiency():
    assert efficiency(0.5, 10.0) == pytest.approx(5.0)
    assert math.isnan(efficiency(float("nan"), 2.0))
    with pytest.raises(ValueError):
        efficiency(0.5, 0.0)
