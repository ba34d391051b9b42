"""A split read from its files batch by batch, for data larger than memory.

Why: Cityscapes at full resolution, BDD100K, Mapillary or a fleet's frames do not fit in RAM
once decoded (a 1024x2048 pair is 8 MB), so the in-memory path (core.data.decoded) would be
killed by the kernel's OOM killer. This reads each batch's pairs when the loader asks for it:
a thread pool (OpenCV and libpng release the GIL) decodes and resizes the next few batches
into uint8 tensors (pinned when they go to a GPU) while the current one trains, then the same
BatchAugment runs on the device. Memory is bounded by `prefetch` batches plus one full-size
decode per thread, whatever the split's length. Each pair goes through the same
`decode_into` as the in-memory path, so both paths see the same pixels and, with the same
index lists, the loader yields the same batches (core.data.batch_loader).

Before the first step `check_headers` reads every file's header (size, readability): a
missing, empty or mismatched file is named up front; a file whose body fails to decode
mid-run raises its DataError from the loader, naming the file.
"""
from __future__ import annotations

import os
import threading
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor, as_completed

import torch

from core.data.decoded import decode_into, decode_threads, empty_uint8, raise_bad_files
from core.data.source import DataSource
from core.errors import DataError

PREFETCH = 2  # batches decoded ahead of the one training
# Training on the CPU, decoding takes cores from torch's own threads, and a decode thread that
# preempts one of them stalls every parallel kernel: camvid-fast's settings on a 2-core CPU
# (2026-12-07, benchmarks/RESULTS.md) ran at 0.80x the in-memory rate with four decode threads
# at normal priority, 0.93x with one thread at nice 19 (it runs when torch's threads wait,
# and the main thread, waiting for a late batch, lets it). GPUs keep the full pool.
CPU_DECODE = {"threads": 1, "nice": 19}


def decode_settings(device) -> dict:
    """StreamedSplit's threads and priority for training on `device`."""
    return dict(CPU_DECODE) if device is None or torch.device(device).type == "cpu" else {}


class StreamedSplit:
    """`split` of `source` at `image_size` (H, W), read on demand; lives on the host."""

    class_counts = None  # no decode pass up front: statistics read the masks (core.data.stats)

    def __init__(self, source: DataSource, split: str, image_size: tuple[int, int],
                 threads: int | None = None, prefetch: int = PREFETCH, nice: int = 0):
        self.source = source
        self.split = split
        self.samples = source.samples(split)
        self.names = [s.name for s in self.samples]
        self.image_size = (int(image_size[0]), int(image_size[1]))
        self.threads = decode_threads() if threads is None else max(1, int(threads))
        self.prefetch = max(1, int(prefetch))
        self.nice = int(nice)
        self._pool: ThreadPoolExecutor | None = None

    def __len__(self) -> int:
        return len(self.samples)

    @property
    def device(self) -> torch.device:
        return torch.device("cpu")

    def _executor(self) -> ThreadPoolExecutor:
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=self.threads, thread_name_prefix="roadseg-stream",
                                            initializer=_lower_priority, initargs=(self.nice,))
        return self._pool

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def _submit(self, idx: list[int], pinned: bool) -> tuple[torch.Tensor, torch.Tensor, list[Future]]:
        h, w = self.image_size
        images = empty_uint8((len(idx), 3, h, w), pinned)
        masks = empty_uint8((len(idx), h, w), pinned)
        pool = self._executor()
        futures = [pool.submit(decode_into, self.source, self.samples[i], images[j], masks[j], False)
                   for j, i in enumerate(idx)]
        return images, masks, futures

    def batches(self, requests: list[list[int]], device: torch.device) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """Each index list of `requests` as a batch on `device`, in order, with up to
        `prefetch` batches being decoded ahead. A file that fails raises its DataError here
        (the batches after it are dropped)."""
        device = torch.device(device)
        pinned = device.type == "cuda"
        pending: deque = deque()
        todo = iter(requests)
        try:
            for idx in todo:
                pending.append(self._submit(idx, pinned))
                if len(pending) > self.prefetch:
                    break
            while pending:
                images, masks, futures = pending.popleft()
                for fut in futures:
                    fut.result()  # DataError names the file
                nxt = next(todo, None)
                if nxt is not None:
                    pending.append(self._submit(nxt, pinned))
                yield images.to(device, non_blocking=pinned), masks.to(device, non_blocking=pinned)
        finally:
            for _, _, futures in pending:
                for fut in futures:
                    fut.cancel()


def _lower_priority(nice: int) -> None:
    """Give this decode thread a higher nice value (Linux: per thread)."""
    if nice > 0 and hasattr(os, "setpriority"):
        try:
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), nice)
        except OSError:
            pass


def check_headers(source: DataSource, split: str, threads: int | None = None,
                  progress: Callable[[int, int], None] | None = None) -> None:
    """Read the header of every image and mask of `split` (no pixel decode): one DataError
    naming every file that is missing, unreadable, or whose mask size differs from its image's.
    What only a full decode finds (a truncated body) is named when the file is reached."""
    samples = source.samples(split)

    one = source.check_header

    threads = decode_threads() if threads is None else max(1, int(threads))
    errors: dict[int, DataError] = {}
    with ThreadPoolExecutor(max_workers=threads) as pool:
        futures = {pool.submit(one, s): i for i, s in enumerate(samples)}
        for done, fut in enumerate(as_completed(futures), 1):
            try:
                fut.result()
            except DataError as e:
                errors[futures[fut]] = e
            if progress is not None:
                progress(done, len(samples))
    raise_bad_files(errors, len(samples), split)
