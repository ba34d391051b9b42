"""One decoded training split per machine under torchrun, shared by the processes on it.

Why: every torchrun process used to decode its own full copy of the split, so a node with 8
processes held the data 8 times (Cityscapes train at 1024x2048: 8 x 25 GB). Here the processes
of one machine map one shared-memory file (/dev/shm, else the temporary folder) and each
decodes every LOCAL_WORLD_SIZE-th pair into it, so the data takes its size once per machine and
decoding runs on all of the machine's processes at once. The file is unlinked as soon as every
process has mapped it: the memory lives exactly as long as the mappings, and a crash leaves no
file behind. A bad file on any process is one DataError on every process, naming it.
"""
from __future__ import annotations

import hashlib
import os
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist

from core.data.decoded import DecodedSplit, decode_into, decode_threads, raise_bad_files, split_bytes
from core.data.source import DataSource
from core.errors import DataError


def local_world() -> tuple[int, int]:
    """(this process's index on its machine, processes on the machine) from torchrun."""
    return int(os.environ.get("LOCAL_RANK", "0")), int(os.environ.get("LOCAL_WORLD_SIZE", "1"))


def shared_file(split: str, image_size: tuple[int, int], count: int) -> Path:
    """The machine-local file name every process of this torchrun job on this node agrees on."""
    key = "|".join(os.environ.get(k, "") for k in ("TORCHELASTIC_RUN_ID", "MASTER_ADDR", "MASTER_PORT",
                                                    "GROUP_RANK"))
    digest = hashlib.sha1(f"{key}|{split}|{image_size}|{count}".encode()).hexdigest()[:16]
    folder = Path("/dev/shm") if Path("/dev/shm").is_dir() else Path(tempfile.gettempdir())
    return folder / f"roadseg-split-{digest}.u8"


def decode_split_shared(source: DataSource, split: str, image_size: tuple[int, int],
                        device: torch.device) -> DecodedSplit:
    """`split` decoded once for this machine, every process decoding its share into one shared
    mapping (collectives over the default process group: call it on every rank)."""
    samples = source.samples(split)
    n, (h, w) = len(samples), (int(image_size[0]), int(image_size[1]))
    local_rank, local_size = local_world()
    path = shared_file(split, (h, w), n)
    total = split_bytes(n, (h, w))
    if local_rank == 0:
        with open(path, "wb") as f:
            f.truncate(total)  # sparse: pages are taken as they are written
    dist.barrier()
    try:
        flat = torch.from_file(str(path), shared=True, size=total, dtype=torch.uint8)
    finally:
        dist.barrier()  # every process has mapped it: the name can go
        if local_rank == 0:
            path.unlink(missing_ok=True)
    images = flat[: n * 3 * h * w].view(n, 3, h, w)
    masks = flat[n * 3 * h * w:].view(n, h, w)
    counts = np.zeros((n, 256), np.int64)
    errors: dict[int, str] = {}
    mine = list(range(local_rank, n, local_size))

    def one(i: int) -> None:
        try:
            counts[i] = decode_into(source, samples[i], images[i], masks[i])
        except DataError as e:
            errors[i] = " ".join(str(e).split())

    threads = max(1, decode_threads() // local_size)
    with ThreadPoolExecutor(max_workers=threads) as pool:
        list(pool.map(one, mine))
    gathered: list = [None] * dist.get_world_size()
    dist.all_gather_object(gathered, (errors, counts[mine] if mine else None, mine))
    all_errors: dict[int, str] = {}
    for errs, part, idx in gathered:  # other machines' processes decoded their own copies
        all_errors.update(errs)
    local = gathered[dist.get_rank() - local_rank: dist.get_rank() - local_rank + local_size]
    for _, part, idx in local:
        if idx:
            counts[idx] = part
    raise_bad_files(all_errors, n, split)
    if device.type != "cpu":  # each process's GPU holds its own copy; the shared one is then let go
        return DecodedSplit(images.to(device), masks.to(device), [s.name for s in samples], counts)
    return DecodedSplit(images, masks, [s.name for s in samples], counts)
