"""Where a run's data lives, decided before the first byte is decoded.

Why: the in-memory path (core.data.decoded) is the fast one, but a split larger than the
machine's free memory gets the process killed by the kernel's OOM killer mid-decode, with an
empty log. So the bytes the in-memory path would take (the training split at the run's size,
the validation cache at full resolution; per machine: under torchrun the processes of a
machine share one decoded training split (core.data.shared_split) and each caches only its
shard of the validation split) are set against what the machine has (available
host RAM, within the process's memory cgroup when it has a limit; the GPU's free memory for a
device copy). `auto` keeps data in memory when it fits with room to spare (HOST_SHARE of the
available RAM), else streams it from the files (core.data.streamed); `memory` that cannot fit
is one error line before any decode; `stream` always streams. The validation cache follows
the same test with what the training split leaves.
"""
from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from pathlib import Path

from core.config import DATA_PATHS
from core.data.decoded import fits_on_device, split_bytes
from core.data.source import DataSource
from core.errors import ConfigError, DataError

HOST_SHARE = 0.5  # of the available host memory the data may take: the model, its activations,
                  # the optimiser state and the rest of the desktop need the remainder


@dataclass
class MemoryPlan:
    """The choice and the numbers behind it (kept in summary.json)."""

    requested: str  # auto | memory | stream
    path: str  # memory | stream: where the training split lives
    storage: str  # memory path: device | pinned | cpu; stream: stream
    val_cache: bool  # validation pairs kept decoded between epochs
    train_images: int
    train_bytes: int  # one process's decoded training split at the run's image size
    val_images: int
    val_bytes: int  # one process's decoded validation split at full resolution
    processes: int  # processes on this machine (torchrun's LOCAL_WORLD_SIZE), sharing one copy
    host_available: int | None  # bytes; None where the platform does not say
    device_free: int | None  # bytes free on the GPU, None off CUDA
    reason: str

    def to_dict(self) -> dict:
        return asdict(self)

    def describe(self) -> str:
        """One console line: the choice and the numbers that made it."""
        where = {"device": "in GPU memory", "pinned": "in pinned host memory", "cpu": "in host memory",
                 "stream": "streamed from the files"}[self.storage]
        val = "validation cached" if self.val_cache else "validation streamed"
        return f"data: {where}, {val} ({self.reason})"


def gb(n: int | None) -> str:
    return "unknown" if n is None else f"{n / 1e9:.2f} GB"


def _cgroup_room() -> int | None:
    """Bytes the process's memory cgroup still allows (limit minus usage, the tightest over its
    ancestors), or None without a limit. cgroup v2 (memory.max/current) and v1."""
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return None
    room = None
    for line in lines:
        _, controllers, rel = line.split(":", 2)
        if controllers == "":  # v2
            base, limit_file, usage_file = Path("/sys/fs/cgroup"), "memory.max", "memory.current"
        elif "memory" in controllers.split(","):
            base, limit_file, usage_file = Path("/sys/fs/cgroup/memory"), "memory.limit_in_bytes", "memory.usage_in_bytes"
        else:
            continue
        parts = [p for p in rel.strip("/").split("/") if p]
        for depth in range(len(parts), -1, -1):
            folder = base.joinpath(*parts[:depth])
            try:
                limit = (folder / limit_file).read_text().strip()
                usage = int((folder / usage_file).read_text().strip())
            except (OSError, ValueError):
                continue
            if limit == "max" or int(limit) >= 2**60:
                continue
            left = max(0, int(limit) - usage)
            room = left if room is None else min(room, left)
    return room


def host_available_bytes() -> int | None:
    """Memory a new allocation can take without swapping: the kernel's MemAvailable, capped by
    the process's cgroup limit. None where neither can be read (the plan then trusts the data
    to fit, as before there was a plan)."""
    available = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                available = int(line.split()[1]) * 1024
                break
    except (OSError, ValueError):
        pass
    if available is None:
        try:
            import psutil  # not a dependency: used where installed (macOS, Windows)

            available = int(psutil.virtual_memory().available)
        except Exception:  # noqa: BLE001 - no psutil, or it cannot read this platform
            available = None
    room = _cgroup_room()
    if room is not None:
        available = room if available is None else min(available, room)
    return available


