"""Data-parallel training under torchrun: everything the Trainer needs to know about ranks.

`roadseg train` started by `torchrun --nproc_per_node N` finds torchrun's environment
(WORLD_SIZE > 1, RANK, LOCAL_RANK), joins a process group (NCCL on GPUs, gloo on CPU) and trains
one DistributedDataParallel replica per process. Without those variables `init` returns a
single-process context whose helpers are identities, so a plain run takes the same code path
and computes exactly what it computed before.

Semantics chosen so that N processes train the *same* model a single process would:
- `batch_size` stays the global batch; each rank takes `batch_size / N` images of it.
- The epoch order is the single-process order: `ShardSampler` draws the same permutation from
  the Trainer's per-epoch generator, and rank r takes every N-th image, so global batch k holds
  the same images as batch k of a single-process run (DDP then averages the per-rank mean
  losses' gradients). Resume skips the same steps on every rank.
- Validation: each rank scores every N-th image; confusion matrices and loss sums are
  all-reduced, so mIoU is exactly the single-process number for the same weights.
- On CUDA, BatchNorm becomes SyncBatchNorm (statistics over the global batch, as in a
  single-process run). SyncBatchNorm has no CPU kernel, so under gloo BatchNorm statistics are
  per rank; use norm "group" or "none" where CPU runs must match a single process exactly.
"""
from __future__ import annotations

import dataclasses
import gc
import math
import os

import numpy as np
import torch
import torch.distributed as dist
from torch.utils.data import Dataset, DistributedSampler

from core.device import resolve_device
from core.errors import ConfigError
from core.metrics import ConfusionMatrix, compute_scores


def launched_by_torchrun() -> bool:
    """True inside a worker that torchrun started with more than one process in all."""
    return int(os.environ.get("WORLD_SIZE", "1")) > 1 and "LOCAL_RANK" in os.environ


def per_rank_batch(batch_size: int, world_size: int) -> int:
    """The share of the global batch one rank computes; it must divide evenly."""
    if batch_size % world_size:
        raise ConfigError(f"batch_size {batch_size} is the global batch and must divide evenly over "
                          f"{world_size} processes (use a multiple of {world_size})")
    return batch_size // world_size


class ShardSampler(DistributedSampler):
    """This rank's part of the single-process epoch order (see the module docstring).

    The permutation comes from `generator`, which the Trainer seeds at every epoch start; the
    draw happens lazily, at the same point of the DataLoader's use of that generator as
    RandomSampler's, so both see the same permutation. `set_epoch` is kept for the
    DistributedSampler protocol; the order depends only on the generator's seed.
    """

    def __init__(self, dataset: Dataset, generator: torch.Generator, num_replicas: int, rank: int,
                 batch_size: int):
        super().__init__(dataset, num_replicas=num_replicas, rank=rank, shuffle=True, drop_last=True)
        self.generator = generator
        self.total_size = len(dataset) // batch_size * batch_size  # drop_last, as one process does
        self.num_samples = self.total_size // num_replicas

    def __iter__(self):
        order = torch.randperm(len(self.dataset), generator=self.generator).tolist()
        yield from order[self.rank:self.total_size:self.num_replicas]


def set_epoch(loader, epoch: int) -> None:
    """Tell a loader which epoch it draws (its shuffle and augmentation streams follow it)."""
    if hasattr(loader, "set_epoch"):  # core.data.batch_loader.BatchLoader
        loader.set_epoch(epoch)
    elif isinstance(getattr(loader, "sampler", None), DistributedSampler):
        loader.sampler.set_epoch(epoch)


