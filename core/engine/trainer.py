"""The training loop: events out, cancellation in, atomic checkpoints, exact resume.

The Trainer knows nothing of who listens. The CLI prints its events; the GUI's worker turns them
into Qt signals. Cancellation is a flag checked between two steps, so Stop takes effect within one
step and `last.pt` always holds a consistent state to resume from. Under torchrun the same loop
runs on every rank (core.engine.distributed supplies the hooks); rank 0 alone writes and reports.
"""
from __future__ import annotations

import json
import math
import threading
import time
import traceback
from collections.abc import Callable, Iterable
from contextlib import nullcontext
from pathlib import Path

import torch

from core.config import TrainConfig
from core.device import autocast_dtype, resolve_precision, use_channels_last
from core.engine import distributed, setup
from core.engine.budget import replan
from core.engine.checkpoint import load_checkpoint, save_checkpoint
from core.engine.interrupt import StepInterrupted, StepInterrupter, restore_buffers, snapshot_buffers
from core.engine.events import (CheckpointSaved, EpochDone, RunFailed, RunFinished, RunStarted,
                                StepDone)
from core.engine.pace import Pace
from core.errors import ConfigError, RoadsegError
from core.evaluate import Predictor, evaluate_model
from core.flops import count_gflops, count_params, efficiency
from core.losses import AuxLoss
from core.optim import create_optimizer, create_scheduler, rebuild_scheduler
from core.runs import write_summary

Listener = Callable[[object], None]


class NonFiniteLoss(RoadsegError):
    """The loss became NaN or infinite: the learning rate is usually too high."""


