"""One image of a dataset and its mask file: what a format's scan lists and a DataSource hands
out. Kept apart from both so that neither imports the other to name it."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Sample:
    name: str
    image: Path
    mask: Path | None
    split: str
