"""Turn a TrainConfig into the objects a training run needs (data, model, loss, optimiser).

Kept apart from the loop so the CLI, the GUI's FLOP preview and the evaluator build models the
same way the Trainer does.
"""
from __future__ import annotations

import os
import random

import numpy as np
import torch
from torch.utils.data import DataLoader

from core.config import TrainConfig
from core.data.source import DataSource, open_dataset
from core.data.batch_augment import BatchAugment
from core.data.batch_loader import BatchLoader
from core.data.decoded import DecodedSplit, decode_split
from core.data.memory_plan import MemoryPlan, plan_data
from core.data.streamed import StreamedSplit, check_headers, decode_settings
from core.data.stats import ClassStats, compute_stats, stats_from_counts
from core.errors import ConfigError
from core.losses import create_loss
from core.models.configured import build_from_config


def seed_everything(seed: int, deterministic: bool = False) -> None:
    """Seed Python, NumPy and torch (all devices); optionally ask for deterministic kernels."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    if deterministic:
        torch.use_deterministic_algorithms(True, warn_only=True)
        torch.backends.cudnn.benchmark = False


def build_model(cfg: TrainConfig, num_classes: int, *, load_pretrained: bool = True) -> torch.nn.Module:
    """The network a config describes. `load_pretrained=False` when weights come from a checkpoint."""
    return build_from_config(cfg, num_classes, load_pretrained=load_pretrained)


def build_ema(cfg: TrainConfig, model: torch.nn.Module):
    """A moving average of `model`'s weights and buffers (timm's ModelEmaV3), or None when off.

    The decay ramps up as 1 - (1 + step)^-3/4 to cfg.ema (timm's setting for runs of under ~10k
    steps), so a short run averages over its recent steps rather than its random start.
    """
    if not cfg.ema:
        return None
    from timm.utils import ModelEmaV3
    return ModelEmaV3(model, decay=float(cfg.ema), use_warmup=True, warmup_power=0.75)


def open_source(cfg: TrainConfig) -> DataSource:
    if not cfg.data:
        raise ConfigError("no dataset given (--data DIR)")
    source = open_dataset(cfg.data, cfg.format)
    if cfg.holdout:
        source = source.hold_out(cfg.holdout, from_split=cfg.train_split)
    return source


def train_stats(cfg: TrainConfig, source: DataSource, split: DecodedSplit | None = None) -> ClassStats | None:
    """The training split's class statistics, or None when neither class weights, rare-class
    crops nor copy-paste need them: from the counts the decode pass took (`split`), else from
    one read of every mask."""
    if cfg.class_weights == "none" and not cfg.rare_crop and not cfg.copy_paste:
        return None
    if split is not None and split.class_counts is not None:
        return stats_from_counts(split.class_counts, source.schema.names)
    return compute_stats(source, cfg.train_split)


def batched_on(device: torch.device | str | None) -> bool:
    """Whether training batches are augmented as tensors on `device` (BATCHED_DEVICES)."""
    return device is not None and torch.device(device).type in BATCHED_DEVICES


def data_plan(cfg: TrainConfig, source: DataSource, device: torch.device | str | None = None) -> MemoryPlan:
    """Where this run's data lives (core.data.memory_plan), before anything is decoded; a
    forced in-memory run that cannot fit raises its one-line ConfigError here."""
    count = len(source.samples(cfg.train_split))
    if count < cfg.batch_size:
        raise ConfigError(
            f"the '{cfg.train_split}' split has {count} images, fewer than the batch size {cfg.batch_size}"
        )
    return plan_data(cfg.data_path, source, cfg.train_split, cfg.val_split, cfg.image_size, device,
                     host_copies=1 if batched_on(device) else 2)


def decode_train_split(cfg: TrainConfig, source: DataSource, device: torch.device | str | None = None,
                       plan: MemoryPlan | None = None, shared: bool = False) -> DecodedSplit | StreamedSplit:
    """The training split at the run's image size, as `plan` says: decoded once (on `device`
    where batches are augmented there, else in host memory; every bad file named before the
    first step), or streamed from the files after a header pass over all of them. `shared`
    (torchrun with several processes on a machine): one copy per machine, each process
    decoding its share (core.data.shared_split)."""
    plan = plan if plan is not None else data_plan(cfg, source, device)
    if plan.path == "stream":
        check_headers(source, cfg.train_split)
        return StreamedSplit(source, cfg.train_split, cfg.image_size, **decode_settings(device))
    if shared and batched_on(device):
        from core.data.shared_split import decode_split_shared

        where = torch.device(device) if plan.storage == "device" else torch.device("cpu")  # else host memory
        return decode_split_shared(source, cfg.train_split, cfg.image_size, where)
    return decode_split(source, cfg.train_split, cfg.image_size, device=device if batched_on(device) else None,
                        storage=plan.storage if batched_on(device) else None)


def _stats_or_read(stats: ClassStats | None, cfg: TrainConfig, source: DataSource) -> ClassStats:
    return stats if stats is not None else compute_stats(source, cfg.train_split)


def class_weight_tensor(cfg: TrainConfig, source: DataSource,
                        stats: ClassStats | None = None) -> torch.Tensor | None:
    """Class weights from the training split's statistics (`stats`, read when not given), or
    None when not asked for."""
    method = cfg.class_weights
    if method == "none":
        return None
    stats = _stats_or_read(stats, cfg, source)
    return torch.as_tensor(stats.weights(method), dtype=torch.float32)


def build_loss(cfg: TrainConfig, source: DataSource, weights: torch.Tensor | None) -> torch.nn.Module:
    name = cfg.loss
    if weights is not None and name == "ce":
        name = "wce"  # asking for class weights with plain CE means weighted CE
    return create_loss(name, source.schema.num_classes, class_weights=weights)


def _worker_init(worker_id: int) -> None:
    seed = torch.initial_seed() % 2**32
    np.random.seed(seed)
    random.seed(seed)


# where training batches are augmented as tensors on the device (see build_train_loader); MPS,
# never measured here, keeps the per-sample path
BATCHED_DEVICES = ("cuda", "cpu")


def build_train_loader(cfg: TrainConfig, source: DataSource, generator: torch.Generator,
                       rank: int = 0, world_size: int = 1, stats: ClassStats | None = None,
                       device: torch.device | None = None, split: DecodedSplit | None = None):
    """Shuffled, augmented batches of the training split, decoded once up front (or streamed
    from its files when the memory plan says so: core.data.streamed).

    The decode pass reads every file before the first step, so a corrupt or mismatched file is
    named at the start (all of them, core.data.decoded) instead of when first drawn. On a
    device in BATCHED_DEVICES the split then lives on the device as uint8 tensors and whole
    batches are augmented there (core.data.batch_loader): no worker processes, no per-sample
    host work between GPU steps, and on a 2-core CPU 1.6x the per-sample rate for camvid-fast's
    augmentation (benchmarks/RESULTS.md, "Training on a GPU"). Elsewhere the decoded pairs fill
    the per-sample dataset's cache and albumentations augments each sample, in `cfg.workers`
    worker processes started with `spawn` (safe beside Qt threads). With `world_size` > 1
    (torchrun) this rank's loader yields its share of each global batch of `cfg.batch_size`, in
    the single-process order. Rare-class crops and copy-paste aim at the rare classes of
    `stats` (the training split's; read when not given). `split`: the decode pass's result when
    the caller already has it (decode_train_split)."""
    rare_crop = copy_paste = None
    if cfg.rare_crop > 0:
        rare_crop = (_stats_or_read(stats, cfg, source).rare_classes(), float(cfg.rare_crop))
    if cfg.copy_paste > 0:
        copy_paste = (_stats_or_read(stats, cfg, source).rare_classes(), float(cfg.copy_paste))
    if split is None:
        split = decode_train_split(cfg, source, device)
    if batched_on(device):
        augment = BatchAugment(cfg.augment, cfg.image_size, cfg.crop_size, rare_crop, copy_paste)
        return BatchLoader(split, cfg.batch_size, augment, seed=cfg.seed, rank=rank, world_size=world_size,
                           device=device)
    from core.data.torch_dataset import SegmentationDataset  # albumentations: imported only on this path

    streamed = isinstance(split, StreamedSplit)
    ds = SegmentationDataset(source, cfg.train_split, image_size=cfg.image_size, augment=cfg.augment,
                             train=True, cache=not streamed, crop_size=cfg.crop_size, rare_crop=rare_crop,
                             copy_paste=copy_paste)
    if not streamed:
        ds.fill_cache(split)
    kwargs = {}
    if cfg.workers > 0:
        kwargs = dict(num_workers=cfg.workers, multiprocessing_context="spawn",
                      persistent_workers=True, worker_init_fn=_worker_init)
    batch_size, sampler = cfg.batch_size, None
    if world_size > 1:
        from core.engine.distributed import ShardSampler, per_rank_batch

        batch_size = per_rank_batch(cfg.batch_size, world_size)
        sampler = ShardSampler(ds, generator, world_size, rank, cfg.batch_size)
    return DataLoader(ds, batch_size=batch_size, shuffle=sampler is None, sampler=sampler, drop_last=True,
                      generator=generator, pin_memory=torch.cuda.is_available(), **kwargs)


def default_threads() -> int:
    """Intra-op threads: all cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1
