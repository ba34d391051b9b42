"""One training configuration: a dataclass with defaults that round-trips through YAML.

A run's `config.yaml` is enough to repeat it (seed included), so every choice the GUI or CLI offers
lives here and nowhere else. Architecture options live in `model_options`, keyed by the option
specs the architectures register (core.models.option_spec), so a new option needs no field here;
they read as attributes (`cfg.dropout`) and older flat keys (`detail: true`) still load.
"""
from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from core.errors import ConfigError
from core.run_names import display_name as run_display_name


def parse_size(text: str | tuple | list) -> tuple[int, int]:
    """"360x480" (or [360, 480]) -> (360, 480); height first, as everywhere in roadseg."""
    if isinstance(text, (tuple, list)):
        parts = list(text)
    else:
        parts = str(text).lower().replace("×", "x").split("x")
    try:
        h, w = (int(p) for p in parts)
    except (TypeError, ValueError):
        raise ConfigError(f"image size must look like HxW (e.g. 360x480), got {text!r}") from None
    if h < 8 or w < 8:
        raise ConfigError(f"image size {h}x{w} is too small (at least 8x8)")
    return h, w


DATA_PATHS = ("auto", "memory", "stream")  # where training data lives (core.data.memory_plan)


@dataclass
class TrainConfig:
    """Everything that decides a training run. Defaults train a sensible model on CamVid."""

    # data
    data: str = ""
    format: str = "auto"
    train_split: str = "train"
    val_split: str = "val"
    image_size: tuple[int, int] = (360, 480)
    crop_size: tuple[int, int] | None = None  # train on random crops of this size (None: whole image)
    rare_crop: float = 0.0  # share of training crops centred on a class rarer than the median class
    copy_paste: float = 0.0  # share of training images given another one's rare-class pixels
    holdout: str = ""  # file-name prefixes (e.g. "0006R0") moved from train into a "holdout" split
    augment: str = "light"
    class_weights: str = "none"
    data_path: str = "auto"  # auto | memory | stream: where the training data lives (core.data.memory_plan)
    # model
    arch: str = "unet"
    encoder: str | None = None
    pretrained: bool = False
    weights_path: str | None = None
    # option -> value for every registered model option (None: the architecture's own default)
    model_options: dict = field(default_factory=dict)
    # objective and optimisation
    loss: str = "ce"
    optimizer: str = "adam"
    lr: float = 1e-3
    weight_decay: float = 1e-4
    momentum: float = 0.9
    nesterov: bool = False
    schedule: str = "poly"
    warmup_epochs: float = 0.0
    epochs: int = 10
    time_budget: float = 0.0  # minutes of training + validation; epochs then is a cap (0: off)
    batch_size: int = 4
    ema: float = 0.0  # decay of a moving average of the weights, validated and saved instead (0: off)
    # execution
    device: str = "auto"
    precision: str = "auto"
    channels_last: bool | None = None  # None: on CUDA and bf16 CPUs (slower in fp32 on CPUs, RESULTS.md)
    workers: int = 0
    seed: int = 0
    deterministic: bool = False
    # output
    out: str = ""
    name: str = ""
    extra: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.image_size = parse_size(self.image_size)
        if self.crop_size is not None:
            self.crop_size = parse_size(self.crop_size)
        for key in ("epochs", "batch_size"):
            if int(getattr(self, key)) < 1:
                raise ConfigError(f"{key} must be at least 1, got {getattr(self, key)}")
        self.model_options = normalize_model_options(self.arch, self.model_options)
        if not 0.0 <= float(self.rare_crop) <= 1.0:
            raise ConfigError(f"rare_crop is a share of the crops, in [0, 1], got {self.rare_crop}")
        if needs_a_crop(self):
            raise ConfigError(needs_a_crop(self))
        if not 0.0 <= float(self.copy_paste) <= 1.0:
            raise ConfigError(f"copy_paste is a share of the training images, in [0, 1], got {self.copy_paste}")
        if not 0.0 <= float(self.ema) < 1.0:
            raise ConfigError(f"ema is a decay in [0, 1) (0: off, e.g. 0.999), got {self.ema}")
        if not 0.0 <= float(self.time_budget) < float("inf"):
            raise ConfigError(f"time_budget is minutes >= 0 (0: off), got {self.time_budget}")
        if float(self.lr) <= 0:
            raise ConfigError(f"learning rate must be positive, got {self.lr}")
        if self.data_path not in DATA_PATHS:
            raise ConfigError(f"data_path must be one of {', '.join(DATA_PATHS)}, got {self.data_path!r}")
        if self.precision not in ("auto", "fp32", "bf16", "fp16"):
            raise ConfigError(f"precision must be auto, fp32, bf16 or fp16, got {self.precision!r}")
        self.class_weights = implied_class_weights(self.loss, self.class_weights)

    def __getattr__(self, name: str):
        """Model options read as attributes (`cfg.dropout`, `cfg.strip`), older names too
        (`cfg.detail`): the trainer, the runs table and tests read them so."""
        options = self.__dict__.get("model_options")
        if options is not None and not name.startswith("__"):
            key = option_key(self.__dict__.get("arch", ""), name)
            if key in options:
                return options[key]
        raise AttributeError(f"{type(self).__name__!r} has no attribute {name!r}")

    # --- serialisation -------------------------------------------------------------------
    def to_dict(self) -> dict:
        d = dataclasses.asdict(self)
        d["image_size"] = list(self.image_size)
        if self.crop_size is not None:
            d["crop_size"] = list(self.crop_size)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "TrainConfig":
        """From a mapping; flat model-option keys (older config files, CLI flags) are moved
        into `model_options`, over what it holds."""
        return cls(**d)

    def to_yaml(self, path: str | Path | None = None) -> str:
        text = yaml.safe_dump(self.to_dict(), sort_keys=False)
        if path is not None:
            Path(path).write_text(text)
        return text

    @classmethod
    def from_yaml(cls, path: str | Path) -> "TrainConfig":
        path = Path(path)
        try:
            d = yaml.safe_load(path.read_text()) or {}
        except OSError as e:
            raise ConfigError(f"{path}: cannot read config ({e.strerror or e})") from None
        except yaml.YAMLError as e:
            raise ConfigError(f"{path}: not valid YAML ({e})") from None
        if not isinstance(d, dict):
            raise ConfigError(f"{path}: a config must be a mapping of keys to values")
        return cls.from_dict(d)

    def replace(self, **changes) -> "TrainConfig":
        """A copy with `changes`; model options may be given flat (`replace(strip=True)`)."""
        return dataclasses.replace(self, **changes)

    @property
    def display_name(self) -> str:
        """A readable run name (core.run_names.display_name: the one rule)."""
        return run_display_name(self)



