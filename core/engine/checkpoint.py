"""Checkpoints: tensors and plain values only, written atomically.

Loading uses `torch.load(weights_only=True)`, so a file carrying a pickled object is refused rather
than executed. Writing goes to a temporary file in the same folder and then `os.replace`, so a
crash mid-write leaves the previous checkpoint intact. A process killed mid-write (SIGKILL, power
loss) cannot remove its temporary file, which is as large as a checkpoint; the next successful
save of the same checkpoint removes such leftovers once they are clearly abandoned.

During training a `CheckpointWriter` writes on one background thread: a step on a GPU takes
milliseconds and an epoch of a small net under a second, while a checkpoint with its optimizer
state is tens to hundreds of MB (UNet-ResNet18 with Adam: 165 MB, 0.2-0.3 s to serialise and
fsync on a 2-core EPYC), so the run copies the tensors to host memory and goes on.
"""
from __future__ import annotations

import glob
import os
import pickle
import tempfile
import time
import warnings
from pathlib import Path

import torch

from core.engine.background import Background
from core.errors import CheckpointError

FORMAT = "roadseg-checkpoint"
VERSION = 2  # 2: DDRNet's `skip` option exists (version 1 DDRNet checkpoints were built without it)
STALE_TEMP_S = 600  # a temporary file untouched this long has no live writer (saves take seconds)
# torch warns on stderr when a damaged file's bytes read as an odd pickle protocol; the load then
# fails and the CheckpointError says so, so the warning would only break the CLI's one line
warnings.filterwarnings("ignore", message="Detected pickle protocol", category=UserWarning)


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
    remove_stale_temps(path)
    return path


class CheckpointWriter:
    """Saves checkpoints in the order given on a background thread (core.engine.background),
    inline with `background=False`. `save` returns once the state is copied to host memory (live
    tensors change with the next step); `wait` returns when every file is on disk and raises the
    first failed write, as `save_checkpoint` would have; the writes after a failed one are
    skipped, so last.pt never names a best epoch whose best.pt did not land."""

    def __init__(self, background: bool = True, pending: int = 2):
        self._background = Background("checkpoint", pending) if background else None

    def save(self, path: str | Path, state: dict, copy: bool = True) -> None:
        """`copy=False`: nothing will change the state's tensors before they are written (the
        run's last save), so the write reads them in place."""
        if self._background is None:
            save_checkpoint(path, state)
        else:
            self._background.submit(_save, path, host_copy(state) if copy else state)

    def wait(self) -> None:
        if self._background is not None:
            self._background.wait()

    def close(self) -> None:
        if self._background is not None:
            self._background.close()


def _save(path: str | Path, state: dict) -> None:
    save_checkpoint(path, state)  # looked up at call time, so tests can stand in for it


def host_copy(obj):
    """`obj` with every tensor copied to host memory (containers rebuilt, other values shared)."""
    if isinstance(obj, torch.Tensor):
        return obj.detach().to("cpu", copy=True)
    if isinstance(obj, dict):
        return {k: host_copy(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(host_copy(v) for v in obj)
    return obj


def remove_stale_temps(path: str | Path, older_than_s: float = STALE_TEMP_S) -> int:
    """Delete temporary files left by killed writers of `path`; returns how many went."""
    path = Path(path)
    removed, now = 0, time.time()
    for tmp in path.parent.glob(f".{glob.escape(path.name)}.*.tmp"):
        try:
            if now - tmp.stat().st_mtime > older_than_s:
                tmp.unlink()
                removed += 1
        except OSError:  # gone already, or not ours to remove: never fail a good save over it
            pass
    return removed


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
            f"({_first_line(e)})"
        ) from None
    except Exception as e:  # noqa: BLE001 - a damaged file makes torch.load raise almost anything
        # (IndexError, KeyError, struct.error, RuntimeError...), never a reason to crash the caller
        raise CheckpointError(f"{path}: not a readable checkpoint, damaged or truncated "
                              f"({type(e).__name__}: {_first_line(e)})") from None
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise CheckpointError(f"{path}: not a roadseg checkpoint (no '{FORMAT}' tag)")
    version = state.get("version", 0)
    if not isinstance(version, int):
        raise CheckpointError(f"{path}: damaged checkpoint (version {version!r})")
    if version > VERSION:
        raise CheckpointError(f"{path}: written by a newer roadseg (version {version})")
    return _upgrade(state, version)


def _upgrade(state: dict, version: int) -> dict:
    """Make an older checkpoint's config rebuild the network it was trained with."""
    config = state.get("config")
    if version < 2 and isinstance(config, dict) and config.get("arch") == "ddrnet23-slim":
        # version 1 ignored `skip` for DDRNet (it had no skip path); its saved skip: true would
        # now add the 1/4-resolution head and the weights would not fit
        state["config"] = {**config, "skip": False}
    return state


def _first_line(e: BaseException) -> str:
    return (str(e).strip().splitlines() or [""])[0]
