"""Skip-less variants of SMP decoders, for the report's "skip connections off" toggle. Each is
the SMP decoder with the encoder-to-decoder connections really removed (no zero tensors, no
unused weights), so parameter count and FLOPs show what the skips cost."""
from __future__ import annotations

import torch.nn.functional as F
from segmentation_models_pytorch.decoders.deeplabv3.decoder import (
    DeepLabV3PlusDecoder, SeparableConv2d)
from segmentation_models_pytorch.decoders.unet.decoder import UnetDecoder
from torch import nn


class UnetNoSkipDecoder(UnetDecoder):
    """U-Net decoder without skips: each block upsamples to the next encoder resolution and
    convolves, but concatenates nothing (build with skip channels 0, see `no_skip_channels`)."""

    def forward(self, features):
        shapes = [f.shape[2:] for f in features][::-1]
        x = self.center(features[-1])
        for i, block in enumerate(self.blocks):
            x = block(x, shapes[i + 1][0], shapes[i + 1][1], skip_connection=None)
        return x


def no_skip_channels(encoder_channels) -> list[int]:
    """Encoder channels as UnetDecoder sees them when only the deepest feature is used."""
    return [encoder_channels[0]] + [0] * (len(encoder_channels) - 2) + [encoder_channels[-1]]


class TopDownOnly(nn.Module):
    """FPN block without the lateral 1x1 conv: the pyramid level is the upsampled coarser one."""

    def __init__(self, interpolation_mode: str = "nearest"):
        super().__init__()
        self.interpolation_mode = interpolation_mode

    def forward(self, x, skip=None):
        return F.interpolate(x, scale_factor=2.0, mode=self.interpolation_mode)


class DeepLabV3PlusNoSkipDecoder(DeepLabV3PlusDecoder):
    """DeepLabV3+ without its low-level (stride 4) branch: ASPP -> upsample -> separable conv."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        out = kwargs["out_channels"]
        del self.block1
        self.block2 = nn.Sequential(
            SeparableConv2d(out, out, kernel_size=3, padding=1, bias=False),
            nn.BatchNorm2d(out),
            nn.ReLU(),
        )

    def forward(self, features):
        return self.block2(self.up(self.aspp(features[-1])))
