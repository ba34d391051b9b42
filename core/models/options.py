"""Shared pieces behind the report's toggles (normalisation, head dropout), so that each option
changes the built network the same way in every architecture."""
from __future__ import annotations

from torch import nn


def group_count(channels: int) -> int:
    """GroupNorm groups: up to 32, at least 4 channels per group, dividing `channels`."""
    g = 32
    while g > 1 and (channels % g or channels // g < 4):
        g //= 2
    return g


def make_norm(norm: str, channels: int) -> nn.Module:
    if norm == "batch":
        return nn.BatchNorm2d(channels)
    if norm == "group":
        return nn.GroupNorm(group_count(channels), channels)
    if norm == "none":
        return nn.Identity()
    raise ValueError(f"norm must be batch, group or none, got {norm!r}")


def convert_norm(module: nn.Module, norm: str) -> nn.Module:
    """Swap every BatchNorm2d/GroupNorm inside `module` for `norm`, in place. With "none" the
    conv just before each removed norm gets a bias, so the layer keeps its affine offset.
    Relies on modules being registered in forward order (true for SMP/torchvision decoders)."""
    last_conv = None
    swaps = []
    for qual, child in module.named_modules():  # depth-first pre-order = registration order
        if isinstance(child, (nn.Conv2d, nn.ConvTranspose2d)):
            last_conv = child
        elif isinstance(child, (nn.BatchNorm2d, nn.GroupNorm)):
            parent_name, _, name = qual.rpartition(".")
            swaps.append((module.get_submodule(parent_name), name, child, last_conv))
    for parent, name, child, conv in swaps:
        channels = child.num_features if isinstance(child, nn.BatchNorm2d) else child.num_channels
        if norm == "none":
            if conv is None or conv.out_channels != channels:
                raise ValueError(f"cannot remove {name}: no conv with {channels} outputs before it")
            if conv.bias is None:
                conv.bias = nn.Parameter(conv.weight.new_zeros(channels))
        setattr(parent, name, make_norm(norm, channels))
    return module


def head_dropout(p: float) -> nn.Module:
    """Dropout2d before the classifier; Identity at p=0. Neither has state, so checkpoints of
    one architecture have the same keys whatever the dropout."""
    return nn.Dropout2d(p) if p > 0 else nn.Identity()
