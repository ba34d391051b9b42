"""Model registry: every architecture is created by name (timm style), so the CLI, the GUI and
a checkpoint's config all build the same network from a few plain values.

An architecture registers a builder with `@register_model(...)`. The builder gets validated,
resolved options and returns a `Built` (the bare network, what to pad the input to, where its
output sits); `create_model` wraps it in a `SegmentationNet` that pads, crops and carries the
metadata, then loads local encoder weights when asked.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from torch import nn

from core.errors import ModelError

OPTIONS = ("dropout", "output_stride", "skip", "norm", "detail", "refine", "strip")
NORMS = ("batch", "group", "none")


@dataclass(frozen=True)
class ModelInfo:
    """What the GUI needs to offer an architecture: its encoders, which options apply, which
    values each option may take and the architecture's own defaults."""

    name: str
    encoders: tuple[str, ...]
    default_encoder: str
    options: frozenset[str]
    description: str
    output_strides: tuple[int, ...] = (32,)
    norms: tuple[str, ...] = NORMS
    defaults: dict = field(default_factory=dict)  # option -> value used when None is passed
    encoder_defaults: dict = field(default_factory=dict)  # encoder -> {option: default}

    def defaults_for(self, encoder: str | None = None) -> dict:
        """Option defaults with this encoder's own overrides (e.g. a stride it lacks)."""
        return {**self.defaults, **self.encoder_defaults.get(encoder or self.default_encoder, {})}


@dataclass
class Built:
    """What a builder hands back: the bare network and how to call it."""

    net: nn.Module
    pad_multiple: int = 1          # input H, W padded up to a multiple of this, output cropped
    output_key: str | None = None  # torchvision models return a dict; take this entry


_REGISTRY: dict[str, tuple[ModelInfo, Callable[..., Built]]] = {}


def register_model(name, *, encoders, default_encoder, options, description,
                   output_strides=(32,), norms=NORMS, defaults=None, encoder_defaults=None):
    """Decorator registering `builder(num_classes, encoder, *, dropout, output_stride, skip,
    norm, detail, refine, strip) -> Built` under `name`. Options not listed are rejected when
    set off their default. `detail` is a train-time boundary head (see
    core.models.ddrnet.DetailHead); `refine` deepens the skip path at 1/4
    (core.models.ddrnet.DetailFusion); `strip` adds row/column pooling context
    (core.models.ddrnet.StripPooling)."""
    unknown = set(options) - set(OPTIONS)
    if unknown:
        raise ValueError(f"unknown model options {sorted(unknown)}; known: {OPTIONS}")
    base = {"dropout": 0.0, "output_stride": output_strides[0], "skip": True, "norm": norms[0],
            "detail": False, "refine": False, "strip": False}
    info = ModelInfo(name, tuple(encoders), default_encoder, frozenset(options), description,
                     tuple(output_strides), tuple(norms), {**base, **(defaults or {})},
                     dict(encoder_defaults or {}))

    def deco(builder):
        _REGISTRY[name] = (info, builder)
        return builder

    return deco


def list_models() -> list[str]:
    """Registered architecture names, in registration order."""
    return list(_REGISTRY)


def model_info(arch: str) -> ModelInfo:
    return _lookup(arch)[0]


def _lookup(arch: str):
    key = str(arch).strip().lower()
    if key not in _REGISTRY:
        raise ModelError(f"unknown architecture {arch!r}; available: {', '.join(_REGISTRY)}")
    return _REGISTRY[key]


def _resolve(info: ModelInfo, encoder, dropout, output_stride, skip, norm, detail,
             refine, strip) -> dict:
    """Fill arch defaults for None, check ranges, and refuse options that do not apply."""
    given = {"dropout": dropout, "output_stride": output_stride, "skip": skip, "norm": norm,
             "detail": detail, "refine": refine, "strip": strip}
    defaults = info.defaults_for(encoder)
    opts = {k: defaults[k] if v is None else v for k, v in given.items()}
    opts["dropout"] = float(opts["dropout"])
    if not 0.0 <= opts["dropout"] < 1.0:
        raise ModelError(f"dropout must be in [0, 1), got {dropout}")
    opts["skip"] = bool(opts["skip"])
    opts["detail"] = bool(opts["detail"])
    opts["refine"] = bool(opts["refine"])
    opts["strip"] = bool(opts["strip"])
    opts["norm"] = str(opts["norm"]).lower()
    if opts["norm"] not in NORMS:
        raise ModelError(f"norm must be one of {NORMS}, got {norm!r}")
    try:
        opts["output_stride"] = int(opts["output_stride"])
    except (TypeError, ValueError):
        raise ModelError(f"output_stride must be 8, 16 or 32, got {output_stride!r}") from None
    for key in OPTIONS:
        if key not in info.options and opts[key] != defaults[key]:
            raise ModelError(f"option {key}={given[key]!r} does not apply to {info.name!r} "
                             f"(it is fixed at {defaults[key]!r}); options that apply: "
                             f"{', '.join(sorted(info.options)) or 'none'}")
    if opts["output_stride"] not in info.output_strides:
        raise ModelError(f"{info.name!r} supports output_stride {info.output_strides}, "
                         f"got {output_stride!r}")
    if opts["norm"] not in info.norms:
        raise ModelError(f"{info.name!r} supports norm {info.norms}, got {norm!r}")
    return opts


def create_model(arch, num_classes, encoder=None, *, pretrained=False, weights_path=None,
                 dropout=0.0, output_stride=None, skip=True, norm=None, detail=False,
                 refine=False, strip=False) -> nn.Module:
    """Build `arch` for `num_classes` classes. `output_stride`/`norm` None mean the
    architecture's own default (`model_info(arch).defaults`). Encoder weights come only from a
    local `weights_path` file: nothing is ever downloaded."""
    from core.models.weights import load_encoder_weights
    from core.models.wrapper import SegmentationNet

    info, builder = _lookup(arch)
    if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 1:
        raise ModelError(f"num_classes must be a positive integer, got {num_classes!r}")
    encoder = info.default_encoder if encoder in (None, "") else str(encoder)
    if pretrained and not weights_path:
        raise ModelError(f"{info.name} ({encoder}): pretrained weights cannot be downloaded here; "
                         "pass weights_path=<local .pth/.safetensors file> (CLI --weights-path)")
    opts = _resolve(info, encoder, dropout, output_stride, skip, norm, detail, refine, strip)
    try:
        built = builder(num_classes, encoder, **opts)
    except ModelError:
        raise
    except (KeyError, ValueError, RuntimeError, TypeError) as exc:
        raise ModelError(f"cannot build {info.name} with encoder {encoder!r} and options "
                         f"{opts}: {exc}") from exc
    model = SegmentationNet(built.net, arch=info.name, encoder_name=encoder,
                            num_classes=num_classes, options=opts,
                            pad_multiple=built.pad_multiple, output_key=built.output_key)
    if weights_path:
        load_encoder_weights(model.encoder, weights_path)
    return model
