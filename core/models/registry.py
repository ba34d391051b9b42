"""Model registry: every architecture is created by name (timm style), so the CLI, the GUI and
a checkpoint's config all build the same network from a few plain values.

An architecture registers a builder with `@register_model(...)` and declares its options there
as `Option` specs (core.models.option_spec): the config, CLI flags, the Train form, summary.json
and the runs table are generated from them. The builder gets validated, resolved options (those
its signature names) and returns a `Built` (the bare network, what to pad the input to, where its
output sits); `create_model` wraps it in a `SegmentationNet` that pads, crops and carries the
metadata, then loads local encoder weights when asked.
"""
from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from typing import Callable

from torch import nn

from core.errors import ModelError
from core.models.option_spec import GENERIC, NORM, OUTPUT_STRIDE, Option, warn_renamed

NORMS = NORM.choices


@dataclass(frozen=True)
class ModelInfo:
    """What the GUI needs to offer an architecture: its encoders, its option specs (which
    options apply, which values each may take) and the architecture's own defaults."""

    name: str
    encoders: tuple[str, ...]
    default_encoder: str
    specs: tuple[Option, ...]
    description: str
    fixed: dict = field(default_factory=dict)  # option -> this architecture's own default
    encoder_defaults: dict = field(default_factory=dict)  # encoder -> {option: default}

    @property
    def options(self) -> frozenset[str]:
        return frozenset(o.name for o in self.specs)

    def spec(self, name: str) -> Option:
        """This architecture's spec of option `name`, else the registry-wide one."""
        for o in self.specs:
            if o.name == name:
                return o
        return option_specs()[name]

    def choices(self, name: str) -> tuple:
        return self.spec(name).choices

    @property
    def output_strides(self) -> tuple[int, ...]:
        return self.choices("output_stride") if "output_stride" in self.options else (32,)

    @property
    def norms(self) -> tuple[str, ...]:
        return self.choices("norm")

    @property
    def defaults(self) -> dict:
        """Every registered option -> the value this architecture uses when none is given."""
        own = {o.name: o.default for o in self.specs}
        return {**{n: o.default for n, o in option_specs().items()}, **own, **self.fixed}

    def defaults_for(self, encoder: str | None = None) -> dict:
        """Option defaults with this encoder's own overrides (e.g. a stride it lacks)."""
        return {**self.defaults, **self.encoder_defaults.get(encoder or self.default_encoder, {})}

    def alias_target(self, key: str) -> str | None:
        """The option an older name `key` now stands for in this architecture, if any."""
        for o in self.specs:
            if key in o.aliases:
                return o.name
        if key in option_specs():
            return None
        for o in option_specs().values():
            if key in o.aliases:
                return o.name
        return None


@dataclass
class Built:
    """What a builder hands back: the bare network and how to call it."""

    net: nn.Module
    pad_multiple: int = 1          # input H, W padded up to a multiple of this, output cropped
    output_key: str | None = None  # torchvision models return a dict; take this entry


_REGISTRY: dict[str, tuple[ModelInfo, Callable[..., Built]]] = {}


def __getattr__(name: str):
    """`OPTIONS`: the registered option names, computed when asked (architectures register
    theirs on import)."""
    if name == "OPTIONS":
        return tuple(option_specs())
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def option_specs() -> dict[str, Option]:
    """Every option any registered architecture has, by name (first declaration wins), the
    shared ones first: what TrainConfig, the CLI and the Train form offer."""
    specs = {o.name: o for o in GENERIC}
    for info, _ in _REGISTRY.values():
        for o in info.specs:
            specs.setdefault(o.name, o)
    return specs


def _as_specs(options, output_strides, norms) -> tuple[Option, ...]:
    """Option specs from `options` (specs, or names of registered ones); `output_strides` /
    `norms` narrow the shared stride and norm options."""
    known = option_specs()
    names = [o for o in options if not isinstance(o, Option)]
    unknown = sorted(set(names) - set(known))
    if unknown:
        raise ValueError(f"unknown model options {unknown}; known: {tuple(known)} (declare a "
                         "new one as an Option)")
    specs = [o if isinstance(o, Option) else known[o] for o in options]
    narrow = {"output_stride": (OUTPUT_STRIDE, output_strides), "norm": (NORM, norms)}
    for i, o in enumerate(specs):
        if o.name in narrow and narrow[o.name][1] is not None:
            specs[i] = narrow[o.name][0].narrowed(narrow[o.name][1])
    return tuple(specs)


