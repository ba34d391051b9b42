"""One training configuration: a flat dataclass with defaults that round-trips through YAML.

A run's `config.yaml` is enough to repeat it (seed included), so every choice the GUI or CLI offers
lives here and nowhere else.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from core.errors import ConfigError


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
    # model
    arch: str = "unet"
    encoder: str | None = None
    pretrained: bool = False
    weights_path: str | None = None
    dropout: float = 0.0
    output_stride: int | None = None  # None: the architecture's own default (e.g. 8 for DeepLabV3)
    skip: bool = True
    norm: str | None = None  # None: the architecture's own default
    detail: bool = False  # train-time boundary (detail) head, where the architecture has one
    refine: bool = False  # a deeper 1/4-resolution skip path, where the architecture has one
    strip: bool = False  # strip pooling (row/column context), where the architecture has it
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
        if not 0.0 <= float(self.dropout) < 1.0:
            raise ConfigError(f"dropout must be in [0, 1), got {self.dropout}")
        if not 0.0 <= float(self.rare_crop) <= 1.0:
            raise ConfigError(f"rare_crop is a share of the crops, in [0, 1], got {self.rare_crop}")
        if self.rare_crop and self.crop_size is None and self.augment != "strong":
            raise ConfigError("rare_crop moves the training crop: set a crop size or the strong augmentation")
        if not 0.0 <= float(self.copy_paste) <= 1.0:
            raise ConfigError(f"copy_paste is a share of the training images, in [0, 1], got {self.copy_paste}")
        if not 0.0 <= float(self.ema) < 1.0:
            raise ConfigError(f"ema is a decay in [0, 1) (0: off, e.g. 0.999), got {self.ema}")
        if not 0.0 <= float(self.time_budget) < float("inf"):
            raise ConfigError(f"time_budget is minutes >= 0 (0: off), got {self.time_budget}")
        if float(self.lr) <= 0:
            raise ConfigError(f"learning rate must be positive, got {self.lr}")
        if self.precision not in ("auto", "fp32", "bf16", "fp16"):
            raise ConfigError(f"precision must be auto, fp32, bf16 or fp16, got {self.precision!r}")
        if self.loss == "wce" and self.class_weights == "none":
            self.class_weights = "median"  # weighted CE needs weights; SegNet's choice by default
        if self.output_stride not in (None, 8, 16, 32):
            raise ConfigError(f"output_stride must be 8, 16 or 32, got {self.output_stride}")

    # --- serialisation -------------------------------------------------------------------
    def to_dict(self) -> dict:
        d = dataclasses.asdict(self)
        d["image_size"] = list(self.image_size)
        if self.crop_size is not None:
            d["crop_size"] = list(self.crop_size)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "TrainConfig":
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(d) - known)
        if unknown:
            raise ConfigError(f"unknown config key(s): {', '.join(unknown)}")
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
        return dataclasses.replace(self, **changes)

    @property
    def display_name(self) -> str:
        """A readable run name: explicit name, else arch-encoder-loss-optimizer."""
        if self.name:
            return self.name
        enc = f"-{self.encoder}" if self.encoder else ""
        return f"{self.arch}{enc}-{self.loss}-{self.optimizer}".replace("+", "")
