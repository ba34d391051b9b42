"""SegFormer-style all-MLP decoder on ResNet encoders, as in the report. SMP's `Segformer` is
exactly that decoder: a per-stage Linear projection, upsampling of every stage to 1/4,
concatenation, a 1x1 conv+BN+ReLU fuse and a 1x1 classifier (upsampled x4)."""
from __future__ import annotations

from core.models.option_spec import DROPOUT, NORM, OUTPUT_STRIDE
from core.models.registry import register_model
from core.models.smp_common import SMP_RESNETS, check_encoder, finish, smp_model


@register_model("segformer", encoders=SMP_RESNETS, default_encoder="resnet18",
                options=(DROPOUT, OUTPUT_STRIDE.narrowed((32, 16, 8)), NORM),
                description="SegFormer all-MLP decoder (SMP Segformer) on a ResNet encoder.")
def build_segformer(num_classes, encoder, *, dropout, output_stride, norm):
    check_encoder(encoder, SMP_RESNETS)
    model = smp_model("Segformer", encoder, num_classes, output_stride)
    return finish(model, dropout=dropout, norm=norm)
