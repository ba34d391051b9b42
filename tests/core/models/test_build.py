"""Every registry entry builds offline, runs forward and backward on CPU, and returns logits at
the input size, including sizes no encoder stride divides (the padding wrapper)."""
import pytest
import torch

from core.models import create_model, list_models, model_info

# Heavy defaults (ResNet50 at output stride 8) are swapped for light encoders in the
# forward+backward test; the defaults themselves get a forward pass at 64x64 below.
LIGHT = {"deeplabv3": "resnet18", "deeplabv3-tv": "mobilenet_v3_large"}


def _fwd_bwd(model, size, classes=3):
    model.train()
    x = torch.randn(2, 3, *size, requires_grad=True)
    out = model(x)
    y, aux = out if isinstance(out, tuple) else (out, [])  # (main, [aux]) for aux-head models
    assert y.shape == (2, classes, *size) and all(a.shape == y.shape for a in aux)
    (y.square().mean() + sum(a.square().mean() for a in aux)).backward()
    assert x.grad is not None and torch.isfinite(x.grad).all()
    grads = [p.grad for p in model.parameters() if p.requires_grad]
    assert all(g is not None for g in grads[:1] + grads[-1:])  # encoder start and head reached
    return y


def test_registry_lists_every_arch():
    assert list_models() == ["baseline", "segformer", "unet", "deeplabv3", "deeplabv3plus",
                             "fpn", "deeplabv3-tv", "ddrnet23-slim"]


@pytest.mark.parametrize("arch", list_models())
def test_forward_backward_any_size(arch):
    model = create_model(arch, 3, LIGHT.get(arch))
    _fwd_bwd(model, (70, 90))  # no encoder stride divides 70x90: padded and cropped back
    assert model.arch == arch and model.num_classes == 3
    with torch.no_grad():
        assert model.eval()(torch.randn(1, 3, 64, 96)).shape == (1, 3, 64, 96)


@pytest.mark.parametrize("arch", ["deeplabv3", "deeplabv3-tv"])
def test_heavy_default_encoder_forward(arch):
    model = create_model(arch, 2).eval()
    assert model.encoder_name == model_info(arch).default_encoder == "resnet50"
    with torch.no_grad():
        assert model(torch.randn(1, 3, 64, 64)).shape == (1, 2, 64, 64)


@pytest.mark.parametrize("arch,encoder", [
    ("unet", "tu-resnet18"), ("unet", "tu-mobilenetv3_large_100"),
    ("unet", "tu-efficientnet_b0"), ("deeplabv3plus", "tu-efficientnet_b0")])
def test_timm_encoders(arch, encoder):
    model = create_model(arch, 3, encoder)
    _fwd_bwd(model, (70, 90))
    assert model.encoder_name == encoder


@pytest.mark.parametrize("arch,encoder", [("segformer", "resnet50"), ("unet", "resnet34"),
                                          ("fpn", "resnet50")])
def test_other_offered_encoders(arch, encoder):
    assert encoder in model_info(arch).encoders
    model = create_model(arch, 2, encoder).eval()
    with torch.no_grad():
        assert model(torch.randn(1, 3, 64, 64)).shape == (1, 2, 64, 64)


@pytest.mark.slow
@pytest.mark.parametrize("arch,encoder", [("segformer", "resnet101"), ("deeplabv3", "resnet101"),
                                          ("deeplabv3-tv", "resnet101")])
def test_resnet101_encoders(arch, encoder):
    model = create_model(arch, 2, encoder).eval()
    with torch.no_grad():
        assert model(torch.randn(1, 3, 64, 64)).shape == (1, 2, 64, 64)


def test_eval_is_deterministic_and_batch_independent():
    model = create_model("unet", 4).eval()
    x = torch.randn(2, 3, 70, 90)
    with torch.no_grad():
        both = model(x)
        one = model(x[:1])
    assert torch.allclose(both[:1], one, rtol=1e-4, atol=1e-4)  # float noise only
