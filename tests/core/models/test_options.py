"""The report's modifications are real: each option changes the built network (modules,
parameter count, feature-map stride), not just a label."""
import pytest
import torch
from torch import nn

from core.flops import count_params
from core.models import create_model


def _types(module):
    return {type(m) for m in module.modules()}


def _last_feature_stride(model, size=(64, 96)):
    with torch.no_grad():
        feats = model.encoder(torch.randn(1, 3, *size))
    return size[0] // feats[-1].shape[-2]


# ---- baseline: every toggle --------------------------------------------------------------

def test_baseline_skip_changes_decoder():
    on, off = create_model("baseline", 3), create_model("baseline", 3, skip=False)
    assert count_params(off) < count_params(on)
    first = lambda m: m.net.decoder.convs[-1][0].in_channels  # noqa: E731  full-res conv
    assert first(on) == first(off) + 32  # concatenates the 32-channel full-res encoder feature


@pytest.mark.parametrize("norm,kind", [("batch", nn.BatchNorm2d), ("group", nn.GroupNorm),
                                       ("none", None)])
def test_baseline_norm(norm, kind):
    model = create_model("baseline", 3, norm=norm)
    types = _types(model)
    for other in {nn.BatchNorm2d, nn.GroupNorm} - {kind}:
        assert other not in types
    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d) and m.kernel_size == (3, 3)]
    assert all((c.bias is not None) == (norm == "none") for c in convs)


def test_baseline_dropout():
    assert nn.Dropout2d not in _types(create_model("baseline", 3))
    model = create_model("baseline", 3, dropout=0.3)
    assert isinstance(model.net.dropout, nn.Dropout2d) and model.net.dropout.p == 0.3
    model.train()
    x = torch.randn(2, 3, 32, 32)
    assert not torch.equal(model(x), model(x))  # dropout active in training


@pytest.mark.parametrize("os_", [32, 16, 8])
def test_baseline_output_stride(os_):
    model = create_model("baseline", 3, output_stride=os_)
    assert _last_feature_stride(model) == os_
    pools = sum(isinstance(p, nn.MaxPool2d) for p in model.net.encoder.pools)
    assert 2 ** pools == os_
    dilations = {m.dilation[0] for m in model.net.encoder.modules() if isinstance(m, nn.Conv2d)}
    assert max(dilations) == 32 // os_
    assert model.pad_multiple == os_
    assert model(torch.randn(1, 3, 50, 70)).shape == (1, 3, 50, 70)


# ---- SMP architectures ------------------------------------------------------------------

@pytest.mark.parametrize("arch", ["unet", "segformer", "deeplabv3plus"])
@pytest.mark.parametrize("os_", [16, 8])
def test_smp_output_stride_dilates_encoder(arch, os_):
    model = create_model(arch, 3, "resnet18", output_stride=os_)
    assert _last_feature_stride(model) == os_
    assert any(m.dilation[0] > 1 for m in model.encoder.modules() if isinstance(m, nn.Conv2d))
    assert model(torch.randn(2, 3, 64, 96)).shape == (2, 3, 64, 96)


@pytest.mark.parametrize("arch", ["deeplabv3", "deeplabv3plus"])
def test_deeplab_without_dilation(arch):
    model = create_model(arch, 3, "resnet18", output_stride=32)
    assert _last_feature_stride(model) == 32
    assert model(torch.randn(2, 3, 70, 90)).shape == (2, 3, 70, 90)


def test_timm_encoder_output_stride():
    model = create_model("unet", 3, "tu-mobilenetv3_large_100", output_stride=16)
    assert _last_feature_stride(model) == 16


def test_unet_skip_off_removes_connections():
    on, off = create_model("unet", 3), create_model("unet", 3, skip=False)
    assert count_params(off) < count_params(on)
    # first decoder block sees only the upsampled 512-channel head, no 256-channel skip
    assert off.net.decoder.blocks[0].conv1[0].in_channels == 512
    assert on.net.decoder.blocks[0].conv1[0].in_channels == 512 + 256
    assert off(torch.randn(1, 3, 70, 90)).shape == (1, 3, 70, 90)  # no ASPP: batch 1 is ok