def register_model(name, *, encoders, default_encoder, options, description,
                   output_strides=None, norms=None, defaults=None, encoder_defaults=None):
    """Decorator registering `builder(num_classes, encoder, **options) -> Built` under `name`.
    `options` are `Option` specs (or names of shared ones, with `output_strides` / `norms`
    narrowing those two); options not listed are rejected when set off their default.
    `defaults` fixes values of options the architecture does not offer."""
    specs = _as_specs(options, output_strides, norms)
    info = ModelInfo(name, tuple(encoders), default_encoder, specs, description,
                     dict(defaults or {}), dict(encoder_defaults or {}))

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


def _canonical(info: ModelInfo, given: dict) -> dict:
    """Older option names -> current ones (with a warning); unknown names refused. A current
    name given too wins: a config's full option set holds both DDRNet's `quarter_skip` and the
    shared `skip`, which DDRNet then ignores."""
    out = {}
    for key, value in given.items():
        target = info.alias_target(key)
        if target is not None:
            if target not in given:
                warn_renamed(key, target, f"{info.name}: option ")
                out[target] = (value, key)
        elif key in option_specs():
            out[key] = (value, key)
        else:
            raise ModelError(f"unknown model option {key!r}; options: {', '.join(option_specs())}")
    return out


def _resolve(info: ModelInfo, encoder, given: dict) -> dict:
    """Fill arch defaults for None, check types and ranges, and refuse options that do not
    apply. Returns a value for every registered option."""
    defaults = info.defaults_for(encoder)
    opts = dict(defaults)
    for key, (value, given_as) in _canonical(info, given).items():
        if value is None:
            continue
        spec = info.spec(key)
        value = spec.coerce(value, given_as)
        if key not in info.options:
            if value != defaults[key]:
                raise ModelError(f"option {given_as}={value!r} does not apply to {info.name!r} "
                                 f"(it is fixed at {defaults[key]!r}); options that apply: "
                                 f"{', '.join(sorted(info.options)) or 'none'}")
        elif spec.kind == "choice" and value not in spec.choices:
            raise ModelError(f"{info.name!r} supports {key} {spec.choices}, got {value!r}")
        opts[key] = value
    for spec in info.specs:
        if spec.requires and opts[spec.name] and not opts[spec.requires]:
            req = info.spec(spec.requires)
            said = req.aliases[0] if req.aliases else req.name
            raise ModelError(f"{spec.name} needs {said} on ({req.name}: {req.help})")
    return opts


def _builder_kwargs(builder, opts: dict, info: ModelInfo) -> dict:
    """The resolved options the builder's signature names (older names included)."""
    params = inspect.signature(builder).parameters
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        return dict(opts)
    by_name = dict(opts)
    for o in option_specs().values():
        for alias in o.aliases:
            by_name.setdefault(alias, opts.get(o.name))
    for o in info.specs:  # this architecture's own renames win
        for alias in o.aliases:
            by_name[alias] = opts[o.name]
    return {k: by_name[k] for k in params if k in by_name}


def create_model(arch, num_classes, encoder=None, *, pretrained=False, weights_path=None,
                 **options) -> nn.Module:
    """Build `arch` for `num_classes` classes with model `options` (names from
    `model_info(arch).specs`; None or absent means the architecture's own default). Encoder weights: a
    local `weights_path` file wins; else `pretrained` takes the library's published ImageNet weights
    from its cache, downloaded once when online (core.models.weights)."""
    from core.models.weights import hub_weights, load_encoder_weights, load_pretrained_encoder
    from core.models.wrapper import SegmentationNet

    info, builder = _lookup(arch)
    if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 1:
        raise ModelError(f"num_classes must be a positive integer, got {num_classes!r}")
    encoder = info.default_encoder if encoder in (None, "") else str(encoder)
    if pretrained and not weights_path:
        hub_weights(info, encoder)  # fail before building where no library publishes weights
    opts = _resolve(info, encoder, options)
    try:
        built = builder(num_classes, encoder, **_builder_kwargs(builder, opts, info))
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
    elif pretrained:
        load_pretrained_encoder(model.encoder, info, encoder)
    return model
