"""DDRNet-23-slim (Hong et al., "Deep Dual-resolution Networks for Real-time and Accurate
Semantic Segmentation of Road Scenes", 2021), the real-time network of the registry.

Why this one, for training from scratch on a 2-core CPU: at 360x480 it costs 6.1 GFLOPs
(UNet-ResNet18: 29.3) and trains ~4x faster in fp32 (benchmarks/bench_realtime.py), because it
is built only from dense 3x3/1x1 convs in ResNet basic blocks, which oneDNN runs well on AVX2.
BiSeNetV2 (17 GFLOPs with its 1024-wide head, depthwise "gather-and-expand" layers) measured
~2x slower to train; PIDNet-S is heavier still and needs a boundary loss. BN residual blocks
train well from scratch. Neither timm nor SMP ships it, so it is written here
after the authors' reference code (github.com/ydhongHIT/DDRNet, DDRNet_23_slim.py): same
widths (32/64/128/256, high-res branch 64), bilateral fusion after stages 3 and 4, DAPPM
context module at 1/64, and the auxiliary "seg_head_extra" on the high-res branch after
stage 3, weighted 0.4 in the loss as in the paper.

In training mode the network returns `(main_logits, [aux_logits])`, both at the input size;
in eval mode only the main logits (so FLOPs, prediction and export see the main path only).

`quarter_skip=True` (formerly `skip`) adds one thing the paper does not have: a 1/4-resolution skip from the stem into the
head (`DetailFusion`, DeepLabV3+'s low-level path). DDRNet's output sits at 1/8, where a 4-px pole
of a 360x480 CamVid image is half a cell; the paper trains on 720x960 images.

`boundary_head=True` (formerly `detail`) adds a train-time head on those 1/4 stem features that predicts where the ground
truth changes class (`DetailHead`, after STDC's "detail guidance", Fan et al. 2021, and PIDNet's
boundary branch): thin things such as poles are all boundary, and the stem features that the skip
path hands to the classifier learn to mark them. The head is dropped in eval mode, so FLOPs,
prediction and export are those of the network without it.

`strip=True` gates the 1/8 features (after the DAPPM context is added) with SPNet's strip
pooling (`StripPooling`, Hou et al., "Strip Pooling: Rethinking Spatial Pooling for Scene
Parsing", CVPR 2020): every pixel sees the mean of its whole row and its whole column. A lamp
post is a long thin vertical band; square pooling windows (DAPPM's) mix it with the building
behind it, a column does not.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from core.models.option_spec import DROPOUT, NORM, SKIP, Option
from core.models.options import head_dropout, make_norm
from core.models.registry import Built, register_model

PLANES, SPP_PLANES, HEAD_PLANES = 32, 128, 64  # the "slim" widths of the reference code
DETAIL_PLANES = 32  # width of the 1/4-resolution skip path (quarter_skip=True)
AUX_WEIGHTS = (0.4,)
BOUNDARY_WEIGHT = 1.0  # STDC weighs its detail loss (BCE + Dice) 1 against the segmentation loss


def _up(x: torch.Tensor, size) -> torch.Tensor:
    return F.interpolate(x, size=size, mode="bilinear", align_corners=False)


def conv_norm(cin, cout, norm, k=3, stride=1) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, k, stride, k // 2, bias=False), make_norm(norm, cout))


class BasicBlock(nn.Module):
    """ResNet basic block; the last block of a stage skips the final ReLU (`no_relu`) because
    DDRNet applies it after the bilateral fusion instead. Attribute names follow the reference
    code so its ImageNet checkpoint keys fit."""

    expansion = 1

    def __init__(self, cin, planes, norm, stride=1, downsample=None, no_relu=False):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, planes, 3, stride, 1, bias=False)
        self.bn1 = make_norm(norm, planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = make_norm(norm, planes)
        self.downsample = downsample
        self.no_relu = no_relu

    def forward(self, x):
        out = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))
        out = out + (x if self.downsample is None else self.downsample(x))
        return out if self.no_relu else F.relu(out)


class Bottleneck(nn.Module):
    """ResNet bottleneck with expansion 2 (DDRNet's layer5 / layer5_)."""

    expansion = 2

    def __init__(self, cin, planes, norm, stride=1, downsample=None, no_relu=False):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, planes, 1, bias=False)
        self.bn1 = make_norm(norm, planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride, 1, bias=False)
        self.bn2 = make_norm(norm, planes)
        self.conv3 = nn.Conv2d(planes, planes * self.expansion, 1, bias=False)
        self.bn3 = make_norm(norm, planes * self.expansion)
        self.downsample = downsample
        self.no_relu = no_relu

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = F.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out)) + (x if self.downsample is None else self.downsample(x))
        return out if self.no_relu else F.relu(out)


