"""A torch Dataset over one split of a DataSource.

On a 2-core CPU, PNG decoding costs about as much as a small model's step, so `cache=True` keeps
each decoded pair in memory, already resized to image_size (every transform starts with that
resize, so caching it changes no result and shrinks the cache). The albumentations pipeline is
not pickled: each process builds its own on first use, seeded from torch.initial_seed(), which
torch sets per DataLoader worker (distinct streams) and which follows torch.manual_seed(seed)
in the main process (repeatable runs). `copy_paste = (class ids, share)` pastes, into that share of
the training samples, those classes' pixels from another random training image
(core.data.copy_paste), drawn from a generator seeded the same way.
"""
from __future__ import annotations

import os

import numpy as np
import torch
from torch.utils.data import Dataset

from core.data.augment import build_transform, resize_transform
from core.data.copy_paste import paste
from core.data.source import DataSource, Sample


class SegmentationDataset(Dataset):
    def __init__(self, source: DataSource, split: str, image_size: tuple[int, int] = (360, 480),
                 augment: str = "none", train: bool = True, cache: bool = True,
                 crop_size: tuple[int, int] | None = None,
                 rare_crop: tuple[list[int], float] | None = None,
                 copy_paste: tuple[list[int], float] | None = None):
        self.source = source
        self.split = split
        self.samples: list[Sample] = source.samples(split)
        self.image_size = (int(image_size[0]), int(image_size[1]))
        self.augment = augment
        self.train = train
        self.cache = cache
        self.crop_size = crop_size
        self.rare_crop = rare_crop
        self.copy_paste = copy_paste if copy_paste and copy_paste[0] and copy_paste[1] > 0 else None
        build_transform(augment, self.image_size, train, crop_size=crop_size, rare_crop=rare_crop)  # fail early on a bad preset
        self._cached: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        self._transform = None
        self._transform_pid: int | None = None
        self._rng: np.random.Generator | None = None

    @property
    def schema(self):
        return self.source.schema

    @property
    def names(self) -> list[str]:
        return [s.name for s in self.samples]

    def __len__(self) -> int:
        return len(self.samples)

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state["_transform"] = None
        state["_transform_pid"] = None
        state["_rng"] = None
        return state

    def fill_cache(self, split) -> None:
        """Take every pair from a decode pass (core.data.decoded.DecodedSplit of this split at
        this image size), so no file is read again."""
        if list(split.names) != self.names or tuple(split.image_size) != self.image_size:
            raise ValueError("fill_cache: the decoded split is not this dataset's split and size")
        images = split.images.permute(0, 2, 3, 1).cpu().numpy()
        masks = split.masks.cpu().numpy()
        self._cached = {i: (np.ascontiguousarray(images[i]), masks[i].copy()) for i in range(len(self))}

    def load(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        """Decoded (image RGB uint8, mask uint8 train ids), resized to image_size."""
        pair = self._cached.get(i)
        if pair is None:
            image, mask = self.source.read_pair(self.samples[i])
            if image.shape[:2] != self.image_size:
                out = resize_transform(self.image_size)(image=image, mask=mask)
                image, mask = out["image"], out["mask"]
            pair = (image, mask)
            if self.cache:
                self._cached[i] = pair
        return pair

    def _get_transform(self):
        # Rebuilt in every new process (spawned or forked worker) with that process's seed.
        if self._transform is None or self._transform_pid != os.getpid():
            seed = torch.initial_seed() % 2**32
            self._transform = build_transform(self.augment, self.image_size, self.train, seed=seed,
                                              crop_size=self.crop_size, rare_crop=self.rare_crop)
            self._rng = np.random.default_rng(seed)
            self._transform_pid = os.getpid()
        return self._transform

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        if not -len(self) <= i < len(self):
            raise IndexError(i)
        i %= len(self)
        image, mask = self.load(i)
        transform = self._get_transform()
        if self.train and self.copy_paste and len(self) > 1:
            classes, share = self.copy_paste
            if self._rng.random() < share:
                donor = (i + 1 + int(self._rng.integers(len(self) - 1))) % len(self)  # any other one
                image, mask = paste(image, mask, *self.load(donor), classes)
        out = transform(image=image, mask=mask)
        return out["image"].float(), out["mask"].long()
