"""Suspect label regions a person looked at and kept as they are, so the next scoring (even with a
retrained model) does not bring them back.

Stored beside the dataset's corrected masks, in `<root>/.roadseg-reviewed-issues.json`:
`{"version": 1, "regions": {image name: [{given, suggested, pixels, bbox, digest}, ...]}}`.
Written atomically like every other roadseg file; a broken file is a DataError naming it.
"""
from __future__ import annotations

import json
from pathlib import Path

from core.data.io import atomic_write_bytes
from core.errors import DataError
from core.labeling.issue_regions import IssueRegion, same_region

SIDECAR_NAME = ".roadseg-reviewed-issues.json"
VERSION = 1


def sidecar_path(root: str | Path) -> Path:
    return Path(root) / SIDECAR_NAME


class ReviewedIssues:
    """image name -> regions marked reviewed; load(), mark(), save()."""

    def __init__(self, path: str | Path, regions: dict[str, list[IssueRegion]] | None = None):
        self.path = Path(path)
        self.regions: dict[str, list[IssueRegion]] = regions or {}

    @classmethod
    def for_dataset(cls, root: str | Path) -> "ReviewedIssues":
        return cls.load(sidecar_path(root))

    @classmethod
    def load(cls, path: str | Path) -> "ReviewedIssues":
        path = Path(path)
        if not path.is_file():
            return cls(path)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            regions = {str(name): [IssueRegion.from_dict(r) for r in items]
                       for name, items in data["regions"].items()}
        except OSError as e:
            raise DataError(f"{path}: cannot read ({e.strerror or e})") from e
        except (ValueError, KeyError, TypeError, AttributeError) as e:
            raise DataError(f"{path}: not a reviewed-issues file ({type(e).__name__}: {e})") from None
        return cls(path, regions)

    def get(self, name: str) -> list[IssueRegion]:
        return list(self.regions.get(name, ()))

    def is_reviewed(self, name: str, region: IssueRegion) -> bool:
        return any(same_region(region, old) for old in self.regions.get(name, ()))

    def mark(self, name: str, region: IssueRegion) -> bool:
        """Remember `region` of image `name`; False if it was already there."""
        if self.is_reviewed(name, region):
            return False
        self.regions.setdefault(name, []).append(region)
        return True

    def __len__(self) -> int:
        return sum(len(v) for v in self.regions.values())

    def save(self) -> Path:
        data = {"version": VERSION,
                "regions": {n: [r.to_dict() for r in rs] for n, rs in sorted(self.regions.items()) if rs}}
        atomic_write_bytes(self.path, (json.dumps(data, indent=1) + "\n").encode("utf-8"))
        return self.path