@dataclasses.dataclass
class DistContext:
    """Rank facts plus the few collectives the Trainer uses; identities when world_size is 1."""

    device: torch.device
    rank: int = 0
    local_rank: int = 0
    world_size: int = 1
    owns_group: bool = False

    @property
    def enabled(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        """Rank 0 alone writes files and emits events."""
        return self.rank == 0

    @property
    def shard(self) -> tuple[int, int] | None:
        """(rank, world_size) for `evaluate_model`, None for a single process."""
        return (self.rank, self.world_size) if self.enabled else None

    def prepare(self, model: torch.nn.Module) -> tuple[torch.nn.Module, torch.nn.Module]:
        """(model to save and evaluate, module to train through). Checkpoints take the first,
        so their keys carry no 'module.' prefix and eval/predict load them unchanged."""
        if not self.enabled:
            return model, model
        if self.device.type == "cuda":
            model = torch.nn.SyncBatchNorm.convert_sync_batchnorm(model)
        ids = [self.device.index] if self.device.type == "cuda" else None
        net = torch.nn.parallel.DistributedDataParallel(model, device_ids=ids)
        return model, net

    def seed(self, seed: int) -> None:
        """Distinct augmentation/dropout streams per rank (weights are broadcast from rank 0)."""
        if self.enabled:
            torch.manual_seed(seed + self.rank)

    def any(self, flag: bool) -> bool:
        """True on every rank when it is true on any (Stop, cancelled validation)."""
        if not self.enabled:
            return flag
        t = torch.tensor([1 if flag else 0], dtype=torch.int32, device=self.device)
        dist.all_reduce(t, op=dist.ReduceOp.MAX)
        return bool(t.item())

    def mean(self, value: torch.Tensor) -> torch.Tensor:
        """Mean of a scalar over ranks (the step loss everyone reports and checks)."""
        if not self.enabled:
            return value
        t = value.detach().float().reshape(1).clone()
        dist.all_reduce(t)
        return t[0] / self.world_size

    def require_same(self, values: tuple[int, ...], message: str) -> None:
        """Raise ConfigError on every rank unless all ranks hold the same `values`."""
        if not self.enabled:
            return
        lo = torch.tensor(values, dtype=torch.int64, device=self.device)
        hi = lo.clone()
        dist.all_reduce(lo, op=dist.ReduceOp.MIN)
        dist.all_reduce(hi, op=dist.ReduceOp.MAX)
        if not torch.equal(lo, hi):
            raise ConfigError(message)

    def barrier(self) -> None:
        if self.enabled:
            dist.barrier()

    def reduce_eval(self, res):
        """An EvalResult of this rank's shard -> the whole split's (summed counts and loss)."""
        if not self.enabled:
            return res
        matrix = all_reduce_confusion(res.matrix, self.device)
        loss_sum = res.loss * res.loss_pixels if res.loss_pixels else 0.0
        t = torch.tensor([loss_sum, float(res.loss_pixels)], dtype=torch.float64, device=self.device)
        dist.all_reduce(t)
        loss_sum, pixels = float(t[0]), int(round(float(t[1])))
        return dataclasses.replace(res, matrix=matrix, scores=compute_scores(matrix), names=[],
                                   loss=loss_sum / pixels if pixels else math.nan, loss_pixels=pixels)

    def close(self) -> None:
        """Destroy the group this context made. The DDP wrapper from `prepare` sits in a
        reference cycle (its reducer and hooks), so it and the gloo group it holds outlive the
        run until a garbage collection; left to the interpreter's exit, the group's threads are
        torn down during finalization and the process can abort ("terminate called without an
        active exception", seen once in CI). Collecting first frees it while Python is alive."""
        if self.owns_group and dist.is_initialized():
            gc.collect()
            dist.destroy_process_group()
            self.owns_group = False


def all_reduce_confusion(counts: ConfusionMatrix | np.ndarray, device: torch.device | str = "cpu") -> np.ndarray:
    """Sum a confusion matrix (or its int64 [C, C] counts) over all ranks; int64, so exact."""
    m = counts.matrix if isinstance(counts, ConfusionMatrix) else np.asarray(counts, dtype=np.int64)
    t = torch.from_numpy(np.ascontiguousarray(m, dtype=np.int64)).to(device)
    if dist.is_initialized() and dist.get_world_size() > 1:
        dist.all_reduce(t)
    return t.cpu().numpy()


def init(device_name: str = "auto") -> DistContext:
    """Join torchrun's process group when launched by it; else a single-process context."""
    if not launched_by_torchrun():
        return DistContext(resolve_device(device_name))
    rank, world = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
    local_rank = int(os.environ["LOCAL_RANK"])
    device = resolve_device(device_name)
    if device.type == "cuda":
        if local_rank >= torch.cuda.device_count():
            raise ConfigError(f"process {local_rank} on this machine has no GPU of its own: "
                              f"{torch.cuda.device_count()} visible, so use --nproc_per_node "
                              f"{torch.cuda.device_count()} or fewer")
        device = torch.device("cuda", local_rank)  # one GPU per process, whatever cuda:N said
        torch.cuda.set_device(device)
    elif device.type != "cpu":
        raise ConfigError(f"multi-process training runs on CUDA or CPU, not {device.type} "
                          "(use --device cpu)")
    if dist.is_initialized():  # a caller's own group (e.g. a script that trains twice)
        return DistContext(device, dist.get_rank(), local_rank, dist.get_world_size(), False)
    backend = "nccl" if device.type == "cuda" else "gloo"
    dist.init_process_group(backend, device_id=device if device.type == "cuda" else None)
    return DistContext(device, rank, local_rank, world, True)