def test_fpn_skip_off_removes_laterals():
    on, off = create_model("fpn", 3), create_model("fpn", 3, skip=False)
    assert hasattr(on.net.decoder.p4, "skip_conv") and not hasattr(off.net.decoder.p4, "skip_conv")
    assert count_params(off) < count_params(on)
    assert off(torch.randn(1, 3, 64, 96)).shape == (1, 3, 64, 96)


def test_deeplabv3plus_skip_off_drops_low_level_branch():
    on, off = create_model("deeplabv3plus", 3), create_model("deeplabv3plus", 3, skip=False)
    assert hasattr(on.net.decoder, "block1") and not hasattr(off.net.decoder, "block1")
    assert count_params(off) < count_params(on)
    assert off(torch.randn(2, 3, 70, 90)).shape == (2, 3, 70, 90)


@pytest.mark.parametrize("arch", ["unet", "segformer", "deeplabv3plus", "fpn", "deeplabv3"])
@pytest.mark.parametrize("norm", ["batch", "group", "none"])
def test_smp_decoder_norm(arch, norm):
    model = create_model(arch, 3, "resnet18", norm=norm)
    types = _types(model.net.decoder)
    want = {"batch": nn.BatchNorm2d, "group": nn.GroupNorm, "none": None}[norm]
    assert {nn.BatchNorm2d, nn.GroupNorm} & types == ({want} if want else set())
    assert nn.BatchNorm2d in _types(model.encoder)  # the encoder keeps its own norm
    model.train()
    assert model(torch.randn(2, 3, 64, 64)).shape == (2, 3, 64, 64)


@pytest.mark.parametrize("arch", ["deeplabv3plus", "segformer", "fpn"])
def test_norm_none_gives_convs_a_bias(arch):
    """A removed norm's affine offset moves into the conv before it (one bias per norm)."""
    def biased(m):
        return sum(c.bias is not None for c in m.net.decoder.modules() if isinstance(c, nn.Conv2d))

    normed = create_model(arch, 3, norm="batch")
    n_norms = sum(isinstance(m, nn.BatchNorm2d) for m in normed.net.decoder.modules())
    assert n_norms > 0
    assert biased(create_model(arch, 3, norm="none")) == biased(normed) + n_norms


@pytest.mark.parametrize("arch", ["unet", "segformer", "deeplabv3", "deeplabv3plus"])
def test_smp_head_dropout(arch):
    plain = create_model(arch, 3, "resnet18")
    dropped = create_model(arch, 3, "resnet18", dropout=0.2)
    assert isinstance(plain.net.segmentation_head[0], nn.Identity)
    assert isinstance(dropped.net.segmentation_head[0], nn.Dropout2d)
    assert dropped.net.segmentation_head[0].p == 0.2
    assert plain.state_dict().keys() == dropped.state_dict().keys()  # checkpoints interchange


def test_fpn_dropout_is_its_decoder_dropout():
    assert create_model("fpn", 3).net.decoder.dropout.p == 0.0
    assert create_model("fpn", 3, dropout=0.25).net.decoder.dropout.p == 0.25


# ---- torchvision -------------------------------------------------------------------------

@pytest.mark.parametrize("os_", [8, 16, 32])
def test_tv_resnet_output_stride(os_):
    model = create_model("deeplabv3-tv", 3, "resnet50", output_stride=os_).eval()
    with torch.no_grad():
        out = model.encoder(torch.randn(1, 3, 64, 64))["out"]
    assert 64 // out.shape[-1] == os_


def test_tv_mobilenet_and_options():
    m16 = create_model("deeplabv3-tv", 3, "mobilenet_v3_large")
    m32 = create_model("deeplabv3-tv", 3, "mobilenet_v3_large", output_stride=32,
                       norm="group", dropout=0.1)
    with torch.no_grad():
        assert 64 // m16.eval().encoder(torch.randn(1, 3, 64, 64))["out"].shape[-1] == 16
        assert 64 // m32.eval().encoder(torch.randn(1, 3, 64, 64))["out"].shape[-1] == 32
    assert m16.options["output_stride"] == 16
    assert nn.GroupNorm in _types(m32.net.classifier)
    assert nn.BatchNorm2d not in _types(m32.net.classifier)
    assert isinstance(m32.net.classifier[-1][0], nn.Dropout2d)
    assert m32.net.aux_classifier is None
