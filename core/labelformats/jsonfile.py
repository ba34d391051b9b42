"""Read a JSON annotation file with one clear error line naming it when it is not JSON."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from core.errors import DataError


def read_json(path: Path, expect: type = dict) -> Any:
    """The parsed file; DataError naming the file for unreadable, non-JSON or wrong-shaped data."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as e:
        raise DataError(f"{path}: cannot read ({e.strerror or e})") from e
    except UnicodeDecodeError as e:
        raise DataError(f"{path}: not UTF-8 text ({e.reason})") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise DataError(f"{path}: not valid JSON ({e.msg} at line {e.lineno}, column {e.colno})") from None
    if not isinstance(data, expect):
        raise DataError(f"{path}: expected a JSON {expect.__name__}, found {type(data).__name__}")
    return data


def field(data: dict, key: str, path: Path, kind: type | tuple[type, ...], where: str = "") -> Any:
    """data[key] checked for type; DataError naming the file (and `where` inside it) otherwise."""
    at = f" in {where}" if where else ""
    if key not in data:
        raise DataError(f"{path}: missing {key!r}{at}")
    value = data[key]
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
        names = " or ".join(k.__name__ for k in kinds)
        raise DataError(f"{path}: {key!r}{at} must be {names}, found {type(value).__name__}")
    return value