def make_layer(block, cin, planes, blocks, norm, stride=1) -> nn.Sequential:
    downsample = None
    if stride != 1 or cin != planes * block.expansion:
        downsample = conv_norm(cin, planes * block.expansion, norm, 1, stride)
    layers = [block(cin, planes, norm, stride, downsample)]
    cin = planes * block.expansion
    for i in range(1, blocks):
        layers.append(block(cin, planes, norm, no_relu=i == blocks - 1))
    return nn.Sequential(*layers)


def _pre(norm, cin, cout, k=1) -> nn.Sequential:
    """Pre-activation unit (norm, ReLU, conv) used throughout DAPPM and the heads."""
    return nn.Sequential(make_norm(norm, cin), nn.ReLU(inplace=True),
                         nn.Conv2d(cin, cout, k, padding=k // 2, bias=False))


class DAPPM(nn.Module):
    """Deep Aggregation Pyramid Pooling Module: average pools at growing scales, each upsampled
    and refined together with the previous scale (hierarchical residual fusion)."""

    def __init__(self, cin, branch, cout, norm):
        super().__init__()
        pools = [nn.AvgPool2d(5, 2, 2), nn.AvgPool2d(9, 4, 4), nn.AvgPool2d(17, 8, 8),
                 nn.AdaptiveAvgPool2d(1)]
        self.scale0 = _pre(norm, cin, branch)
        self.scales = nn.ModuleList(nn.Sequential(p, *_pre(norm, cin, branch)) for p in pools)
        self.process = nn.ModuleList(_pre(norm, branch, branch, 3) for _ in pools)
        self.compression = _pre(norm, branch * 5, cout)
        self.shortcut = _pre(norm, cin, cout)

    def forward(self, x):
        size = x.shape[-2:]
        outs = [self.scale0(x)]
        for scale, process in zip(self.scales, self.process):
            outs.append(process(_up(scale(x), size) + outs[-1]))
        return self.compression(torch.cat(outs, 1)) + self.shortcut(x)


class SegHead(nn.Module):
    """norm-ReLU-conv3x3, norm-ReLU, dropout, 1x1 classifier; logits upsampled to `size`."""

    def __init__(self, cin, mid, num_classes, norm, dropout):
        super().__init__()
        self.conv = _pre(norm, cin, mid, 3)
        self.act = nn.Sequential(make_norm(norm, mid), nn.ReLU(inplace=True))
        self.dropout = head_dropout(dropout)
        self.classifier = nn.Conv2d(mid, num_classes, 1)

    def forward(self, x, size):
        return _up(self.classifier(self.dropout(self.act(self.conv(x)))), size)


class DetailFusion(nn.Module):
    """The head with skip=True: SegHead's norm-ReLU-conv3x3 at 1/8, upsampled to 1/4 and added to
    the stem's 1/4 features (1x1-projected), then norm-ReLU-conv3x3 down to DETAIL_PLANES, and
    the classifier at 1/4. Adding instead of concatenating keeps the extra cost at 1/4 to
    ~0.4 GFLOPs at 360x480.

    `refine` puts two more norm-ReLU-conv3x3 units (`mid` wide, residual) after the addition,
    DeepLabV3+'s two-conv decoder depth: one conv at 1/4 can place a 3-px pole (sub-cell at the
    1/8 of the deep features) but has little room to decide whether it is one."""

    def __init__(self, cin, low_ch, mid, num_classes, norm, dropout, planes=DETAIL_PLANES,
                 refine=False):
        super().__init__()
        self.conv = _pre(norm, cin, mid, 3)
        self.low = conv_norm(low_ch, mid, norm, 1)
        self.fuse = _pre(norm, mid, planes, 3)
        self.act = nn.Sequential(make_norm(norm, planes), nn.ReLU(inplace=True))
        self.dropout = head_dropout(dropout)
        self.classifier = nn.Conv2d(planes, num_classes, 1)
        self.refine = (nn.Sequential(_pre(norm, mid, mid, 3), _pre(norm, mid, mid, 3))
                       if refine else None)

    def forward(self, x, low, size):
        x = _up(self.conv(x), low.shape[-2:]) + self.low(low)
        if self.refine is not None:
            x = x + self.refine(x)
        return _up(self.classifier(self.dropout(self.act(self.fuse(x)))), size)


class StripPooling(nn.Module):
    """SPNet's strip pooling module: average over each row (-> [C,H,1]) and each column
    (-> [C,1,W]), a 3-tap conv along the strip, both broadcast back and summed, ReLU, 1x1 conv,
    sigmoid gate on the input. A change at pixel (r, c) reaches rows r-1..r+1 and columns
    c-1..c+1 across the whole map and nothing else (tests/core/models/test_ddrnet.py)."""

    def __init__(self, ch, norm):
        super().__init__()
        self.rows = nn.Sequential(nn.Conv2d(ch, ch, (3, 1), padding=(1, 0), bias=False),
                                  make_norm(norm, ch))
        self.cols = nn.Sequential(nn.Conv2d(ch, ch, (1, 3), padding=(0, 1), bias=False),
                                  make_norm(norm, ch))
        self.gate = nn.Conv2d(ch, ch, 1)

    def forward(self, x):
        rows = self.rows(x.mean(dim=3, keepdim=True))  # [B,C,H,1]: each row's mean
        cols = self.cols(x.mean(dim=2, keepdim=True))  # [B,C,1,W]: each column's mean
        return x * torch.sigmoid(self.gate(F.relu(rows + cols)))


class DetailHead(nn.Module):
    """Train-time boundary logits from the 1/4 stem features: conv3x3-norm-ReLU, 1x1 to one
    channel, upsampled to `size` (STDC's detail head; the target comes from the labels,
    core.losses.boundary_target)."""

    def __init__(self, cin, norm, planes=DETAIL_PLANES):
        super().__init__()
        self.conv = nn.Sequential(*conv_norm(cin, planes, norm, 3), nn.ReLU(inplace=True))
        self.classifier = nn.Conv2d(planes, 1, 1)

    def forward(self, x, size):
        return _up(self.classifier(self.conv(x)), size)


class DualResBackbone(nn.Module):
    """Two branches from stage 3 on: a high-resolution one kept at 1/8 and a low-resolution one
    going down to 1/64, exchanging features twice (bilateral fusion). Module names are the
    reference code's, so `weights_path` can take its ImageNet classification checkpoint."""

    def __init__(self, norm, planes=PLANES, layers=(2, 2, 2, 2)):
        super().__init__()
        hi = planes * 2
        self.conv1 = nn.Sequential(*conv_norm(3, planes, norm, 3, 2), nn.ReLU(inplace=True),
                                   *conv_norm(planes, planes, norm, 3, 2), nn.ReLU(inplace=True))
        self.layer1 = make_layer(BasicBlock, planes, planes, layers[0], norm)
        self.layer2 = make_layer(BasicBlock, planes, hi, layers[1], norm, 2)
        self.layer3 = make_layer(BasicBlock, hi, planes * 4, layers[2], norm, 2)
        self.layer4 = make_layer(BasicBlock, planes * 4, planes * 8, layers[3], norm, 2)
        self.layer3_ = make_layer(BasicBlock, hi, hi, 2, norm)
        self.layer4_ = make_layer(BasicBlock, hi, hi, 2, norm)
        self.layer5_ = make_layer(Bottleneck, hi, hi, 1, norm)
        self.layer5 = make_layer(Bottleneck, planes * 8, planes * 8, 1, norm, 2)
        self.compression3 = conv_norm(planes * 4, hi, norm, 1)
        self.compression4 = conv_norm(planes * 8, hi, norm, 1)
        self.down3 = conv_norm(hi, planes * 4, norm, 3, 2)
        self.down4 = nn.Sequential(*conv_norm(hi, planes * 4, norm, 3, 2), nn.ReLU(inplace=True),
                                   *conv_norm(planes * 4, planes * 8, norm, 3, 2))
        self.out_channels = (hi * Bottleneck.expansion, planes * 16, hi)

    def forward(self, x):
        """-> (high-res 1/8 features, low-res 1/64 features, aux-head input at 1/8,
        stem features at 1/4)."""
        x = F.relu(self.layer1(self.conv1(x)))        # 1/4
        lo2 = self.layer2(x)                          # 1/8
        lo = self.layer3(F.relu(lo2))                 # 1/16
        hi = self.layer3_(F.relu(lo2))                # 1/8
        hi_size = hi.shape[-2:]
        # bilateral fusion: each branch gets the other's features from *before* this exchange
        lo, hi = (lo + self.down3(F.relu(hi)),
                  hi + _up(self.compression3(F.relu(lo)), hi_size))
        aux_in = hi
        lo = self.layer4(F.relu(lo))                  # 1/32
        hi = self.layer4_(F.relu(hi))
        lo, hi = (lo + self.down4(F.relu(hi)),
                  hi + _up(self.compression4(F.relu(lo)), hi_size))
        return self.layer5_(F.relu(hi)), self.layer5(F.relu(lo)), aux_in, x


class DDRNet(nn.Module):
    """Backbone, DAPPM context on the 1/64 branch added to the 1/8 branch, segmentation head;
    plus the auxiliary head on the stage-3 high-resolution features while training. With
    `quarter_skip` the head's features go through `DetailFusion` at 1/4 before the classifier;
    with `boundary_head` training also returns boundary logits from the 1/4 stem features
    (`DetailHead`); `refine` deepens the 1/4 path (needs `quarter_skip`); `strip` adds strip
    pooling at 1/8 before the head. Defaults are the registry's (`create_model`)."""

    aux_weights = AUX_WEIGHTS

    def __init__(self, num_classes, *, norm="batch", dropout=0.0, quarter_skip=True,
                 boundary_head=False, refine=False, strip=False, planes=PLANES, spp_planes=SPP_PLANES,
                 head_planes=HEAD_PLANES):
        super().__init__()
        self.backbone = DualResBackbone(norm, planes)
        hi_ch, lo_ch, aux_ch = self.backbone.out_channels
        self.spp = DAPPM(lo_ch, spp_planes, hi_ch, norm)
        self.strip = StripPooling(hi_ch, norm) if strip else None
        self.quarter_skip = quarter_skip
        if quarter_skip:
            self.head = DetailFusion(hi_ch, planes, head_planes, num_classes, norm, dropout,
                                     refine=refine)
        else:
            self.head = SegHead(hi_ch, head_planes, num_classes, norm, dropout)
        self.aux_head = SegHead(aux_ch, head_planes, num_classes, norm, dropout)
        self.detail_head = DetailHead(planes, norm) if boundary_head else None
        self.boundary_weight = BOUNDARY_WEIGHT if boundary_head else 0.0
        for m in self.modules():  # the reference code's initialisation
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, (nn.BatchNorm2d, nn.GroupNorm)):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)

    def forward(self, x):
        size = x.shape[-2:]
        hi, lo, aux_in, low = self.backbone(x)
        hi = hi + _up(self.spp(lo), hi.shape[-2:])
        if self.strip is not None:
            hi = self.strip(hi)
        out = self.head(hi, low, size) if self.quarter_skip else self.head(hi, size)
        if not self.training:
            return out
        aux = [self.aux_head(aux_in, size)]
        if self.detail_head is None:
            return out, aux
        return out, aux, self.detail_head(low, size)


