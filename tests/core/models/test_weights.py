"""Encoder weights load only from local files, strictly, whatever prefix convention saved them."""
import pytest
import torch
from safetensors.torch import save_file

from core.errors import ModelError
from core.models import create_model


def _same(a, b):
    sa, sb = a.state_dict(), b.state_dict()
    return all(torch.equal(sa[k], sb[k]) for k in sa)


def test_load_encoder_state_dict_pth(tmp_path):
    src = create_model("unet", 3, "resnet18")
    path = tmp_path / "enc.pth"
    torch.save(src.encoder.state_dict(), path)
    dst = create_model("unet", 5, "resnet18", pretrained=True, weights_path=path)
    assert _same(src.encoder, dst.encoder)
    assert not _same(src.net.decoder, dst.net.decoder)  # only the encoder is loaded


def test_load_torchvision_style_classifier_checkpoint(tmp_path):
    """A torchvision resnet18 checkpoint (with its fc head) fits the SMP resnet18 encoder."""
    from torchvision.models import resnet18

    tv = resnet18(weights=None, num_classes=7)
    path = tmp_path / "resnet18.pth"
    torch.save({"state_dict": tv.state_dict()}, path)
    model = create_model("segformer", 3, "resnet18", pretrained=True, weights_path=path)
    assert torch.equal(model.encoder.conv1.weight, tv.conv1.weight)
    assert torch.equal(model.encoder.layer4[1].bn2.running_var, tv.layer4[1].bn2.running_var)


def test_load_timm_safetensors_into_tu_encoder(tmp_path):
    import timm

    net = timm.create_model("resnet18", pretrained=False)
    path = tmp_path / "resnet18.safetensors"
    save_file(net.state_dict(), str(path))
    model = create_model("unet", 3, "tu-resnet18", pretrained=True, weights_path=path)
    assert torch.equal(model.encoder.model.conv1.weight, net.conv1.weight)


def test_load_whole_model_checkpoint_into_tv_backbone(tmp_path):
    src = create_model("deeplabv3-tv", 3, "mobilenet_v3_large")
    path = tmp_path / "run.pt"
    torch.save(src.state_dict(), path)  # "net.backbone." prefixed
    dst = create_model("deeplabv3-tv", 4, "mobilenet_v3_large", weights_path=path)
    assert _same(src.encoder, dst.encoder)


def test_baseline_encoder_roundtrip(tmp_path):
    src = create_model("baseline", 3, norm="group")
    path = tmp_path / "b.pth"
    torch.save(src.state_dict(), path)
    assert _same(src.encoder, create_model("baseline", 3, norm="group", weights_path=path).encoder)


def test_shape_mismatch_is_a_clear_error(tmp_path):
    path = tmp_path / "r34.pth"
    torch.save(create_model("unet", 3, "resnet50").encoder.state_dict(), path)
    with pytest.raises(ModelError, match="does not fit this encoder.*shape mismatch"):
        create_model("unet", 3, "resnet18", pretrained=True, weights_path=path)


def test_missing_keys_and_foreign_files(tmp_path):
    state = create_model("unet", 3, "resnet18").encoder.state_dict()
    partial = tmp_path / "partial.pth"
    torch.save({k: v for k, v in state.items() if not k.startswith("layer4")}, partial)
    with pytest.raises(ModelError, match="lacks .* encoder tensors"):
        create_model("unet", 3, "resnet18", weights_path=partial)

    foreign = tmp_path / "foreign.pth"
    torch.save({"something.else": torch.zeros(3)}, foreign)
    with pytest.raises(ModelError, match="no tensors matching this encoder"):
        create_model("unet", 3, "resnet18", weights_path=foreign)

    with pytest.raises(ModelError, match="weights file not found"):
        create_model("unet", 3, "resnet18", weights_path=tmp_path / "nope.pth")

    garbage = tmp_path / "garbage.pth"
    garbage.write_bytes(b"not a checkpoint")
    with pytest.raises(ModelError, match="cannot read weights file"):
        create_model("unet", 3, "resnet18", weights_path=garbage)


def test_pickled_objects_are_refused(tmp_path):
    """weights_only=True: a file carrying arbitrary Python objects is not unpickled."""
    path = tmp_path / "obj.pth"
    torch.save({"state_dict": create_model("baseline", 2).state_dict(), "cfg": object()}, path)
    with pytest.raises(ModelError, match="cannot read weights file"):
        create_model("baseline", 2, weights_path=path)
