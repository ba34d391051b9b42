"""Encoder weights from a local file only (the app runs offline; nothing is downloaded).

Accepts a torchvision/timm classifier checkpoint (`conv1.weight`, ..., `fc.weight`), an SMP
encoder or whole-model state dict (`encoder.` prefix), a roadseg checkpoint (`net.encoder.`),
and `{"state_dict"|"model": ...}` wrappers. The key prefix that matches the encoder best is
chosen; every encoder tensor must then be present with the right shape, or a clear error says
which are not. Extra keys (a classifier head, a decoder) are ignored.
"""
from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from core.errors import ModelError

_STRIP = ("", "module.", "net.", "encoder.", "net.encoder.", "backbone.", "net.backbone.",
          "model.", "features.", "encoder.model.")
_ADD = ("", "model.")  # SMP's timm encoders keep the timm network under `.model`
_OPTIONAL = ("num_batches_tracked",)


def read_state_dict(path) -> dict[str, torch.Tensor]:
    """Tensors from a .safetensors or torch file, never unpickling arbitrary objects."""
    path = Path(path)
    if not path.is_file():
        raise ModelError(f"weights file not found: {path}")
    try:
        if path.suffix == ".safetensors":
            from safetensors.torch import load_file
            state = load_file(str(path), device="cpu")
        else:
            state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # corrupt file, pickle with objects, wrong format
        raise ModelError(f"cannot read weights file {path}: {exc}") from exc
    for key in ("state_dict", "model", "model_state", "net"):
        if isinstance(state, dict) and isinstance(state.get(key), dict):
            state = state[key]
    if not isinstance(state, dict) or not all(torch.is_tensor(v) for v in state.values()):
        raise ModelError(f"weights file {path} does not hold a state dict of tensors")
    return state


def _remap(state: dict, targets: set[str]) -> dict:
    """Rename `state` keys with the strip/add prefix pair that hits most encoder keys."""
    best: dict = {}
    for strip in _STRIP:
        for add in _ADD:
            mapped = {add + k[len(strip):]: v for k, v in state.items() if k.startswith(strip)}
            hits = {k: v for k, v in mapped.items() if k in targets}
            if len(hits) > len(best):
                best = hits
    return best


def load_encoder_weights(encoder: nn.Module, path) -> None:
    """Copy tensors from `path` into `encoder`; ModelError on any missing key or shape mismatch."""
    own = encoder.state_dict()
    state = _remap(read_state_dict(path), set(own))
    if not state:
        raise ModelError(f"weights file {path} has no tensors matching this encoder "
                         f"(expected keys like {', '.join(list(own)[:3])})")
    wrong = [f"{k}: file {tuple(v.shape)} vs model {tuple(own[k].shape)}"
             for k, v in state.items() if v.shape != own[k].shape]
    if wrong:
        raise ModelError(f"weights file {path} does not fit this encoder ({len(wrong)} shape "
                         f"mismatches, e.g. {'; '.join(wrong[:3])}); was it saved for another "
                         "encoder?")
    missing = [k for k in own if k not in state and not k.endswith(_OPTIONAL)]
    if missing:
        raise ModelError(f"weights file {path} lacks {len(missing)} encoder tensors "
                         f"(e.g. {', '.join(missing[:3])}); was it saved for another encoder?")
    encoder.load_state_dict(state, strict=False)
