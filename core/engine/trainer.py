"""The training loop: events out, cancellation in, atomic checkpoints, exact resume.

The Trainer knows nothing of who listens. The CLI prints its events; the GUI's worker turns them
into Qt signals. Stop is checked between steps, and inside a step while steps are long
(core.engine.step), so `last.pt` always holds a consistent state to resume from. Under torchrun
the same loop runs on every rank (core.engine.distributed supplies the hooks); rank 0 alone
writes and reports. The objects a run works with come from core.engine.run_parts, what it
carries from step to step (and saves) is a core.engine.run_state.RunState.
"""
from __future__ import annotations

import json
import math
import threading
import time
import traceback
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np
import torch

from core.config import TrainConfig
from core.engine import distributed, setup
from core.engine import budget as time_budget
from core.engine.checkpoint import CheckpointWriter, load_checkpoint
from core.engine.events import (CheckpointSaved, EpochDone, RunFailed, RunFinished, RunStarted,
                                StepDone)
from core.engine.interrupt import StepInterrupted
from core.engine.pace import Pace
from core.engine.phases import Phases
from core.engine.run_parts import RunParts, build_parts
from core.engine.run_state import RunState
from core.engine.step import LossReader, StopMode, TrainStep
from core.engine.tensorboard_log import TensorBoardLogger
from core.errors import ConfigError, DataError, RoadsegError
from core.evaluate import evaluate_model
from core.flops import efficiency
from core.runs import write_summary

Listener = Callable[[object], None]
PREVIEW_IMAGES = 3  # validation images shown per epoch in TensorBoard


class NonFiniteLoss(RoadsegError):
    """The loss became NaN or infinite: the learning rate is usually too high."""


class _Stopped(Exception):
    """Stop was asked for: the loop unwinds to the one place that saves and reports it."""


