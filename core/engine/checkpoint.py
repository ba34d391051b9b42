"""Checkpoints: tensors and plain values only, written atomically.

Loading uses `torch.load(weights_only=True)`, so a file carrying a pickled object is refused rather
than executed. Writing goes to a temporary file in the same folder and then `os.replace`, so a
crash mid-write leaves the previous checkpoint intact.
"""
from __future__ import annotations

import os
import pickle
import tempfile
from pathlib import Path

import torch

from core.errors import CheckpointError

FORMAT = "roadseg-checkpoint"
VERSION = 1


def save_checkpoint(path: str | Path, state: dict) -> Path:
    """Write `state` (plus format tags) to `path` atomically and return the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {"format": FORMAT, "version": VERSION, **state}
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            torch.save(payload, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def load_checkpoint(path: str | Path, map_location: str | torch.device = "cpu") -> dict:
    """Read a checkpoint written by `save_checkpoint`; refuses pickled payloads and foreign files."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: checkpoint not found")
    try:
        state = torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as e:
        raise CheckpointError(
            f"{path}: refused — the file carries pickled objects, not only tensors and plain values "
            f"({str(e).splitlines()[0]})"
        ) from None
    except (RuntimeError, EOFError, OSError, ValueError) as e:
        raise CheckpointError(f"{path}: not a readable checkpoint ({str(e).splitlines()[0]})") from None
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise CheckpointError(f"{path}: not a roadseg checkpoint (no '{FORMAT}' tag)")
    if int(state.get("version", 0)) > VERSION:
        raise CheckpointError(f"{path}: written by a newer roadseg (version {state.get('version')})")
    return state
