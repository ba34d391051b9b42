"""Undo/redo for one mask as bounding-box patches, zlib-compressed.

Storing whole masks would cost 2 MB per step on a 2048x1024 image; a brush stroke's before/after
patches cover only its bounding box, and label patches (few distinct values in runs) shrink a
further 10-100x under zlib, so hundreds of steps stay within a few megabytes even when a flood
fill touches the whole image.
"""
from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np

from core.labeling.edits import Rect

DEFAULT_MAX_STEPS = 200


@dataclass(frozen=True)
class Edit:
    """One undoable step: the rect and its pixels before and after (compressed)."""

    id: int
    label: str
    rect: Rect
    before: bytes
    after: bytes

    @property
    def nbytes(self) -> int:
        return len(self.before) + len(self.after)


def _pack(patch: np.ndarray) -> bytes:
    return zlib.compress(np.ascontiguousarray(patch, np.uint8).tobytes(), 1)


def _unpack(data: bytes, rect: Rect) -> np.ndarray:
    return np.frombuffer(zlib.decompress(data), np.uint8).reshape(rect.height, rect.width)


class EditHistory:
    """A linear undo stack; recording after an undo drops the redo branch.

    `state_id` names the mask's current state (0 = as loaded), so a caller can remember the state
    it saved and tell "dirty" from "undone back to what is on disk".
    """

    def __init__(self, max_steps: int = DEFAULT_MAX_STEPS):
        self.max_steps = max_steps
        self._done: list[Edit] = []
        self._undone: list[Edit] = []
        self._next_id = 1
        self._base_id = 0  # state left after the oldest remaining edit is undone

    def record(self, rect: Rect, before: np.ndarray, after: np.ndarray, label: str = "edit") -> Edit:
        """Remember that `rect` went from `before` to `after` (both patches of the rect's size)."""
        if before.shape != (rect.height, rect.width) or after.shape != before.shape:
            raise ValueError(f"patches {before.shape}/{after.shape} do not match rect {rect}")
        edit = Edit(self._next_id, label, rect, _pack(before), _pack(after))
        self._next_id += 1
        self._done.append(edit)
        self._undone.clear()
        if len(self._done) > self.max_steps:
            drop = len(self._done) - self.max_steps
            self._base_id = self._done[drop - 1].id
            del self._done[:drop]
        return edit

    def undo(self, mask: np.ndarray) -> Rect | None:
        """Put the last edit's `before` back into `mask`; the changed rect, or None if nothing to undo."""
        if not self._done:
            return None
        edit = self._done.pop()
        mask[edit.rect.slices] = _unpack(edit.before, edit.rect)
        self._undone.append(edit)
        return edit.rect

    def redo(self, mask: np.ndarray) -> Rect | None:
        if not self._undone:
            return None
        edit = self._undone.pop()
        mask[edit.rect.slices] = _unpack(edit.after, edit.rect)
        self._done.append(edit)
        return edit.rect

    @property
    def can_undo(self) -> bool:
        return bool(self._done)

    @property
    def can_redo(self) -> bool:
        return bool(self._undone)

    @property
    def state_id(self) -> int:
        return self._done[-1].id if self._done else self._base_id

    @property
    def undo_label(self) -> str | None:
        return self._done[-1].label if self._done else None

    @property
    def redo_label(self) -> str | None:
        return self._undone[-1].label if self._undone else None

    def __len__(self) -> int:
        return len(self._done)

    @property
    def nbytes(self) -> int:
        """Bytes held by all patches (undo and redo sides)."""
        return sum(e.nbytes for e in self._done) + sum(e.nbytes for e in self._undone)

    def clear(self) -> None:
        self._base_id = self.state_id
        self._done.clear()
        self._undone.clear()
