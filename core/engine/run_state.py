"""Where a run stands: its position, best score, clock and plan.

With the state dicts of the model, optimizer, scheduler (and scaler, moving average) this is
`last.pt`, so one class says what a checkpoint holds and resume reads back exactly that. The
position is live: `epoch` counts finished epochs and `epoch_step` the finished steps of the
current one, so a stop at any point saves where the run is, and resume replays to there.
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class RunState:
    epochs: int  # the run's length: --epochs, or with a time budget the estimate at the latest pace
    epoch: int = 0
    epoch_step: int = 0
    best_miou: float = -1.0
    best_epoch: int = -1
    train_seconds: float = 0.0
    images_seen: int = 0
    epoch_seconds: list[float] = field(default_factory=list)  # each finished epoch's wall time
    # with a time budget (core.engine.budget): the latest pace, the current epoch's steps (it may be
    # a shortened last one), whether it is the last, and a note on a shortened or skipped epoch
    step_s: float = 0.0
    overhead_s: float = 0.0
    epoch_steps: int = 0
    last_epoch: bool = False
    budget_note: str = ""

    @property
    def has_best(self) -> bool:
        return self.best_epoch > 0

    def checkpoint(self, parts, cfg) -> dict:
        """`last.pt`'s contents: tensors and plain values only (weights_only loading)."""
        ema = {"ema": parts.ema.module.state_dict()} if parts.ema is not None else {}
        return {
            "config": cfg.to_dict(), "schema": parts.schema.to_dict(),
            "model": parts.model.state_dict(), "optimizer": parts.optimizer.state_dict(),
            "scheduler": parts.scheduler.state_dict(),
            "scaler": parts.scaler.state_dict() if parts.scaler.is_enabled() else {}, **ema,
            "epoch": self.epoch, "epoch_step": self.epoch_step,
            "best_miou": self.best_miou, "best_epoch": self.best_epoch,
            "train_seconds": self.train_seconds, "images_seen": self.images_seen,
            "epochs": self.epochs, "epoch_seconds": list(self.epoch_seconds),
            "step_s": self.step_s, "overhead_s": self.overhead_s, "epoch_steps": self.epoch_steps,
            "last_epoch": self.last_epoch, "budget_note": self.budget_note,
        }

    @classmethod
    def from_checkpoint(cls, st: dict, epochs: int) -> RunState:
        """The position and clock of a saved run; `epochs` is the plan to continue with."""
        return cls(epochs=epochs, epoch=int(st["epoch"]), epoch_step=int(st["epoch_step"]),
                   best_miou=float(st["best_miou"]), best_epoch=int(st["best_epoch"]),
                   train_seconds=float(st["train_seconds"]), images_seen=int(st["images_seen"]),
                   epoch_seconds=[float(t) for t in st.get("epoch_seconds", [])],
                   step_s=float(st.get("step_s", 0.0)), overhead_s=float(st.get("overhead_s", 0.0)),
                   epoch_steps=int(st.get("epoch_steps", 0)), last_epoch=bool(st.get("last_epoch", False)),
                   budget_note=str(st.get("budget_note", "")))

    def best_checkpoint(self, parts, cfg, miou: float) -> dict:
        """`best.pt`'s contents: the scored weights (the moving average when there is one)."""
        return {"config": cfg.to_dict(), "schema": parts.schema.to_dict(),
                "model": parts.scored.state_dict(), "epoch": self.epoch, "miou": miou}
