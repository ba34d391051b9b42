"""A split decoded once into uint8 tensors, for a data path that keeps a GPU fed.

Why: on CUDA a training step takes milliseconds, and decoding PNGs and augmenting one sample at
a time in Python cannot keep up. Decoding every file once, up front, also moves each corrupt or
mismatched file's error before the first training step, all of them in one message, instead of
one per run somewhere in epoch 3. The pairs are resized to the run's image size exactly as
SegmentationDataset does (linear for images, nearest for masks), so both paths see the same
pixels. OpenCV releases the GIL while decoding and resizing, so a thread pool decodes in
parallel without worker processes (benchmarks/bench_batch_augment.py measures it).

Storage: on a CUDA device the tensors go to GPU memory when they take at most DEVICE_SHARE of the
free memory (the rest is for the model's activations), else to pinned host memory, from which
batches copy to the GPU asynchronously.
"""
from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass

import cv2
import numpy as np
import torch

from core.data.source import DataSource
from core.errors import DataError

DEVICE_SHARE = 0.25  # of the free GPU memory a decoded split may take


@dataclass
class DecodedSplit:
    """images uint8 [N,3,H,W] (RGB), masks uint8 [N,H,W] (train ids, void = IGNORE_INDEX);
    class_counts int64 [N,256]: each mask's pixels per id at its full resolution, before the
    resize, so the split's class statistics (core.data.stats.stats_from_counts) need no
    second read of the masks."""

    images: torch.Tensor
    masks: torch.Tensor
    names: list[str]
    class_counts: np.ndarray | None = None

    def __len__(self) -> int:
        return int(self.images.shape[0])

    @property
    def device(self) -> torch.device:
        return self.images.device

    @property
    def image_size(self) -> tuple[int, int]:
        return int(self.images.shape[2]), int(self.images.shape[3])

    @property
    def nbytes(self) -> int:
        return split_bytes(len(self), self.image_size)

    def take(self, idx: list[int], device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
        """The pairs `idx` as one batch on `device`: an index_select where the split lives
        there, else gathered into (pinned, for CUDA) host memory and copied asynchronously."""
        index = torch.tensor(idx, dtype=torch.long).to(self.device, non_blocking=True)
        if self.device == device:
            return self.images.index_select(0, index), self.masks.index_select(0, index)
        pinned = device.type == "cuda" and self.images.is_pinned()
        images = torch.empty((len(idx), *self.images.shape[1:]), dtype=torch.uint8, pin_memory=pinned)
        masks = torch.empty((len(idx), *self.masks.shape[1:]), dtype=torch.uint8, pin_memory=pinned)
        torch.index_select(self.images, 0, index, out=images)
        torch.index_select(self.masks, 0, index, out=masks)
        return images.to(device, non_blocking=pinned), masks.to(device, non_blocking=pinned)

    def batches(self, requests: list[list[int]], device: torch.device) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """`take` for each index list in turn (the interface core.data.streamed shares)."""
        return (self.take(idx, device) for idx in requests)


def split_bytes(count: int, image_size: tuple[int, int]) -> int:
    """Bytes of `count` decoded pairs: 3 image channels + 1 mask channel, one byte each."""
    return int(count) * 4 * int(image_size[0]) * int(image_size[1])


def fits_on_device(nbytes: int, free_bytes: int, share: float = DEVICE_SHARE) -> bool:
    """True when a split of `nbytes` may live in device memory with `free_bytes` free."""
    return nbytes <= share * free_bytes


def storage_for(device: torch.device | str | None, nbytes: int) -> str:
    """Where a split of `nbytes` lives for training on `device`: "device", "pinned" or "cpu"."""
    device = torch.device(device) if device is not None else torch.device("cpu")
    if device.type == "cpu":
        return "cpu"
    if device.type == "cuda":
        free, _ = torch.cuda.mem_get_info(device)
        return "device" if fits_on_device(nbytes, free) else "pinned"
    return "device"  # MPS and others: unified or no pinned memory to speak of


def decode_threads() -> int:
    """Two threads per core, at most 8, so reading files overlaps decoding. CamVid train at
    360x480 on a busy 2-core EPYC (2026-12-04, benchmarks/bench_batch_augment.py, three runs):
    a loop 4.5-8.1 s, 2 threads 2.0-4.8 s, 4 threads 2.1-3.9 s."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:
        cores = os.cpu_count() or 1
    return max(1, min(8, 2 * cores))


def empty_uint8(shape: tuple[int, ...], pinned: bool) -> torch.Tensor:
    if pinned:
        try:
            return torch.empty(shape, dtype=torch.uint8, pin_memory=True)
        except RuntimeError:  # pinning can fail (locked-memory limit): pageable memory still works
            pass
    return torch.empty(shape, dtype=torch.uint8)


def decode_into(source: DataSource, sample, image_out: torch.Tensor, mask_out: torch.Tensor,
                count: bool = True) -> np.ndarray | None:
    """Read one pair, resize it to `image_out`'s size (linear for the image, nearest for the mask,
    as SegmentationDataset does) and write it into `image_out` [3,H,W] and `mask_out` [H,W];
    returns the mask's pixel count per id at its full resolution (None with `count=False`:
    a streamed split has no use for it, and it is ~10 ms of a 1024x2048 pair). The one decode
    both data paths share (in memory: core.data.decoded; streamed: core.data.streamed), so both
    see the same pixels."""
    h, w = int(mask_out.shape[0]), int(mask_out.shape[1])
    image, mask = source.read_pair(sample)
    counts = np.bincount(mask.ravel(), minlength=256) if count else None
    if image.shape[:2] != (h, w):
        image = cv2.resize(image, (w, h), interpolation=cv2.INTER_LINEAR)
        mask = cv2.resize(mask, (w, h), interpolation=cv2.INTER_NEAREST)
    image_out.copy_(torch.from_numpy(np.ascontiguousarray(image)).permute(2, 0, 1))
    mask_out.copy_(torch.from_numpy(mask))
    return counts


def raise_bad_files(errors: dict[int, Exception | str], total: int, split: str, shown: int = 10) -> None:
    """One DataError naming every bad file of a pass over `split` (by sample index, in order),
    each with the reader's own reason on one line; nothing when there are none."""
    if not errors:
        return
    messages = [" ".join(str(errors[i]).split()) for i in sorted(errors)]
    if len(messages) == 1:
        raise DataError(messages[0])
    more = f"; and {len(messages) - shown} more" if len(messages) > shown else ""
    raise DataError(f"{len(messages)} of the {total} '{split}' files cannot be used: "
                    + "; ".join(messages[:shown]) + more)


