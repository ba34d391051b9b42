"""Write a conversion's output beside its destination first, then move it into place.

An import or export that stops half-way (bad input in file 40 of 100, Ctrl+C, a full disk) must
not leave half a dataset where the person will open it. Files are written into a hidden sibling
folder and only moved into the destination once every file was written; on any failure the
sibling folder is removed and the destination is exactly as it was.
"""
from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from core.errors import DataError


class Staging:
    """`with Staging(out) as stage:` write under `stage.dir`; `stage.commit()` moves it into out."""

    def __init__(self, out: str | Path):
        self.out = Path(out).expanduser()
        if self.out.exists() and not self.out.is_dir():
            raise DataError(f"{self.out}: is a file, not an output folder")
        try:
            self.out.parent.mkdir(parents=True, exist_ok=True)
            self.dir = Path(tempfile.mkdtemp(prefix=f".{self.out.name}.writing-", dir=self.out.parent))
        except OSError as e:
            raise DataError(f"{self.out.parent}: cannot write here ({e.strerror or e})") from e
        self.committed = False

    def __enter__(self) -> "Staging":
        return self

    def __exit__(self, *exc) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)

    def commit(self) -> Path:
        """Move every staged file to the same relative path under out (never over a file)."""
        files = sorted(p for p in self.dir.rglob("*") if p.is_file())
        for f in files:
            dest = self.out / f.relative_to(self.dir)
            if dest.exists():
                raise DataError(f"{dest}: already exists; nothing was written")
        try:
            for f in files:
                dest = self.out / f.relative_to(self.dir)
                dest.parent.mkdir(parents=True, exist_ok=True)
                os.replace(f, dest)
        except OSError as e:
            raise DataError(f"{self.out}: cannot move the converted files in ({e.strerror or e})") from e
        self.committed = True
        return self.out


def require_empty(out: str | Path) -> Path:
    """An export writes a whole new folder: refuse one that holds anything (it may be a dataset)."""
    out = Path(out).expanduser()
    if out.is_file():
        raise DataError(f"{out}: is a file, not an output folder")
    if out.is_dir() and any(out.iterdir()):
        raise DataError(f"{out}: output folder is not empty; choose a new or empty folder")
    return out