# --- model options: the registry's specs decide names, types and defaults ---------------------
def _specs() -> dict:
    import core.models  # noqa: F401  (registers every architecture and its options)
    from core.models.registry import option_specs

    return option_specs()


def option_key(arch: str, name: str) -> str | None:
    """The model option `name` stands for in architecture `arch` (an older name maps to its
    new one, e.g. DDRNet's `skip` to `quarter_skip`), or None when it is no model option."""
    from core.models.registry import _REGISTRY

    specs = _specs()
    entry = _REGISTRY.get(str(arch).strip().lower())
    target = entry[0].alias_target(name) if entry else None
    if target is None and entry is None:
        target = next((o.name for o in specs.values() if name in o.aliases), None)
    if target is not None:
        return target
    return name if name in specs else None


def normalize_model_options(arch: str, options: dict | None) -> dict:
    """Every registered option with its value (given, else the config default), each checked
    against its spec; whether it applies to `arch` is the registry's check at build time."""
    from core.errors import ModelError

    specs = _specs()
    given = dict(options or {})
    unknown = sorted(set(given) - set(specs))
    if unknown:
        raise ConfigError(f"unknown model option(s): {', '.join(unknown)}; known: {', '.join(specs)}")
    out = {}
    for name, spec in specs.items():
        value = given.get(name, spec.config_default)
        try:
            out[name] = None if value is None else spec.coerce(value)
            if out[name] is not None and spec.kind == "choice" and out[name] not in (spec.universe or spec.choices):
                raise ModelError(f"{name} must be one of {spec.universe or spec.choices}, got {value!r}")
        except ModelError as e:
            raise ConfigError(str(e)) from None
    return out


def _fold_flat_options(init):
    """Let TrainConfig(...) and from_dict take model options as flat keys (`dropout=0.2`,
    `detail: true` in an older config.yaml): they go into `model_options`, older names under
    their new ones with a DeprecationWarning. Anything else unknown is refused."""
    fields = {f.name for f in dataclasses.fields(TrainConfig)}

    @functools.wraps(init)
    def __init__(self, **values):
        from core.models.option_spec import warn_renamed

        flat = {k: values.pop(k) for k in list(values) if k not in fields}
        if flat:
            arch = values.get("arch", TrainConfig.arch)
            options = dict(values.get("model_options") or {})
            unknown = []
            for key, value in flat.items():
                target = option_key(arch, key)
                if target is None:
                    unknown.append(key)
                    continue
                if target != key:
                    warn_renamed(key, target, "config key ")
                options[target] = value
            if unknown:
                raise ConfigError(f"unknown config key(s): {', '.join(sorted(unknown))}")
            values["model_options"] = options
        init(self, **values)

    return __init__


TrainConfig.__init__ = _fold_flat_options(TrainConfig.__init__)


# --- rules the CLI and the GUI both follow (the GUI greys out and explains with these) --------
def implied_class_weights(loss: str, class_weights: str) -> str:
    """Weighted CE needs weights: without a weighting it uses median-frequency balancing
    (SegNet's choice)."""
    from core.losses import loss_needs_weights

    return "median" if loss_needs_weights(loss) and class_weights == "none" else class_weights


def can_aim_crops(crop_size, augment: str) -> bool:
    """Rare-class crops move a training crop: train crops, or the strong preset's own."""
    return crop_size is not None or augment == "strong"


def needs_a_crop(cfg) -> str:
    """The problem with `rare_crop` without a crop, or ''."""
    if cfg.rare_crop and not can_aim_crops(cfg.crop_size, cfg.augment):
        return "rare_crop moves the training crop: set a crop size or the strong augmentation"
    return ""


def explain(cfg: TrainConfig) -> dict[str, str]:
    """Why each model option of `cfg` cannot be used now (option -> reason), for greying out
    and tooltips: it does not apply to the architecture, or another option must be on."""
    return option_problems(cfg.arch, cfg.model_options)


def option_problems(arch: str, model_options: dict) -> dict[str, str]:
    """`explain` for an architecture and option values (the Train form's widgets)."""
    from core.models.registry import model_info

    info = model_info(arch)
    reasons = {}
    for name in _specs():
        if name not in info.options:
            reasons[name] = f"does not apply to {info.name}"
            continue
        spec = info.spec(name)
        if spec.requires and not model_options.get(spec.requires):
            req = info.spec(spec.requires)
            reasons[name] = f"needs {req.label or req.name}"
    return reasons
