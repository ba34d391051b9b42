"""What label-issue scoring keeps of each image until the split is done, within a memory bound.

Why: the split's thresholds are known only after its last image, so every image's candidate
pixels wait (core.labeling.label_issues._Pending, ~0.85 bytes a pixel): Cityscapes val at
1024x2048 needs ~1 GB, a fleet's 100,000 frames far more than a machine has. The first
`in_memory` bytes stay in memory, as before; the rest is written to a temporary folder, one
file per image (its arrays in an uncompressed .npz, read without pickle; its few plain
fields stay in memory), and read back one at a time when the images are finished, so peak
memory no longer grows with the split's length. The files are removed when the store is
closed or collected.
"""
from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np

IN_MEMORY = 512 * 2**20  # bytes of pending images kept in memory before spilling to disk


def nbytes(item) -> int:
    """The numpy bytes a pending item holds."""
    return sum(v.nbytes for v in vars(item).values() if isinstance(v, np.ndarray))


class PendingStore:
    """An append-only list of pending images: in memory up to `in_memory` bytes, then on disk."""

    def __init__(self, in_memory: int = IN_MEMORY, folder: str | Path | None = None):
        self.in_memory = int(in_memory)
        self._parent = folder
        self._items: list = []  # a pending item, or (its type, its plain fields, the file of its arrays)
        self._shapes: list[tuple[int, int]] = []
        self._held = 0
        self._dir: Path | None = None

    def __len__(self) -> int:
        return len(self._items)

    @property
    def shapes(self) -> list[tuple[int, int]]:
        return list(self._shapes)

    @property
    def spilled(self) -> int:
        return sum(isinstance(x, tuple) for x in self._items)

    def append(self, item) -> None:
        self._shapes.append(tuple(item.shape))
        size = nbytes(item)
        if self._held + size <= self.in_memory:
            self._held += size
            self._items.append(item)
            return
        if self._dir is None:
            self._dir = Path(tempfile.mkdtemp(prefix="roadseg-issues-", dir=self._parent))
        path = self._dir / f"{len(self._items):08d}.npz"
        fields = vars(item)
        arrays = {k: v for k, v in fields.items() if isinstance(v, np.ndarray)}
        np.savez(path, **arrays)
        self._items.append((type(item), {k: v for k, v in fields.items() if k not in arrays}, path))

    def __iter__(self) -> Iterator:
        """Each item in order; one spilled item is in memory at a time."""
        for x in self._items:
            if isinstance(x, tuple):
                kind, plain, path = x
                with np.load(path, allow_pickle=False) as arrays:
                    yield kind(**plain, **{k: arrays[k] for k in arrays.files})
            else:
                yield x

    def close(self) -> None:
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None

    def __del__(self) -> None:
        self.close()
