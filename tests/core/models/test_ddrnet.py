"""DDRNet-23-slim: builds from the registry, returns (main, [aux]) while training and plain logits
in eval at any input size, its options really change the network, FLOPs count the main path."""
import pytest
import torch
from torch import nn

from core.errors import ModelError
from core.flops import count_gflops, count_params
from core.losses import AuxLoss, create_loss
from core.models import create_model, list_models, model_info
from core.models.ddrnet import DDRNet

ARCH = "ddrnet23-slim"


def test_registered_with_its_options():
    assert ARCH in list_models()
    info = model_info(ARCH)
    assert info.options == {"dropout", "norm"} and info.norms == ("batch", "group")
    model = create_model(ARCH, 11)
    assert model.aux_weights == (0.4,)
    assert 5.5e6 < count_params(model) < 6.0e6  # the paper's 5.7 M


def test_train_mode_returns_main_and_aux_with_gradients():
    model = create_model(ARCH, 3).train()
    x = torch.randn(2, 3, 70, 90, requires_grad=True)  # 70x90: padded to 72x96, cropped back
    out = model(x)
    assert isinstance(out, tuple)
    main, aux = out
    assert main.shape == (2, 3, 70, 90) and len(aux) == 1 and aux[0].shape == (2, 3, 70, 90)
    loss = AuxLoss(create_loss("ce", 3), model.aux_weights)(out, torch.randint(0, 3, (2, 70, 90)))
    loss.backward()
    assert torch.isfinite(x.grad).all()
    assert model.net.aux_head.classifier.weight.grad.abs().sum() > 0
    assert model.net.head.classifier.weight.grad.abs().sum() > 0
    assert model.net.backbone.conv1[0].weight.grad.abs().sum() > 0


def test_eval_returns_tensor_at_any_size():
    model = create_model(ARCH, 4).eval()
    with torch.no_grad():
        for size in [(70, 90), (64, 96), (33, 47)]:
            y = model(torch.randn(1, 3, *size))
            assert isinstance(y, torch.Tensor) and y.shape == (1, 4, *size)


def test_flops_count_the_main_path_only():
    model = create_model(ARCH, 11)
    gf = count_gflops(model, (64, 96))
    assert model.training  # count_gflops restores the mode
    model.net.aux_head = nn.Identity()  # not called in eval: removing it changes nothing
    assert count_gflops(model, (64, 96)) == pytest.approx(gf)


def test_dropout_option():
    assert nn.Dropout2d not in {type(m) for m in create_model(ARCH, 3).modules()}
    model = create_model(ARCH, 3, dropout=0.2)
    assert isinstance(model.net.head.dropout, nn.Dropout2d) and model.net.head.dropout.p == 0.2
    assert isinstance(model.net.aux_head.dropout, nn.Dropout2d)


def test_group_norm_option():
    types = {type(m) for m in create_model(ARCH, 3, norm="group").modules()}
    assert nn.GroupNorm in types and nn.BatchNorm2d not in types
    with pytest.raises(ModelError, match="supports norm"):
        create_model(ARCH, 3, norm="none")
    with pytest.raises(ModelError, match="does not apply"):
        create_model(ARCH, 3, output_stride=16)


def test_backbone_is_the_encoder_and_keeps_reference_key_names():
    model = create_model(ARCH, 3)
    assert model.encoder is model.net.backbone
    keys = set(model.encoder.state_dict())
    for key in ("conv1.0.weight", "layer1.0.conv1.weight", "layer3_.1.bn2.running_var",
                "layer5.0.conv3.weight", "compression3.1.weight", "down4.3.weight"):
        assert key in keys


def test_backbone_weights_load_from_a_file(tmp_path):
    src = DDRNet(5)
    path = tmp_path / "ddrnet_imagenet.pth"
    state = {k: v for k, v in src.backbone.state_dict().items()}
    state["linear.weight"] = torch.zeros(1000, 1024)  # a classifier head is ignored
    torch.save(state, path)
    model = create_model(ARCH, 3, pretrained=True, weights_path=str(path))
    torch.testing.assert_close(model.encoder.layer2[0].conv1.weight,
                               src.backbone.layer2[0].conv1.weight)
