"""torchvision's DeepLabV3 (ResNet50/101, MobileNetV3-Large), built offline: weights=None,
weights_backbone=None, no auxiliary head; the wrapper returns the "out" logits.

torchvision's builders fix the dilation (ResNet output stride 8, MobileNet 16); other strides
reuse torchvision's own private assembly helpers on a backbone built with that dilation, so the
network is otherwise identical to the builder's."""
from __future__ import annotations

from torch import nn

from core.models.option_spec import DROPOUT, NORM, OUTPUT_STRIDE
from core.models.options import convert_norm, head_dropout
from core.models.registry import Built, register_model

TV_ENCODERS = ("resnet50", "resnet101", "mobilenet_v3_large")
_RESNET_DILATION = {8: [False, True, True], 16: [False, False, True], 32: [False, False, False]}


def _build_resnet(name, num_classes, output_stride):
    from torchvision.models import resnet50, resnet101
    from torchvision.models.segmentation import deeplabv3_resnet50, deeplabv3_resnet101
    from torchvision.models.segmentation.deeplabv3 import _deeplabv3_resnet

    if output_stride == 8:
        builder = deeplabv3_resnet50 if name == "resnet50" else deeplabv3_resnet101
        return builder(weights=None, weights_backbone=None, num_classes=num_classes,
                       aux_loss=False)
    backbone = (resnet50 if name == "resnet50" else resnet101)(
        weights=None, replace_stride_with_dilation=_RESNET_DILATION[output_stride])
    return _deeplabv3_resnet(backbone, num_classes, False)


def _build_mobilenet(num_classes, output_stride):
    from torchvision.models import mobilenet_v3_large
    from torchvision.models.segmentation import deeplabv3_mobilenet_v3_large
    from torchvision.models.segmentation.deeplabv3 import _deeplabv3_mobilenetv3

    if output_stride == 16:
        return deeplabv3_mobilenet_v3_large(weights=None, weights_backbone=None,
                                            num_classes=num_classes, aux_loss=False)
    if output_stride == 32:
        return _deeplabv3_mobilenetv3(mobilenet_v3_large(weights=None, dilated=False),
                                      num_classes, False)
    raise ValueError("mobilenet_v3_large supports output_stride 16 or 32 (torchvision "
                     "dilates only its last stage)")


@register_model("deeplabv3-tv", encoders=TV_ENCODERS, default_encoder="resnet50",
                options=(DROPOUT, OUTPUT_STRIDE.narrowed((8, 16, 32)), NORM),
                encoder_defaults={"mobilenet_v3_large": {"output_stride": 16}},
                description="torchvision DeepLabV3 (deeplabv3_resnet50 / _resnet101 / "
                            "_mobilenet_v3_large), no aux head.")
def build_deeplabv3_tv(num_classes, encoder, *, dropout, output_stride, norm):
    if encoder not in TV_ENCODERS:
        raise ValueError(f"unknown encoder {encoder!r}; offered: {', '.join(TV_ENCODERS)}")
    if encoder == "mobilenet_v3_large":
        net = _build_mobilenet(num_classes, output_stride)
    else:
        net = _build_resnet(encoder, num_classes, output_stride)
    if norm != "batch":
        convert_norm(net.classifier, norm)
    # DeepLabHead = ASPP, conv, norm, ReLU, classifier conv: dropout goes before the last.
    # It upsamples its logits to the input size itself, so any H, W works without padding.
    net.classifier[-1] = nn.Sequential(head_dropout(dropout), net.classifier[-1])
    return Built(net, pad_multiple=1, output_key="out")
