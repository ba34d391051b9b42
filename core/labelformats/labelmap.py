"""CVAT / Pascal VOC `labelmap.txt`: which colour in a SegmentationClass PNG is which label.

    # label:color_rgb:parts:actions
    background:0,0,0::
    car:64,0,128::

`background` comes first, as CVAT writes and expects it; it reads back as void.
"""
from __future__ import annotations

from pathlib import Path

from core.classes import ClassSchema, Color
from core.errors import DataError

FILE = "labelmap.txt"
HEADER = "# label:color_rgb:parts:actions"


def read_labelmap(path: Path) -> list[tuple[str, Color]]:
    """(name, (r, g, b)) per line; DataError naming the file and line for a malformed one."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as e:
        raise DataError(f"{path}: cannot read ({e.strerror or e})") from e
    except UnicodeDecodeError as e:
        raise DataError(f"{path}: not UTF-8 text ({e.reason})") from None
    out = []
    for n, line in enumerate(lines, 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        parts = line.split(":")
        try:
            rgb = tuple(int(v) for v in parts[1].split(","))
            if len(rgb) != 3 or not all(0 <= v <= 255 for v in rgb):
                raise ValueError
        except (IndexError, ValueError):
            raise DataError(f"{path}: line {n} is not 'name:r,g,b::' ({line.strip()!r})") from None
        out.append((parts[0].strip(), rgb))
    if not out:
        raise DataError(f"{path}: no labels listed")
    return out


def labelmap_text(schema: ClassSchema) -> str:
    """The schema as a labelmap: background (void colour) first, then the classes in id order."""
    lines = [HEADER, "background:{},{},{}::".format(*schema.void_color)]
    lines += ["{}:{},{},{}::".format(name, *rgb)
              for name, rgb in zip(schema.names, schema.colors, strict=True)]
    return "\n".join(lines) + "\n"
