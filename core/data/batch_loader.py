"""Augmented training batches from a split in memory or streamed: no DataLoader, no worker processes.

Why: with the split decoded into tensors (core.data.decoded) and the augmentation batched
(core.data.batch_augment), a batch is an index_select plus a few kernels on the training
device, so the GPU never waits on Python workers and a 2-core CPU loses no core to them. A
split too large for memory (core.data.streamed) gives the same batches, decoded by a thread
pool a few batches ahead: the loader only asks either for index lists (`split.batches`).

Order: each epoch's permutation comes from a CPU torch.Generator seeded `seed * 100_003 + epoch`
(the Trainer's per-epoch seed), drawn exactly as a DataLoader with that generator draws it (one
int64 for its base seed, then randperm), so a run visits the images in the same order as the
DataLoader path. drop_last. With `world_size` > 1 this rank yields its share of every global
batch of `batch_size`, in the single-process order: rank r takes every world_size-th image of
the epoch order from position r (core.engine.distributed.ShardSampler). Augmentation draws come
from a generator on the augmenting device seeded by (seed, epoch, rank, batch): repeatable,
distinct per rank, and independent of the batches before, so a resume skips them unread.
"""
from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import torch

from core.data.batch_augment import BatchAugment
from core.data.decoded import DecodedSplit
from core.data.streamed import StreamedSplit
from core.errors import ConfigError


class BatchLoader:
    def __init__(self, split: DecodedSplit | StreamedSplit, batch_size: int, augment: BatchAugment, *, seed: int = 0,
                 rank: int = 0, world_size: int = 1, device: torch.device | str | None = None,
                 donors_from_split: bool = True):
        """`batch_size` is the global batch (as in TrainConfig); `device` is where batches are
        augmented and yielded (default: where the split lives). `donors_from_split`: copy-paste
        donors are drawn from the whole split, as SegmentationDataset does (else from the batch)."""
        if world_size < 1 or not 0 <= rank < world_size:
            raise ConfigError(f"rank {rank} of {world_size} processes is not a valid shard")
        if batch_size % world_size:
            raise ConfigError(f"batch_size {batch_size} is the global batch and must divide evenly over "
                              f"{world_size} processes (use a multiple of {world_size})")
        if len(split) < batch_size:
            raise ConfigError(f"the split has {len(split)} images, fewer than the batch size {batch_size}")
        self.split = split
        self.batch_size = int(batch_size)
        self.rank, self.world_size = int(rank), int(world_size)
        self.local_batch = self.batch_size // self.world_size
        self.augment = augment
        self.seed = int(seed)
        self.epoch = 0
        self.device = torch.device(device) if device is not None else split.device
        self.donors_from_split = donors_from_split

    def __len__(self) -> int:
        return len(self.split) // self.batch_size

    def set_epoch(self, epoch: int) -> None:
        self.epoch = int(epoch)

    def epoch_order(self) -> list[int]:
        """The single-process order of this epoch (every image index, before drop_last)."""
        g = torch.Generator().manual_seed(self.seed * 100_003 + self.epoch)
        torch.empty((), dtype=torch.int64).random_(generator=g)  # the DataLoader's base seed draw
        return torch.randperm(len(self.split), generator=g).tolist()

    def batch_indices(self) -> list[list[int]]:
        """This rank's index batches for the current epoch, in yield order."""
        total = len(self) * self.batch_size
        mine = self.epoch_order()[self.rank:total:self.world_size]
        b = self.local_batch
        return [mine[i:i + b] for i in range(0, len(mine), b)]

    def _generators(self, k: int) -> tuple[torch.Generator, torch.Generator]:
        """Batch `k`'s own generators (augmentation, donor draw), seeded by (seed, epoch, rank,
        k): a batch's draws do not depend on the batches before it, so a resume skips the
        finished batches of an epoch without reading or augmenting them."""
        state = np.random.SeedSequence([self.seed % 2**63, self.epoch, self.rank, k]).generate_state(2, np.uint64)
        aug = torch.Generator(device=self.device).manual_seed(int(state[0]) % 2**63)
        host = torch.Generator().manual_seed(int(state[1]) % 2**63)
        return aug, host

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        return self.iter_from(0)

    def iter_from(self, start: int) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """This epoch's augmented batches from batch `start` on; the batches before it are
        neither read nor augmented, and the ones yielded are those a full pass yields."""
        batches = self.batch_indices()[start:]
        n = len(self.split)
        paste = self.augment.paste is not None and self.donors_from_split and n > 1
        gens, requests = [], []
        for k, idx in enumerate(batches, start):
            aug, host = self._generators(k)
            gens.append(aug)
            requests.append(idx)
            if paste:
                shift = torch.randint(1, n, (len(idx),), generator=host)  # any other image
                requests.append(((torch.tensor(idx) + shift) % n).tolist())
        pairs = self.split.batches(requests, self.device)  # reads ahead where the split streams
        try:
            for aug in gens:
                images, masks = next(pairs)
                donors = next(pairs) if paste else None
                yield self.augment(images, masks, aug, donors=donors)
        finally:
            close = getattr(pairs, "close", None)
            if close is not None:
                close()