QUARTER_SKIP = SKIP.renamed(
    "quarter_skip", label="1/4-resolution skip",
    help="a 1/4-resolution skip from the stem into the head, which the paper lacks (DeepLabV3+'s "
         "low-level path; DDRNet's output sits at 1/8)")
BOUNDARY_HEAD = Option(
    "boundary_head", "bool", False, label="Boundary head (training only)", aliases=("detail",),
    help="train-time head on the 1/4 features that learns where the labels change class (STDC's "
         "detail guidance), for thin things such as poles; dropped at inference: no cost")
REFINE = Option(
    "refine", "bool", False, label="Deeper skip path", requires="quarter_skip",
    help="two more residual 3x3 units on the 1/4 skip path (DeepLabV3+'s decoder depth), for "
         "thin things such as poles; +1.5 GFLOPs at 360x480")
STRIP = Option(
    "strip", "bool", False, label="Strip pooling",
    help="strip pooling at 1/8: each pixel gated by the mean of its whole row and whole column "
         "(SPNet), context for long thin things such as lamp posts")


@register_model("ddrnet23-slim", encoders=("ddrnet",), default_encoder="ddrnet",
                options=(DROPOUT, NORM.narrowed(("batch", "group")), BOUNDARY_HEAD,
                         QUARTER_SKIP, REFINE, STRIP),
                description="DDRNet-23-slim real-time network (dual-resolution branches, "
                            "DAPPM, aux head 0.4; quarter_skip: 1/4-resolution skip into the "
                            "head; boundary_head: train-time boundary head on the 1/4 features; "
                            "refine: two more 3x3 units on the 1/4 skip path; strip: strip "
                            "pooling at 1/8); "
                            "~6 GFLOPs at 360x480, trains from scratch.")
def build_ddrnet(num_classes, encoder, *, dropout, norm, quarter_skip, boundary_head, refine,
                 strip) -> Built:
    if encoder != "ddrnet":
        raise ValueError(f"ddrnet23-slim has one backbone, 'ddrnet' (got {encoder!r})")
    # pad to 8 so the 1/8 high-resolution branch aligns with the input grid exactly
    net = DDRNet(num_classes, norm=norm, dropout=dropout, quarter_skip=quarter_skip,
                 boundary_head=boundary_head, refine=refine, strip=strip)
    return Built(net, pad_multiple=8)
