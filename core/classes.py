"""Class schemas: which train ids exist, what they are called and how they are drawn.

Every mask inside roadseg holds *train ids* 0..C-1 with void as IGNORE_INDEX (255); a schema
also remembers the raw value that marks void in its own index-mask files (11 for CamVid), so
formats can translate on read and write.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from core.errors import DataError

IGNORE_INDEX = 255

Color = tuple[int, int, int]


def _color(value: Any) -> Color:
    rgb = tuple(int(v) for v in value)
    if len(rgb) != 3 or not all(0 <= v <= 255 for v in rgb):
        raise ValueError(f"colour {list(value)!r} is not three values in 0..255")
    return rgb  # type: ignore[return-value]


@dataclass(frozen=True)
class ClassSchema:
    """Names and colours of C classes; immutable and hashable so it can key caches and pickle."""

    name: str
    names: tuple[str, ...]
    colors: tuple[Color, ...]
    void_value: int = IGNORE_INDEX
    void_name: str = "void"
    void_color: Color = field(default=(0, 0, 0))

    def __post_init__(self) -> None:
        # Accept lists (from YAML/JSON) but store tuples so the schema stays hashable.
        object.__setattr__(self, "names", tuple(str(n) for n in self.names))
        object.__setattr__(self, "colors", tuple(_color(c) for c in self.colors))
        object.__setattr__(self, "void_color", _color(self.void_color))
        object.__setattr__(self, "void_value", int(self.void_value))
        if not self.names:
            raise ValueError("a class schema needs at least one class")
        if len(self.names) != len(self.colors):
            raise ValueError(f"{len(self.names)} class names but {len(self.colors)} colours")
        if len(self.names) >= IGNORE_INDEX:
            raise ValueError(f"at most {IGNORE_INDEX} classes are supported")
        if len(set(self.names)) != len(self.names):
            raise ValueError("class names must be unique")
        if not len(self.names) <= self.void_value <= 255:
            raise ValueError(
                f"void_value {self.void_value} must lie in {len(self.names)}..255, "
                "outside the class ids"
            )

    @property
    def num_classes(self) -> int:
        return len(self.names)

    def palette(self) -> np.ndarray:
        """uint8 [256,3] lookup table: train id -> RGB, 255 -> void colour, unused ids black."""
        pal = np.zeros((256, 3), np.uint8)
        pal[: self.num_classes] = np.asarray(self.colors, np.uint8)
        pal[IGNORE_INDEX] = self.void_color
        return pal

    def colorize(self, mask: np.ndarray) -> np.ndarray:
        """Train-id mask (HxW uint8) -> HxWx3 uint8 RGB picture."""
        return np.take(self.palette(), np.asarray(mask, np.uint8), axis=0)  # ~5x faster than fancy indexing

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "classes": [{"name": n, "color": list(c)}
                        for n, c in zip(self.names, self.colors, strict=True)],
            "void_value": self.void_value,
            "void_name": self.void_name,
            "void_color": list(self.void_color),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ClassSchema:
        """Inverse of to_dict; also the YAML layout. Raises ValueError/KeyError/TypeError."""
        classes = d["classes"]
        if not isinstance(classes, list):
            raise TypeError("'classes' must be a list of {name, color}")
        return cls(
            name=str(d.get("name", "custom")),
            names=tuple(c["name"] for c in classes),
            colors=tuple(c["color"] for c in classes),
            void_value=d.get("void_value", IGNORE_INDEX),
            void_name=str(d.get("void_name", "void")),
            void_color=d.get("void_color", (0, 0, 0)),
        )


CAMVID11 = ClassSchema(
    name="camvid11",
    names=("Sky", "Building", "Pole", "Road", "Pavement", "Tree", "SignSymbol", "Fence", "Car",
           "Pedestrian", "Bicyclist"),
    colors=((128, 128, 128), (128, 0, 0), (192, 192, 128), (128, 64, 128), (60, 40, 222),
            (128, 128, 0), (192, 128, 128), (64, 64, 128), (64, 0, 128), (64, 64, 0),
            (0, 128, 192)),
    void_value=11,
    void_name="Unlabelled",
)

# Train ids 0..18 of the official Cityscapes label table (cityscapesscripts/helpers/labels.py).
CITYSCAPES19 = ClassSchema(
    name="cityscapes19",
    names=("road", "sidewalk", "building", "wall", "fence", "pole", "traffic light",
           "traffic sign", "vegetation", "terrain", "sky", "person", "rider", "car", "truck",
           "bus", "train", "motorcycle", "bicycle"),
    colors=((128, 64, 128), (244, 35, 232), (70, 70, 70), (102, 102, 156), (190, 153, 153),
            (153, 153, 153), (250, 170, 30), (220, 220, 0), (107, 142, 35), (152, 251, 152),
            (70, 130, 180), (220, 20, 60), (255, 0, 0), (0, 0, 142), (0, 0, 70), (0, 60, 100),
            (0, 80, 100), (0, 0, 230), (119, 11, 32)),
    void_value=IGNORE_INDEX,
    void_name="unlabeled",
)

SCHEMAS: dict[str, ClassSchema] = {s.name: s for s in (CAMVID11, CITYSCAPES19)}


def get_schema(name: str) -> ClassSchema:
    """Preset schema by name; DataError listing the presets otherwise."""
    try:
        return SCHEMAS[name]
    except KeyError:
        raise DataError(
            f"unknown class schema {name!r} (presets: {', '.join(SCHEMAS)})"
        ) from None


def load_schema_yaml(path: str | Path) -> ClassSchema:
    """Custom schema from YAML: {name, classes: [{name, color: [r,g,b]}], void_value}."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise DataError(f"{path}: cannot read class schema ({e.strerror or e})") from e
    except yaml.YAMLError as e:
        raise DataError(f"{path}: not valid YAML ({e})") from e
    if not isinstance(data, dict):
        raise DataError(f"{path}: expected a mapping with a 'classes' list")
    data.setdefault("name", path.parent.name or "custom")
    try:
        return ClassSchema.from_dict(data)
    except KeyError as e:
        raise DataError(f"{path}: missing key {e} in class schema") from e
    except (TypeError, ValueError) as e:
        raise DataError(f"{path}: invalid class schema: {e}") from e