def local_processes() -> int:
    """Processes of this run on this machine: torchrun's LOCAL_WORLD_SIZE, else 1."""
    try:
        return max(1, int(os.environ.get("LOCAL_WORLD_SIZE", "1")))
    except ValueError:
        return 1


def full_size_bytes(source: DataSource, split: str) -> int:
    """Decoded bytes of `split`'s pairs at their own resolution, from the image headers. A file
    whose header cannot be read counts as the size of the others: its error belongs to the
    pass that reads it (it names the file there), not to the plan."""
    sizes, unread = [], 0
    for sample in source.samples(split):
        try:
            sizes.append(split_bytes(1, source.image_size(sample)))
        except DataError:
            unread += 1
    return sum(sizes) + unread * (max(sizes) if sizes else 0)


def plan_data(requested: str, source: DataSource, train_split: str, val_split: str | None,
              image_size: tuple[int, int], device=None, *, processes: int | None = None,
              host_available: int | None = None, device_free: int | None = None,
              host_copies: int = 1) -> MemoryPlan:
    """The data path for a run. `host_available` / `device_free` default to this machine's
    (tests pass their own); `host_copies` is how many host copies the in-memory path makes of
    the training split (2 on the per-sample path, which fills a dataset cache from it)."""
    if requested not in DATA_PATHS:
        raise ConfigError(f"data path must be one of {', '.join(DATA_PATHS)}, got {requested!r}")
    import torch

    device = torch.device(device) if device is not None else torch.device("cpu")
    processes = local_processes() if processes is None else max(1, int(processes))
    if host_available is None:
        host_available = host_available_bytes()
    if device_free is None and device.type == "cuda":
        device_free = int(torch.cuda.mem_get_info(device)[0])
    n_train = len(source.samples(train_split))
    train_bytes = split_bytes(n_train, image_size)
    has_val = val_split is not None and val_split in source.splits
    n_val = len(source.samples(val_split)) if has_val else 0
    val_bytes = full_size_bytes(source, val_split) if has_val else 0

    if device.type == "cpu":
        storage = "cpu"
    elif device.type == "cuda":
        storage = "device" if device_free is not None and fits_on_device(train_bytes, device_free) else "pinned"
    else:
        storage = "device"  # MPS: unified memory, counted as host memory below
    # a device copy is decoded in host memory first (core.data.decoded), so it needs both; one
    # copy per machine, whatever the number of processes on it (core.data.shared_split)
    host_train = train_bytes * host_copies
    budget = None if host_available is None else HOST_SHARE * host_available
    fits = budget is None or host_train <= budget
    copies = f", shared by {processes} processes" if processes > 1 else ""
    need = (f"train {n_train} images at {image_size[0]}x{image_size[1]}: {gb(host_train)}{copies}"
            f" of host memory, {gb(host_available)} available (half may be used)")
    if storage == "device":
        need += f", then the GPU's {gb(device_free)} free"

    if requested == "stream":
        path, reason = "stream", f"asked for; in memory it would take {need}"
    elif fits:
        path, reason = "memory", ("asked for; " if requested == "memory" else "fits: ") + need
    elif requested == "memory":
        raise ConfigError(
            f"--data-path memory: the '{train_split}' split does not fit in memory ({need}); "
            "use --data-path stream (or auto), or a smaller --image-size")
    else:
        path, reason = "stream", f"does not fit: {need}"

    left = None if budget is None else budget - (host_train if path == "memory" else 0)
    val_cache = has_val and (left is None or val_bytes <= left)  # each process caches its shard
    if has_val:
        reason += f"; val {n_val} images at full size: {gb(val_bytes)}"
    return MemoryPlan(requested, path, storage if path == "memory" else "stream", val_cache, n_train,
                      train_bytes, n_val, val_bytes, processes, host_available, device_free, reason)
