"""Registry behaviour: names, info for the GUI, option validation and the offline rule."""
import pytest
import torch
from torch import nn

from core.errors import ModelError
from core.models import create_model, list_models, model_info, register_model
from core.models.registry import Built, _REGISTRY


def test_model_info_fields():
    for arch in list_models():
        info = model_info(arch)
        assert info.name == arch and info.description
        assert info.default_encoder in info.encoders
        assert info.options <= {"dropout", "output_stride", "skip", "norm", "quarter_skip", "boundary_head", "refine", "strip"}
        assert info.defaults["output_stride"] in info.output_strides
        assert info.defaults["norm"] in info.norms
    assert model_info("segformer").encoders == ("resnet18", "resnet34", "resnet50", "resnet101")
    assert "tu-resnet18" in model_info("unet").encoders
    assert model_info("baseline").options == {"dropout", "output_stride", "skip", "norm"}
    assert "skip" not in model_info("segformer").options
    assert "output_stride" not in model_info("fpn").options
    assert model_info("deeplabv3").defaults["output_stride"] == 8
    assert model_info("fpn").defaults["norm"] == "group"
    assert model_info("deeplabv3-tv").defaults_for("mobilenet_v3_large")["output_stride"] == 16


def test_unknown_arch_and_encoder():
    with pytest.raises(ModelError, match="unknown architecture 'nope'.*baseline"):
        create_model("nope", 3)
    with pytest.raises(ModelError, match="unknown encoder 'resnet7'"):
        create_model("unet", 3, "resnet7")
    with pytest.raises(ModelError, match="unknown encoder"):
        create_model("deeplabv3-tv", 3, "resnet18")
    assert model_info("UNet").name == "unet"  # names are case-insensitive


@pytest.mark.parametrize("arch,kwargs,match", [
    ("segformer", {"skip": False}, "skip=False does not apply to 'segformer'"),
    ("deeplabv3", {"skip": False}, "skip=False does not apply"),
    ("fpn", {"output_stride": 16}, "output_stride=16 does not apply to 'fpn'"),
    ("baseline", {"output_stride": 4}, "supports output_stride"),
    ("deeplabv3-tv", {"output_stride": 8}, "mobilenet_v3_large supports output_stride 16 or 32"),
    ("unet", {"detail": True}, "detail=True does not apply to 'unet'"),
    ("baseline", {"norm": "layer"}, "norm must be one of"),
    ("baseline", {"dropout": 1.0}, r"dropout must be in \[0, 1\)"),
    ("baseline", {"dropout": -0.1}, "dropout must be in"),
])
def test_bad_options_raise(arch, kwargs, match):
    enc = "mobilenet_v3_large" if arch == "deeplabv3-tv" else None
    with pytest.raises(ModelError, match=match):
        create_model(arch, 3, enc, **kwargs)


def test_options_at_their_fixed_value_are_accepted():
    assert create_model("fpn", 2, output_stride=32, skip=True).options["output_stride"] == 32
    assert create_model("segformer", 2, skip=True).options["skip"] is True


@pytest.mark.parametrize("n", [0, -1, 2.5, True, "3"])
def test_bad_num_classes(n):
    with pytest.raises(ModelError, match="num_classes"):
        create_model("baseline", n)


def test_register_model_decorator():
    @register_model("tiny-test", encoders=("none",), default_encoder="none",
                    options=("dropout",), description="a 1x1 conv")
    def build(num_classes, encoder, *, dropout, output_stride, skip, norm, detail, refine, strip):
        return Built(nn.Sequential(nn.Dropout2d(dropout), nn.Conv2d(3, num_classes, 1)),
                     pad_multiple=4)

    try:
        assert "tiny-test" in list_models()
        model = create_model("tiny-test", 2, dropout=0.2)
        assert model(torch.randn(1, 3, 5, 7)).shape == (1, 2, 5, 7)
        with pytest.raises(ModelError, match="norm='group' does not apply"):
            create_model("tiny-test", 2, norm="group")
        with pytest.raises(ValueError, match="unknown model options"):
            register_model("bad", encoders=(), default_encoder="", options=("colour",),
                           description="")
    finally:
        _REGISTRY.pop("tiny-test", None)