def decode_split(source: DataSource, split: str, image_size: tuple[int, int],
                 device: torch.device | str | None = None,
                 progress: Callable[[int, int], None] | None = None,
                 threads: int | None = None, storage: str | None = None) -> DecodedSplit:
    """Read every image and mask of `split` once, resized to `image_size` (H, W).

    Every file is read before this returns; when any is unreadable or its mask does not match
    its image, one DataError names every bad file (each with the reader's own reason).
    `progress(done, total)` is called from this thread as files finish; `threads=1` decodes in
    a plain loop.
    """
    samples = source.samples(split)
    h, w = int(image_size[0]), int(image_size[1])
    n = len(samples)
    where = storage or storage_for(device, split_bytes(n, (h, w)))  # the memory plan's, when given
    images = empty_uint8((n, 3, h, w), pinned=where == "pinned")
    masks = empty_uint8((n, h, w), pinned=where == "pinned")
    counts = np.zeros((n, 256), np.int64)

    def one(i: int) -> None:
        counts[i] = decode_into(source, samples[i], images[i], masks[i])

    errors: dict[int, DataError] = {}
    threads = decode_threads() if threads is None else max(1, int(threads))
    if threads == 1:
        for i in range(n):
            try:
                one(i)
            except DataError as e:
                errors[i] = e
            if progress is not None:
                progress(i + 1, n)
    else:
        with ThreadPoolExecutor(max_workers=threads) as pool:
            futures = {pool.submit(one, i): i for i in range(n)}
            for done, fut in enumerate(as_completed(futures), 1):
                try:
                    fut.result()
                except DataError as e:
                    errors[futures[fut]] = e
                if progress is not None:
                    progress(done, n)
    raise_bad_files(errors, n, split)
    if where == "device":
        images, masks = images.to(device), masks.to(device)
    return DecodedSplit(images, masks, [s.name for s in samples], counts)
