"""Helpers shared by the SMP-based architectures: encoder name checks, building an SMP model
offline, and applying the report's toggles to it after the fact.

SMP is imported lazily so that `import core.models` (the GUI at start-up) stays fast."""
from __future__ import annotations

from torch import nn

from core.errors import ModelError
from core.models.options import convert_norm, head_dropout
from core.models.registry import Built

# Offered in the GUI. SMP's own torchvision-style ResNets plus timm encoders via "tu-<name>";
# any other SMP or timm encoder name is accepted too (untested).
SMP_RESNETS = ("resnet18", "resnet34", "resnet50", "resnet101")
TIMM_ENCODERS = ("tu-resnet18", "tu-resnet50", "tu-mobilenetv3_large_100", "tu-efficientnet_b0")
SMP_ENCODERS = SMP_RESNETS + TIMM_ENCODERS


def check_encoder(name: str, offered) -> None:
    """ModelError (short, with the offered list) for names neither SMP nor timm knows."""
    import segmentation_models_pytorch as smp
    import timm

    known = (name in smp.encoders.get_encoder_names()
             or (name.startswith("tu-") and timm.is_model(name[3:])))
    if not known:
        raise ModelError(f"unknown encoder {name!r}; offered: {', '.join(offered)} "
                         "(or any SMP encoder name, or 'tu-<timm model>')")


def smp_model(cls_name: str, encoder: str, num_classes: int, output_stride: int, **kwargs):
    """An SMP model with random encoder weights (encoder_weights=None never downloads)."""
    import segmentation_models_pytorch as smp

    if output_stride != 32:
        kwargs["output_stride"] = output_stride  # forwarded to get_encoder -> dilation
    return getattr(smp, cls_name)(encoder_name=encoder, encoder_weights=None,
                                  classes=num_classes, **kwargs)


def smp_encoder(encoder: str, output_stride: int):
    """A bare SMP encoder (used where an SMP model refuses an output stride, e.g. DeepLab 32)."""
    from segmentation_models_pytorch.encoders import get_encoder

    return get_encoder(encoder, in_channels=3, depth=5, weights=None, output_stride=output_stride)


def finish(model: nn.Module, *, dropout: float, norm: str, native_norm: str = "batch",
           add_dropout: bool = True) -> Built:
    """Apply decoder norm and head dropout, and say what to pad to: SMP checks that H, W divide
    the encoder's output stride for every model that needs it."""
    if norm != native_norm:
        convert_norm(model.decoder, norm)
    if add_dropout:
        model.segmentation_head.insert(0, head_dropout(dropout))
    multiple = model.encoder.output_stride if model.requires_divisible_input_shape else 1
    return Built(model, pad_multiple=multiple)
