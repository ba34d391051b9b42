"""The competition report's plain baseline CNN: conv/norm/ReLU + max-pool encoder, transposed-conv
("deconv") decoder, 1x1 classifier. Every toggle the report tried is a real switch here:
skip connections (U-Net-like concatenation), normalisation (batch/group/none, whole network),
dropout before the classifier, and a dilated encoder (output stride 16 or 8: the last pools
become identities and the convs after them dilate, so the receptive field is kept)."""
from __future__ import annotations

import torch
from torch import nn

from core.models.option_spec import DROPOUT, NORM, OUTPUT_STRIDE, SKIP
from core.models.options import head_dropout, make_norm
from core.models.registry import Built, register_model

ENC_WIDTHS = (32, 64, 128, 256, 256)  # one conv stage per resolution 1, 1/2, ... 1/16
CENTER_WIDTH = 256                    # the stage at nominal 1/32 (after the last pool)
DEC_WIDTHS = (128, 64, 48, 32, 16)    # decoder outputs at 1/16 ... 1


class ConvNormAct(nn.Sequential):
    def __init__(self, cin: int, cout: int, norm: str, dilation: int = 1):
        super().__init__(
            nn.Conv2d(cin, cout, 3, padding=dilation, dilation=dilation, bias=norm == "none"),
            make_norm(norm, cout),
            nn.ReLU(inplace=True),
        )


class BaselineEncoder(nn.Module):
    """Returns the feature before each pool (strides 1..16) plus the centre (stride <= 32)."""

    def __init__(self, norm: str, output_stride: int = 32):
        super().__init__()
        stages, pools, cin = [], [], 3
        for i, width in enumerate(ENC_WIDTHS):
            stages.append(ConvNormAct(cin, width, norm, dilation=max(1, 2**i // output_stride)))
            pools.append(nn.MaxPool2d(2) if 2 ** (i + 1) <= output_stride else nn.Identity())
            cin = width
        self.stages, self.pools = nn.ModuleList(stages), nn.ModuleList(pools)
        self.center = ConvNormAct(cin, CENTER_WIDTH, norm, dilation=max(1, 32 // output_stride))
        self.out_channels = (*ENC_WIDTHS, CENTER_WIDTH)
        self.strides = tuple(min(2**i, output_stride) for i in range(len(ENC_WIDTHS) + 1))

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        features = []
        for stage, pool in zip(self.stages, self.pools):
            x = stage(x)
            features.append(x)
            x = pool(x)
        features.append(self.center(x))
        return features


class BaselineDecoder(nn.Module):
    """Deconv x2 where the encoder pooled (1x1 conv where it dilated instead), then a conv over
    the upsampled map, concatenated with the encoder feature of that size when `skip`."""

    def __init__(self, enc_channels, enc_strides, norm: str, skip: bool):
        super().__init__()
        self.skip = skip
        ups, convs, cin = [], [], enc_channels[-1]
        for level, width in zip(range(len(enc_channels) - 2, -1, -1), DEC_WIDTHS):
            scale = enc_strides[level + 1] // enc_strides[level]
            ups.append(nn.ConvTranspose2d(cin, width, 2, stride=2) if scale == 2
                       else nn.Conv2d(cin, width, 1))
            convs.append(ConvNormAct(width + (enc_channels[level] if skip else 0), width, norm))
            cin = width
        self.ups, self.convs = nn.ModuleList(ups), nn.ModuleList(convs)
        self.out_channels = cin

    def forward(self, features: list[torch.Tensor]) -> torch.Tensor:
        x = features[-1]
        for up, conv, skip in zip(self.ups, self.convs, reversed(features[:-1])):
            x = up(x)
            x = conv(torch.cat([x, skip], dim=1) if self.skip else x)
        return x


class BaselineCNN(nn.Module):
    """encoder -> decoder -> Dropout2d -> 1x1 classifier; input H, W multiples of output_stride."""

    def __init__(self, num_classes: int, *, dropout=0.0, output_stride=32, skip=True,
                 norm="batch"):
        super().__init__()
        self.encoder = BaselineEncoder(norm, output_stride)
        self.decoder = BaselineDecoder(self.encoder.out_channels, self.encoder.strides, norm, skip)
        self.dropout = head_dropout(dropout)
        self.classifier = nn.Conv2d(self.decoder.out_channels, num_classes, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.dropout(self.decoder(self.encoder(x))))


@register_model("baseline", encoders=("cnn",), default_encoder="cnn",
                options=(DROPOUT, OUTPUT_STRIDE.narrowed((32, 16, 8)), SKIP, NORM),
                description="The report's plain CNN: conv/BN/ReLU/max-pool encoder, "
                            "transposed-conv decoder; optional skips, norm, dropout, dilation.")
def build_baseline(num_classes, encoder, *, dropout, output_stride, skip, norm) -> Built:
    if encoder != "cnn":
        raise ValueError(f"baseline has one encoder, 'cnn' (got {encoder!r})")
    net = BaselineCNN(num_classes, dropout=dropout, output_stride=output_stride, skip=skip,
                      norm=norm)
    return Built(net, pad_multiple=output_stride)