class Trainer:
    """Train one configuration into its run folder (`config.out`)."""

    def __init__(self, config: TrainConfig, listeners: Iterable[Listener] = (), resume: bool = False,
                 clock: Callable[[], float] = time.perf_counter):
        if not config.out:
            raise ConfigError("no run folder given (--out RUNDIR)")
        self.config = config
        self.run_dir = Path(config.out)
        self.listeners: list[Listener] = list(listeners)
        self.resume = resume
        self._clock = clock  # epoch wall times, which a time budget spends (a test passes a fake one)
        self._cancel = threading.Event()
        self._ddp: distributed.DistContext | None = None
        self._tb = TensorBoardLogger(self.run_dir)  # writes only on events, so only on rank 0
        self.listeners.append(self._tb)

    def add_listener(self, fn: Listener) -> None:
        self.listeners.append(fn)

    def cancel(self) -> None:
        """Ask the run to stop (thread-safe): inside the current step while steps are long and
        the run is one process (the step is thrown away, see core.engine.interrupt), else after it."""
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
        self.phases = Phases()
        self._t_start = time.perf_counter()
        setup.seed_everything(cfg.seed, cfg.deterministic)
        ddp.seed(cfg.seed)
        parts = build_parts(cfg, ddp, self.phases, resuming=self.resume and (self.run_dir / "last.pt").exists())
        state = self._start_state(parts, ddp)
        device_label = f"{parts.device} x{ddp.world_size}" if ddp.enabled else str(parts.device)
        self._emit(RunStarted(str(self.run_dir), cfg.to_dict(), state.epoch, state.epochs, parts.steps_per_epoch,
                              parts.steps_per_epoch * state.epochs, device_label, parts.precision,
                              parts.gflops, parts.params, list(parts.schema.names),
                              parts.plan.describe() if parts.plan is not None else ""))
        # decoded validation pairs kept between epochs only where the memory plan has room
        self._val_cache: dict | None = {} if parts.plan is None or parts.plan.val_cache else None
        self._pace = Pace()
        self._last_iou: dict = {}
        # one process only: a rank leaving a step early would hang the others' all-reduce
        stop = StopMode(parts.model, self._cancel.is_set, enabled=not ddp.enabled,
                        asynchronous=parts.device.type == "cuda")
        step = TrainStep(parts, ddp, stop)
        self._writer = CheckpointWriter()
        cancelled = False
        try:
            while state.epoch < cfg.epochs:
                steps = self._next_epoch(parts, state)  # the one place that decides to go on
                if not steps:
                    break
                with self.phases("training"):  # steps and the waits for their batches
                    train_loss = self._train_epoch(parts, state, step, stop, ddp, steps)
                self._end_epoch(parts, state, train_loss, ddp)
                if state.last_epoch:
                    break
        except _Stopped:
            cancelled = True
            self._save_last(parts, state, ddp)
        except DataError:  # a streamed file failed to decode: keep the steps done, then report it
            self._save_last(parts, state, ddp)
            raise
        finally:
            stop.close()
            close_data = getattr(getattr(parts.loader, "split", None), "close", None)
            if close_data is not None:  # a streamed split's decode threads
                close_data()
            with self.phases("checkpoints"):
                self._writer.close()  # every file on disk before the run ends, whatever ended it
        return self._finish(parts, state, cancelled, device_label, ddp)

    def _save_last(self, parts: RunParts, state: RunState, ddp) -> None:
        """last.pt at the current step, written before the run unwinds (--resume continues it)."""
        with self.phases("checkpoints"):
            if ddp.is_main:
                self._writer.save(self.run_dir / "last.pt", state.checkpoint(parts, self.config))
            self._writer.wait()
        self._emit(CheckpointSaved(str(self.run_dir / "last.pt"), state.epoch, False))

    def _start_state(self, parts: RunParts, ddp) -> RunState:
        """A fresh run's state, or the saved one on --resume (the run folder prepared either way)."""
        cfg, main = self.config, ddp.is_main
        last_path = self.run_dir / "last.pt"
        if main:
            self.run_dir.mkdir(parents=True, exist_ok=True)
        state = RunState(epochs=cfg.epochs)
        if self.resume and last_path.exists():
            with self.phases("resume"):
                st = load_checkpoint(last_path, map_location=parts.device)
                # the budget's estimate, not a longer --epochs given on resume
                epochs = min(int(st.get("epochs", cfg.epochs)), cfg.epochs) if cfg.time_budget else cfg.epochs
                state = RunState.from_checkpoint(st, epochs)
                parts.model.load_state_dict(st["model"])
                parts.optimizer.load_state_dict(st["optimizer"])
                parts.scheduler.load_state_dict(st["scheduler"])
                if st.get("scaler"):
                    parts.scaler.load_state_dict(st["scaler"])
                if parts.ema is not None:  # a run that had no average yet starts it from the resumed weights
                    parts.ema.module.load_state_dict(st.get("ema", st["model"]))
                if main:
                    _truncate_metrics(self.run_dir / "metrics.jsonl", state.epoch)
        elif main:
            (self.run_dir / "metrics.jsonl").write_text("")
        ddp.require_same((state.epoch, state.epoch_step), f"{last_path}: not the same on every node; --resume "
                                                          "needs the run folder on storage that all nodes share")
        if main:
            cfg.to_yaml(self.run_dir / "config.yaml")
        return state

    def _next_epoch(self, parts: RunParts, state: RunState) -> int:
        """Steps of the epoch to run next (0: the run ends here). Without a time budget every epoch
        up to --epochs is whole; with one, core.engine.budget plans it from the latest pace."""
        cfg = self.config
        if not cfg.time_budget:
            return parts.steps_per_epoch
        if state.epoch_step and state.epoch_steps:  # resumed inside an epoch: its plan stands
            return state.epoch_steps
        pace = time_budget.Pace(state.step_s, state.overhead_s) if state.epoch_seconds else None
        plan = time_budget.next_epoch(cfg.time_budget * 60, sum(state.epoch_seconds), pace,
                                      parts.steps_per_epoch, state.epoch, cfg.epochs, parts.scheduler.progress())
        if plan.note:
            state.budget_note = plan.note
        state.epoch_steps, state.last_epoch = plan.steps, plan.last
        if plan.steps:
            parts.scheduler.begin_epoch(plan.progress_start, plan.progress_end, plan.steps)
        return plan.steps

    def _train_epoch(self, parts: RunParts, state: RunState, step: TrainStep, stop: StopMode, ddp,
                     steps: int) -> float:
        """Steps `state.epoch_step`..`steps` of epoch `state.epoch`; the mean step loss."""
        cfg = self.config
        parts.net.train()
        parts.generator.manual_seed(cfg.seed * 100_003 + state.epoch)  # same order on resume
        distributed.set_epoch(parts.loader, state.epoch)
        self._epoch_t0 = self._clock()
        self._epoch_steps = steps
        self._pace.start()
        reader, losses = LossReader(), []
        try:  # resume: from where it stopped
            for i, (x, y) in _batches_from(parts.loader, state.epoch_step, steps):
                if ddp.any(self._cancel.is_set()):  # every rank stops at the same step
                    self._report_steps(parts, state, reader, losses)
                    raise _Stopped
                t0 = time.perf_counter()
                x, y = _to_device(x, y, parts)
                global_step = state.epoch * parts.steps_per_epoch + i + 1
                try:
                    loss = step(x, y, global_step)
                except StepInterrupted:  # Stop mid-step: the step is forgotten, saved as if before it
                    self._report_steps(parts, state, reader, losses)
                    raise _Stopped from None
                reader.add(loss, (i, global_step, parts.optimizer.param_groups[0]["lr"], x.shape[0] * ddp.world_size))
                if len(reader) >= stop.read_every:
                    self._report_steps(parts, state, reader, losses)
                dt = time.perf_counter() - t0
                stop.observe(dt)
                self.phases.add("first step" if "first step" not in self.phases.seconds else "steps", dt)
                state.train_seconds += dt
        except DataError:  # a file of a streamed split failed: the steps before it count
            self._report_steps(parts, state, reader, losses)
            raise
        self._report_steps(parts, state, reader, losses)
        self._train_end = self._clock()
        return sum(losses) / max(len(losses), 1)

    def _report_steps(self, parts: RunParts, state: RunState, reader: LossReader, losses: list) -> None:
        """Read the pending step losses (one transfer), check them, and report each step."""
        cfg = self.config
        read = reader.read()
        rate = self._pace.steps_done(len(read), read[0][1][3]) if read else 0.0
        for value, (i, global_step, lr, images) in read:
            if not math.isfinite(value):
                raise NonFiniteLoss(
                    f"the loss became {value} at epoch {state.epoch + 1}, step {i + 1}; lower the "
                    f"learning rate (now {cfg.lr:g}). The best checkpoint is kept."
                )
            state.epoch_step = i + 1
            state.images_seen += images
            losses.append(value)
            if cfg.time_budget:  # what is left of the budget
                eta = max(cfg.time_budget * 60 - sum(state.epoch_seconds) - (self._clock() - self._epoch_t0), 0.0)
            else:
                eta = self._pace.eta_s(parts.steps_per_epoch * state.epochs - global_step, state.epochs - state.epoch)
            self._emit(StepDone(state.epoch + 1, global_step, i + 1, self._epoch_steps, value, lr, rate, eta))

    def _end_epoch(self, parts: RunParts, state: RunState, train_loss: float, ddp) -> None:
        """Validate, keep the best weights, re-plan a time budget, write metrics and last.pt."""
        cfg = self.config
        with self.phases("validation"):
            val_t0 = time.perf_counter()
            res = evaluate_model(parts.predictor, parts.source, cfg.val_split, batch_size=cfg.batch_size,
                                 loss_fn=parts.loss_fn, per_image=False, cache=self._val_cache,
                                 cancel=self._cancel.is_set, shard=ddp.shard, keep=PREVIEW_IMAGES)
            self._pace.validation_done(time.perf_counter() - val_t0)
            if ddp.any(res.cancelled):  # training of this epoch is done; resume re-runs only its validation
                raise _Stopped
            res = ddp.reduce_eval(res)  # this rank's shard -> the whole split
        previews = res.kept  # the first images this rank scored (one process: the split's first)
        miou = float(res.scores.miou)
        state.epoch, state.epoch_step = state.epoch + 1, 0
        is_best = miou > state.best_miou
        if is_best:
            state.best_miou, state.best_epoch = miou, state.epoch
            self._last_iou = res.scores.to_dict(list(parts.schema.names))
        seconds = self._clock() - self._epoch_t0
        lr = parts.optimizer.param_groups[0]["lr"]
        if cfg.time_budget:
            self._time_epoch(parts, state, seconds, ddp)
        iou = [None if math.isnan(v) else float(v) for v in res.scores.iou]
        record = {"epoch": state.epoch, "train_loss": train_loss, "val_loss": res.loss, "miou": miou,
                  "pixel_acc": float(res.scores.pixel_acc), "iou": iou, "lr": lr, "seconds": seconds,
                  "epochs": state.epochs}
        final = state.epoch >= cfg.epochs or state.last_epoch  # no step follows: write in place
        with self.phases("checkpoints"):
            if is_best:  # best.pt first: last.pt records this epoch as the best, so it must exist
                if ddp.is_main:
                    self._writer.save(self.run_dir / "best.pt", state.best_checkpoint(parts, cfg, miou),
                                      copy=not final)
                self._emit(CheckpointSaved(str(self.run_dir / "best.pt"), state.epoch, True))
            if ddp.is_main:
                with open(self.run_dir / "metrics.jsonl", "a") as f:
                    f.write(json.dumps(record) + "\n")
                self._writer.save(self.run_dir / "last.pt", state.checkpoint(parts, cfg), copy=not final)
            self._emit(CheckpointSaved(str(self.run_dir / "last.pt"), state.epoch, False))
        if ddp.is_main and previews and len({p[0].shape for p in previews}) == 1:  # strips need one size
            with self.phases("previews"):
                self._tb.log_previews(state.epoch, *(np.stack(a) for a in zip(*previews)),
                                      np.asarray(parts.schema.colors, np.uint8), parts.schema.void_value)
        self._emit(EpochDone(state.epoch, train_loss, res.loss, miou, record["pixel_acc"], iou, is_best,
                             seconds, lr, state.epochs))

    def _time_epoch(self, parts: RunParts, state: RunState, seconds: float, ddp) -> None:
        """Record the epoch's time and pace against the budget, and the run's estimated length."""
        cfg = self.config
        # every rank plans on the same (mean) times, so all stop after the same epoch
        train_s, seconds = (float(v) for v in ddp.mean(torch.tensor(
            [self._train_end - self._epoch_t0, seconds], dtype=torch.float64, device=parts.device)))
        state.epoch_seconds.append(seconds)
        state.step_s = train_s / max(self._epoch_steps, 1)
        state.overhead_s = max(seconds - train_s, 0.0)
        state.epochs = state.epoch if state.last_epoch else time_budget.epochs_estimate(
            cfg.time_budget * 60, sum(state.epoch_seconds), time_budget.Pace(state.step_s, state.overhead_s),
            parts.steps_per_epoch, state.epoch, cfg.epochs)

    def _finish(self, parts: RunParts, state: RunState, cancelled: bool, device_label: str, ddp) -> dict:
        """Score the held-out sequence, write summary.json, report the end."""
        cfg = self.config
        holdout = None
        if cfg.holdout and state.has_best and not cancelled:
            with self.phases("holdout"):
                holdout = self._score_holdout(parts, ddp)
        self.phases.add("total", time.perf_counter() - self._t_start)
        summary = {"best_miou": state.best_miou if state.has_best else None, "best_epoch": state.best_epoch,
                   "cancelled": cancelled}  # what a non-zero rank returns
        if ddp.is_main:
            summary = write_summary(
                self.run_dir, cfg.replace(epochs=state.epochs), best_miou=summary["best_miou"],
                best_epoch=state.best_epoch, scores=self._last_iou, gflops=parts.gflops, params=parts.params,
                efficiency=efficiency(state.best_miou, parts.gflops) if state.has_best else None,
                train_seconds=state.train_seconds,
                images_per_s=state.images_seen / state.train_seconds if state.train_seconds else 0.0,
                device=device_label, precision=parts.precision, cancelled=cancelled, holdout=holdout,
                phases=self.phases.rounded(), data=parts.plan.to_dict() if parts.plan is not None else None,
                budget=time_budget.describe_use(cfg.time_budget * 60, state.epoch_seconds, state.budget_note)
                if cfg.time_budget else None,
            )
        ddp.barrier()  # no rank leaves before rank 0's files are complete
        self._emit(RunFinished(str(self.run_dir), summary, cancelled))
        return summary

    def _score_holdout(self, parts: RunParts, ddp) -> dict:
        """The best checkpoint's scores on the held-out sequence (a street never trained on)."""
        ddp.barrier()  # rank 0 has written best.pt
        parts.scored.load_state_dict(load_checkpoint(self.run_dir / "best.pt", map_location="cpu")["model"])
        res = evaluate_model(parts.predictor, parts.source, "holdout", batch_size=self.config.batch_size,
                             per_image=False, cancel=self._cancel.is_set, shard=ddp.shard)
        res = ddp.reduce_eval(res)
        return {"prefixes": self.config.holdout, "images": len(parts.source.samples("holdout")),
                **res.scores.to_dict(list(parts.schema.names))}


def _batches_from(loader, start: int, stop: int):
    """(index, batch) of the epoch's batches `start`..`stop` - 1. The batched loaders skip the
    batches before `start` unread (core.data.batch_loader.iter_from); a DataLoader draws them again."""
    batches = enumerate(loader.iter_from(start), start) if start and hasattr(loader, "iter_from") else enumerate(loader)
    for i, batch in batches:
        if i >= stop:
            return
        if i >= start:
            yield i, batch


def _to_device(x: torch.Tensor, y: torch.Tensor, parts: RunParts) -> tuple[torch.Tensor, torch.Tensor]:
    x = x.to(parts.device, non_blocking=True)
    y = y.to(parts.device, non_blocking=True)
    if parts.channels_last:
        x = x.contiguous(memory_format=torch.channels_last)
    return x, y


def _truncate_metrics(path: Path, epochs_done: int) -> None:
    """On resume, drop metric lines of epochs the checkpoint does not include."""
    if not path.exists():
        return
    lines = [ln for ln in path.read_text().splitlines() if ln.strip()]
    path.write_text("".join(ln + "\n" for ln in lines[:epochs_done]))