class Trainer:
    """Train one configuration into its run folder (`config.out`)."""

    def __init__(self, config: TrainConfig, listeners: Iterable[Listener] = (), resume: bool = False):
        if not config.out:
            raise ConfigError("no run folder given (--out RUNDIR)")
        self.config = config
        self.run_dir = Path(config.out)
        self.listeners: list[Listener] = list(listeners)
        self.resume = resume
        self._cancel = threading.Event()
        self._ddp: distributed.DistContext | None = None

    def add_listener(self, fn: Listener) -> None:
        self.listeners.append(fn)

    def cancel(self) -> None:
        """Ask the run to stop (thread-safe): inside the current step when training in one process
        (the step is thrown away, see core.engine.interrupt), after it under torchrun."""
        self._cancel.set()

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def _emit(self, event) -> None:
        if self._ddp is not None and not self._ddp.is_main:
            return  # under torchrun only rank 0 reports
        for fn in self.listeners:
            fn(event)

    # ------------------------------------------------------------------------------------
    def run(self) -> dict:
        """Train to the end (or until cancelled) and return the summary; errors become RunFailed."""
        try:
            self._ddp = distributed.init(self.config.device)
            return self._run(self._ddp)
        except Exception as e:  # reported to listeners, then re-raised for the caller
            msg = str(e) if isinstance(e, RoadsegError) else f"{type(e).__name__}: {e}"
            if isinstance(e, torch.OutOfMemoryError) or "out of memory" in str(e).lower():
                msg = f"out of memory: {e}. Try a smaller batch size or image size."
            self._emit(RunFailed(str(self.run_dir), msg, traceback.format_exc()))
            raise
        finally:
            if self._ddp is not None:
                self._ddp.close()

    def _run(self, ddp: distributed.DistContext) -> dict:
        cfg = self.config
        setup.seed_everything(cfg.seed, cfg.deterministic)
        ddp.seed(cfg.seed)
        device = ddp.device
        main = ddp.is_main  # under torchrun, rank 0 alone writes the run folder
        device_label = f"{device} x{ddp.world_size}" if ddp.enabled else str(device)
        precision = resolve_precision(cfg.precision, device)
        amp_dtype = autocast_dtype(precision)
        channels_last = use_channels_last(cfg.channels_last, device, precision)
        if device.type == "cuda":
            torch.backends.cudnn.benchmark = not cfg.deterministic

        source = setup.open_source(cfg)
        schema = source.schema
        stats = setup.train_stats(cfg, source)  # weights and rare-class crops share one pass
        weights = setup.class_weight_tensor(cfg, source, stats)
        generator = torch.Generator()
        loader = setup.build_train_loader(cfg, source, generator, ddp.rank, ddp.world_size, stats=stats)
        model = setup.build_model(cfg, schema.num_classes)
        gflops = count_gflops(model, cfg.image_size)
        params = count_params(model)
        model = model.to(device)
        if channels_last:
            model = model.to(memory_format=torch.channels_last)
        model, net = ddp.prepare(model)  # net: the DDP wrapper that trains; model: its weights
        ema = setup.build_ema(cfg, model)
        scored = ema.module if ema is not None else model  # the weights validated and saved as best
        # e.g. DDRNet: (main, [aux]) while training (plus boundary logits with its detail head)
        loss_fn = AuxLoss.wrap(setup.build_loss(cfg, source, weights), model).to(device)
        optimizer = create_optimizer(cfg.optimizer, model.parameters(), cfg.lr, cfg.weight_decay,
                                     cfg.momentum, cfg.nesterov)
        steps_per_epoch = len(loader)
        epochs = cfg.epochs  # the plan: a time budget lowers it after the first epochs
        epoch_seconds: list[float] = []  # wall time of each epoch done, what the budget plans on
        total_steps = steps_per_epoch * epochs
        warmup_steps = int(round(cfg.warmup_epochs * steps_per_epoch))
        scheduler = create_scheduler(cfg.schedule, optimizer, total_steps, warmup_steps)
        scaler = torch.amp.GradScaler(device.type, enabled=precision == "fp16")

        if main:
            self.run_dir.mkdir(parents=True, exist_ok=True)
        start_epoch, start_step, best_miou, best_epoch, train_seconds, images_seen = 0, 0, -1.0, -1, 0.0, 0
        last_path, best_path = self.run_dir / "last.pt", self.run_dir / "best.pt"
        if self.resume and last_path.exists():
            st = load_checkpoint(last_path, map_location=device)
            if cfg.time_budget:  # the budget's plan, not a longer --epochs given on resume
                epochs = min(int(st.get("epochs", cfg.epochs)), cfg.epochs)
                epoch_seconds = [float(t) for t in st.get("epoch_seconds", [])]
                total_steps = steps_per_epoch * epochs  # before the optimizer's state comes back
                scheduler = create_scheduler(cfg.schedule, optimizer, total_steps, warmup_steps)
            model.load_state_dict(st["model"])
            optimizer.load_state_dict(st["optimizer"])
            scheduler.load_state_dict(st["scheduler"])
            if st.get("scaler"):
                scaler.load_state_dict(st["scaler"])
            if ema is not None:  # a run that had no average yet starts it from the resumed weights
                ema.module.load_state_dict(st.get("ema", st["model"]))
            start_epoch, start_step = int(st["epoch"]), int(st["epoch_step"])
            best_miou, best_epoch = float(st["best_miou"]), int(st["best_epoch"])
            train_seconds, images_seen = float(st["train_seconds"]), int(st["images_seen"])
            if main:
                _truncate_metrics(self.run_dir / "metrics.jsonl", start_epoch)
        elif main:
            (self.run_dir / "metrics.jsonl").write_text("")
        ddp.require_same((start_epoch, start_step), f"{last_path}: not the same on every node; --resume needs "
                                                    "the run folder on storage that all nodes share")
        if main:
            cfg.to_yaml(self.run_dir / "config.yaml")

        def state(epoch: int, epoch_step: int) -> dict:
            return {
                "config": cfg.to_dict(), "schema": schema.to_dict(),
                "model": model.state_dict(), "optimizer": optimizer.state_dict(),
                "scheduler": scheduler.state_dict(), "scaler": scaler.state_dict() if scaler.is_enabled() else {},
                **({"ema": ema.module.state_dict()} if ema is not None else {}),
                "epoch": epoch, "epoch_step": epoch_step, "best_miou": best_miou, "best_epoch": best_epoch,
                "train_seconds": train_seconds, "images_seen": images_seen,
                "epochs": epochs, "epoch_seconds": list(epoch_seconds),
            }

        self._emit(RunStarted(str(self.run_dir), cfg.to_dict(), start_epoch, epochs, steps_per_epoch,
                              total_steps, device_label, precision, gflops, params, list(schema.names)))
        predictor = Predictor(scored, schema, cfg.image_size, device, precision, cfg, channels_last)
        val_cache: dict = {}
        global_step = start_epoch * steps_per_epoch + start_step
        pace = Pace()
        last_iou: dict = {}
        cancelled = False
        # single process only: a rank leaving a step early would hang the others' all-reduce
        interrupter = None if ddp.enabled else StepInterrupter(model, self._cancel.is_set)
        for epoch in range(start_epoch, cfg.epochs):
            if epoch >= epochs:  # the time budget's plan ends here
                break
            net.train()
            generator.manual_seed(cfg.seed * 100_003 + epoch)  # same order on resume
            distributed.set_epoch(loader, epoch)
            epoch_t0 = time.perf_counter()
            pace.start()
            loss_sum, loss_n = 0.0, 0
            skip = start_step if epoch == start_epoch else 0
            for epoch_step, (x, y) in enumerate(loader):
                if epoch_step < skip:
                    pace.start()  # batches replayed on resume are not a step's wait
                    continue
                if ddp.any(self._cancel.is_set()):  # every rank stops at the same step
                    if main:
                        save_checkpoint(last_path, state(epoch, epoch_step))
                    self._emit(CheckpointSaved(str(last_path), epoch, False))
                    cancelled = True
                    break
                t0 = time.perf_counter()
                x = x.to(device, non_blocking=True)
                y = y.to(device, non_blocking=True)
                if channels_last:
                    x = x.contiguous(memory_format=torch.channels_last)
                buffers = snapshot_buffers(model) if interrupter else None
                try:
                    with interrupter.armed() if interrupter else nullcontext():
                        with torch.autocast(device.type, dtype=amp_dtype, enabled=amp_dtype is not None):
                            out = net(x)
                            loss = loss_fn(out, y)  # losses cast to float32 themselves
                        loss_value = ddp.mean(loss.detach())  # the same value (and verdict) on every rank
                        if not torch.isfinite(loss_value):
                            raise NonFiniteLoss(
                                f"the loss became {float(loss_value)} at epoch {epoch + 1}, step "
                                f"{epoch_step + 1}; lower the learning rate (now {cfg.lr:g}). "
                                "The best checkpoint is kept."
                            )
                        optimizer.zero_grad(set_to_none=True)
                        scaler.scale(loss).backward()
                except StepInterrupted:  # Stop mid-step: forget this step, save as if before it
                    optimizer.zero_grad(set_to_none=True)
                    restore_buffers(model, buffers)
                    save_checkpoint(last_path, state(epoch, epoch_step))
                    self._emit(CheckpointSaved(str(last_path), epoch, False))
                    cancelled = True
                    break
                scaler.step(optimizer)
                scaler.update()
                scheduler.step()
                global_step += 1
                if ema is not None:
                    ema.update(model, step=global_step)
                dt = time.perf_counter() - t0
                train_seconds += dt
                images_seen += x.shape[0] * ddp.world_size
                images_per_s = pace.step_done(x.shape[0] * ddp.world_size)
                lv = float(loss_value)
                loss_sum += lv
                loss_n += 1
                self._emit(StepDone(epoch + 1, global_step, epoch_step + 1, steps_per_epoch, lv,
                                    optimizer.param_groups[0]["lr"], images_per_s,
                                    pace.eta_s(total_steps - global_step, epochs - epoch)))
            if cancelled:
                break
            start_step = 0
            val_t0 = time.perf_counter()
            res = evaluate_model(predictor, source, cfg.val_split, batch_size=cfg.batch_size,
                                 loss_fn=loss_fn, per_image=False, cache=val_cache,
                                 cancel=self._cancel.is_set, shard=ddp.shard)
            pace.validation_done(time.perf_counter() - val_t0)
            if ddp.any(res.cancelled):  # training of this epoch is done; resume re-runs only its validation
                if main:
                    save_checkpoint(last_path, state(epoch, steps_per_epoch))
                self._emit(CheckpointSaved(str(last_path), epoch, False))
                cancelled = True
                break
            res = ddp.reduce_eval(res)  # this rank's shard -> the whole split
            miou = float(res.scores.miou)
            is_best = miou > best_miou
            if is_best:
                best_miou, best_epoch = miou, epoch + 1
                last_iou = res.scores.to_dict(list(schema.names))
            iou = [None if math.isnan(v) else float(v) for v in res.scores.iou]
            seconds = time.perf_counter() - epoch_t0
            lr = optimizer.param_groups[0]["lr"]
            if cfg.time_budget:
                # every rank plans on the same (mean) times, so all stop after the same epoch
                epoch_seconds.append(float(ddp.mean(torch.tensor(seconds, device=device))))
                planned = replan(cfg.time_budget * 60, cfg.epochs, epochs, epoch_seconds)
                if planned != epochs:
                    epochs, total_steps = planned, steps_per_epoch * planned
                    scheduler = rebuild_scheduler(cfg.schedule, optimizer, total_steps,
                                                  warmup_steps, global_step)
            record = {"epoch": epoch + 1, "train_loss": loss_sum / max(loss_n, 1), "val_loss": res.loss,
                      "miou": miou, "pixel_acc": float(res.scores.pixel_acc), "iou": iou, "lr": lr,
                      "seconds": seconds, "epochs": epochs}
            if is_best:  # best.pt first: last.pt records this epoch as the best, so it must exist
                if main:
                    save_checkpoint(best_path, {"config": cfg.to_dict(), "schema": schema.to_dict(),
                                                "model": scored.state_dict(), "epoch": epoch + 1, "miou": miou})
                self._emit(CheckpointSaved(str(best_path), epoch + 1, True))
            if main:
                with open(self.run_dir / "metrics.jsonl", "a") as f:
                    f.write(json.dumps(record) + "\n")
                save_checkpoint(last_path, state(epoch + 1, 0))
            self._emit(CheckpointSaved(str(last_path), epoch + 1, False))
            self._emit(EpochDone(epoch + 1, record["train_loss"], res.loss, miou, record["pixel_acc"], iou,
                                 is_best, seconds, lr, epochs))

        if interrupter:
            interrupter.remove()
        holdout = None
        if cfg.holdout and best_epoch > 0 and not cancelled:
            holdout = self._score_holdout(scored, predictor, source, best_path, cfg, ddp)
        summary = {"best_miou": best_miou if best_epoch > 0 else None, "best_epoch": best_epoch,
                   "cancelled": cancelled}  # what a non-zero rank returns
        if main:
            summary = write_summary(
                self.run_dir, cfg.replace(epochs=epochs), best_miou=summary["best_miou"], best_epoch=best_epoch,
                scores=last_iou, gflops=gflops, params=params,
                efficiency=efficiency(best_miou, gflops) if best_epoch > 0 else None,
                train_seconds=train_seconds, images_per_s=images_seen / train_seconds if train_seconds else 0.0,
                device=device_label, precision=precision, cancelled=cancelled, holdout=holdout,
            )
        ddp.barrier()  # no rank leaves before rank 0's files are complete
        self._emit(RunFinished(str(self.run_dir), summary, cancelled))
        return summary

    def _score_holdout(self, model, predictor, source, best_path: Path, cfg, ddp) -> dict:
        """The best checkpoint's scores on the held-out sequence (a street never trained on)."""
        ddp.barrier()  # rank 0 has written best.pt
        model.load_state_dict(load_checkpoint(best_path, map_location="cpu")["model"])
        res = evaluate_model(predictor, source, "holdout", batch_size=cfg.batch_size, per_image=False,
                             cancel=self._cancel.is_set, shard=ddp.shard)
        res = ddp.reduce_eval(res)
        return {"prefixes": cfg.holdout, "images": len(source.samples("holdout")),
                **res.scores.to_dict(list(source.schema.names))}


def _truncate_metrics(path: Path, epochs_done: int) -> None:
    """On resume, drop metric lines of epochs the checkpoint does not include."""
    if not path.exists():
        return
    lines = [ln for ln in path.read_text().splitlines() if ln.strip()]
    path.write_text("".join(ln + "\n" for ln in lines[:epochs_done]))
