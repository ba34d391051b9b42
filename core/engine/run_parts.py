"""The objects one training run works with, built from its config in one place.

Kept apart from the loop (core.engine.trainer) so the loop reads as the order of events, and
timed phase by phase (core.engine.phases) so a slow start shows where it goes.
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import torch

from core.config import TrainConfig
from core.device import autocast_dtype, resolve_precision, use_channels_last
from core.engine import setup
from core.engine.phases import Phases
from core.evaluate import Predictor
from core.flops import count_gflops, count_params
from core.losses import AuxLoss
from core.engine.budget_schedule import BudgetSchedule
from core.optim import create_optimizer, create_scheduler


@dataclass
class RunParts:
    source: object
    schema: object
    loader: object
    generator: torch.Generator
    model: torch.nn.Module  # the weights (saved, evaluated)
    net: torch.nn.Module  # what trains: the model, or its DDP wrapper under torchrun
    ema: object | None
    scored: torch.nn.Module  # the weights validated and saved as best (the average when on)
    loss_fn: torch.nn.Module
    optimizer: torch.optim.Optimizer
    scheduler: object
    scaler: torch.amp.GradScaler
    predictor: Predictor
    device: torch.device
    precision: str
    amp_dtype: torch.dtype | None
    channels_last: bool
    gflops: float
    params: int
    steps_per_epoch: int
    warmup_steps: int
    plan: object = None  # core.data.memory_plan.MemoryPlan: where the data lives


def build_parts(cfg: TrainConfig, ddp, phases: Phases, resuming: bool = False) -> RunParts:
    """Everything a run needs; `resuming` (a checkpoint will overwrite the weights) skips fetching
    pretrained encoder weights, so a resume works offline whatever the first run downloaded."""
    device = ddp.device
    precision = resolve_precision(cfg.precision, device)
    amp_dtype = autocast_dtype(precision)
    channels_last = use_channels_last(cfg.channels_last, device, precision)
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = not cfg.deterministic

    with phases("data"):
        source = setup.open_source(cfg)
        plan = setup.data_plan(cfg, source, device)  # before anything is decoded
    with phases("model"):
        model = setup.build_model(cfg, source.schema.num_classes, load_pretrained=not resuming)
    # FLOPs are counted on a meta copy in a thread while the data is read (the first count in a
    # process imports torch._dynamo, ~3 s), so the count costs a run only what is left after
    with ThreadPoolExecutor(max_workers=1) as pool:
        cost = pool.submit(lambda: (count_gflops(model, cfg.image_size), count_params(model)))
        with phases("decode"):
            split = setup.decode_train_split(cfg, source, device, plan, shared=ddp.enabled and plan.processes > 1)
        with phases("statistics"):  # from the decode pass's counts: no second read of the masks
            stats = setup.train_stats(cfg, source, split)
            weights = setup.class_weight_tensor(cfg, source, stats)
        generator = torch.Generator()
        loader = setup.build_train_loader(cfg, source, generator, ddp.rank, ddp.world_size, stats=stats,
                                          device=device, split=split)
        with phases("flops"):
            gflops, params = cost.result()
    with phases("model"):
        model = model.to(device)
        if channels_last:
            model = model.to(memory_format=torch.channels_last)
        model, net = ddp.prepare(model)
        ema = setup.build_ema(cfg, model)
        scored = ema.module if ema is not None else model
        # e.g. DDRNet: (main, [aux]) while training (plus boundary logits with its detail head)
        loss_fn = AuxLoss.wrap(setup.build_loss(cfg, source, weights), model).to(device)
        optimizer = create_optimizer(cfg.optimizer, model.parameters(), cfg.lr, cfg.weight_decay,
                                     cfg.momentum, cfg.nesterov)
    steps_per_epoch = len(loader)
    warmup_steps = int(round(cfg.warmup_epochs * steps_per_epoch))
    if cfg.time_budget:  # the lr follows the share of the budget used, not a step count
        scheduler = BudgetSchedule(cfg.schedule, optimizer, warmup_steps)
    else:
        scheduler = create_scheduler(cfg.schedule, optimizer, steps_per_epoch * cfg.epochs, warmup_steps)
    scaler = torch.amp.GradScaler(device.type, enabled=precision == "fp16")
    predictor = Predictor(scored, source.schema, cfg.image_size, device, precision, cfg, channels_last)
    return RunParts(source, source.schema, loader, generator, model, net, ema, scored, loss_fn, optimizer,
                    scheduler, scaler, predictor, device, precision, amp_dtype, channels_last, gflops,
                    params, steps_per_epoch, warmup_steps, plan)
