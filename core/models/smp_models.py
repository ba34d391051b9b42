"""SMP architectures (Unet, DeepLabV3, DeepLabV3+, FPN) on SMP ResNets or timm encoders
("tu-<name>"), with the report's toggles applied as real changes to the SMP network."""
from __future__ import annotations

from torch import nn

from core.models.option_spec import DROPOUT, NORM, OUTPUT_STRIDE, SKIP
from core.models.registry import register_model
from core.models.smp_common import SMP_ENCODERS, check_encoder, finish, smp_encoder, smp_model

_UNET_NORM = {"batch": "batchnorm", "none": "identity", "group": "batchnorm"}


@register_model("unet", encoders=SMP_ENCODERS, default_encoder="resnet18",
                options=(DROPOUT, OUTPUT_STRIDE.narrowed((32, 16, 8)), SKIP, NORM),
                description="U-Net (SMP): decoder concatenating every encoder stage.")
def build_unet(num_classes, encoder, *, dropout, output_stride, skip, norm):
    from segmentation_models_pytorch.base.initialization import initialize_decoder

    from core.models.smp_decoders import UnetNoSkipDecoder, no_skip_channels

    check_encoder(encoder, SMP_ENCODERS)
    model = smp_model("Unet", encoder, num_classes, output_stride,
                      decoder_use_norm=_UNET_NORM[norm])
    if not skip:
        model.decoder = UnetNoSkipDecoder(
            encoder_channels=no_skip_channels(model.encoder.out_channels),
            decoder_channels=(256, 128, 64, 32, 16), n_blocks=5, use_norm=_UNET_NORM[norm],
            add_center_block=encoder.startswith("vgg"))
        initialize_decoder(model.decoder)
    # batch/none are SMP's own decoder_use_norm; group is swapped in afterwards
    return finish(model, dropout=dropout, norm=norm,
                  native_norm="batch" if norm == "group" else norm)


def _deeplab(cls_name, num_classes, encoder, output_stride):
    """SMP DeepLab accepts output stride 8/16 only; 32 (no dilation) swaps in a plain encoder
    and rescales the upsampling that depended on the stride."""
    model = smp_model(cls_name, encoder, num_classes, 32,
                      encoder_output_stride=min(output_stride, 16))
    if output_stride == 32:
        model.encoder = smp_encoder(encoder, 32)
        if cls_name == "DeepLabV3":
            model.segmentation_head[1] = nn.Upsample(scale_factor=32, mode="bilinear",
                                                     align_corners=True)
        else:
            model.decoder.up = nn.Upsample(scale_factor=8, mode="bilinear", align_corners=True)
    return model


@register_model("deeplabv3", encoders=SMP_ENCODERS, default_encoder="resnet50",
                options=(DROPOUT, OUTPUT_STRIDE.narrowed((8, 16, 32)), NORM),
                description="DeepLabV3 (SMP): ASPP on a dilated encoder (output stride 8 by "
                            "default, as in the report's ResNet50 run).")
def build_deeplabv3(num_classes, encoder, *, dropout, output_stride, norm):
    check_encoder(encoder, SMP_ENCODERS)
    model = _deeplab("DeepLabV3", num_classes, encoder, output_stride)
    return finish(model, dropout=dropout, norm=norm)


@register_model("deeplabv3plus", encoders=SMP_ENCODERS, default_encoder="resnet18",
                options=(DROPOUT, OUTPUT_STRIDE.narrowed((16, 8, 32)), SKIP, NORM),
                description="DeepLabV3+ (SMP): ASPP plus a stride-4 low-level skip branch.")
def build_deeplabv3plus(num_classes, encoder, *, dropout, output_stride, skip, norm):
    from core.models.smp_decoders import DeepLabV3PlusNoSkipDecoder

    check_encoder(encoder, SMP_ENCODERS)
    model = _deeplab("DeepLabV3Plus", num_classes, encoder, output_stride)
    if not skip:
        up = model.decoder.up
        model.decoder = DeepLabV3PlusNoSkipDecoder(
            encoder_channels=model.encoder.out_channels, encoder_depth=5, out_channels=256,
            atrous_rates=(12, 24, 36), output_stride=min(output_stride, 16),
            aspp_separable=True, aspp_dropout=0.5)
        model.decoder.up = up  # the stride-dependent upsampling chosen above
    return finish(model, dropout=dropout, norm=norm)


@register_model("fpn", encoders=SMP_ENCODERS, default_encoder="resnet18",
                options=(DROPOUT, SKIP, NORM.narrowed(("group", "batch", "none"))),
                description="FPN (SMP, panoptic-FPN head): top-down pyramid with lateral "
                            "connections, GroupNorm decoder. Fixed output stride 32.")
def build_fpn(num_classes, encoder, *, dropout, skip, norm):
    from core.models.smp_decoders import TopDownOnly

    check_encoder(encoder, SMP_ENCODERS)
    # FPN's decoder already ends in Dropout2d right before the head: `dropout` sets it
    model = smp_model("FPN", encoder, num_classes, 32, decoder_dropout=dropout)
    if not skip:
        for name in ("p4", "p3", "p2"):
            setattr(model.decoder, name, TopDownOnly())
    return finish(model, dropout=dropout, norm=norm, native_norm="group", add_dropout=False)
