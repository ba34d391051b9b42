"""Keep each hand-edited mask's original next to the dataset, so any edit can be taken back.

The first time a mask is about to be overwritten its file is copied, byte for byte, to
`<root>/.roadseg-backup/<path relative to root>`; later saves leave that copy alone, so it always
holds the mask as it was before anyone edited it here. A mask that did not exist yet gets a
`.absent` marker instead, so "restore" knows to remove the file. Copies are atomic
(temporary file + os.replace) like every other write in roadseg.
"""
from __future__ import annotations

import os
from pathlib import Path

from core.data.io import atomic_write_bytes
from core.errors import DataError

BACKUP_DIR = ".roadseg-backup"
ABSENT_SUFFIX = ".absent"


def backup_root(root: str | Path) -> Path:
    return Path(root) / BACKUP_DIR


def backup_path(root: str | Path, mask_path: str | Path) -> Path:
    """Where the original of `mask_path` is kept (outside-root paths keep their file name)."""
    root, mask_path = Path(root), Path(mask_path)
    try:
        rel = mask_path.resolve().relative_to(root.resolve())
    except ValueError:
        rel = Path("_outside") / mask_path.name
    return backup_root(root) / rel


def _absent_marker(path: Path) -> Path:
    return path.with_name(path.name + ABSENT_SUFFIX)


def has_backup(root: str | Path, mask_path: str | Path) -> bool:
    b = backup_path(root, mask_path)
    return b.is_file() or _absent_marker(b).is_file()


def ensure_backup(root: str | Path, mask_path: str | Path) -> Path | None:
    """Copy the original once, before the first overwrite; returns the backup (None if it existed)."""
    mask_path = Path(mask_path)
    if has_backup(root, mask_path):
        return None
    dest = backup_path(root, mask_path)
    if not mask_path.exists():
        atomic_write_bytes(_absent_marker(dest), b"")
        return _absent_marker(dest)
    try:
        data = mask_path.read_bytes()
    except OSError as e:
        raise DataError(f"{mask_path}: cannot read the original to back it up ({e.strerror or e})") from e
    atomic_write_bytes(dest, data)
    return dest


def restore_original(root: str | Path, mask_path: str | Path) -> bool:
    """Put the original back (atomically) and drop the backup; False when there is none."""
    mask_path = Path(mask_path)
    dest = backup_path(root, mask_path)
    marker = _absent_marker(dest)
    if dest.is_file():
        atomic_write_bytes(mask_path, dest.read_bytes())
        dest.unlink()
        return True
    if marker.is_file():
        if mask_path.exists():
            os.unlink(mask_path)
        marker.unlink()
        return True
    return False


def edited_masks(root: str | Path) -> set[Path]:
    """Mask paths (under root) that have a backup, i.e. were edited in the label editor."""
    broot = backup_root(root)
    if not broot.is_dir():
        return set()
    out = set()
    for p in broot.rglob("*"):
        if p.is_file():
            rel = p.relative_to(broot)
            if rel.name.endswith(ABSENT_SUFFIX):
                rel = rel.with_name(rel.name[: -len(ABSENT_SUFFIX)])
            out.add(Path(root) / rel)
    return out
