"""Events the Trainer emits to its listeners. Plain values only, so a GUI can pass them through Qt
signals and the CLI can print them, without either knowing about torch."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class RunStarted:
    run_dir: str
    config: dict
    start_epoch: int
    total_epochs: int
    steps_per_epoch: int
    total_steps: int
    device: str
    precision: str
    gflops: float
    params: int
    class_names: list[str] = field(default_factory=list)
    data_plan: str = ""  # where the data lives and why (core.data.memory_plan.MemoryPlan.describe)


@dataclass
class StepDone:
    epoch: int
    step: int
    epoch_step: int
    steps_per_epoch: int
    loss: float
    lr: float
    images_per_s: float  # this step's images over its wall time, data loading included
    eta_s: float  # steps left at the smoothed step time, plus the validations left (core.engine.pace)


@dataclass
class EpochDone:
    epoch: int
    train_loss: float
    val_loss: float
    miou: float
    pixel_acc: float
    iou: list
    is_best: bool
    seconds: float
    lr: float = 0.0
    total_epochs: int = 0  # the run's planned length after this epoch (a time budget may lower it)


@dataclass
class CheckpointSaved:
    path: str
    epoch: int
    best: bool


@dataclass
class RunFinished:
    run_dir: str
    summary: dict
    cancelled: bool


@dataclass
class RunFailed:
    run_dir: str
    message: str
    traceback: str = ""


@dataclass
class QueuedRunStarted:
    """A queue (core.engine.queue.RunQueue) is starting its run number `index` in `run_dir`."""
    index: int
    run_dir: str


@dataclass
class QueuedRunEnded:
    """A queue's run number `index` is over; status: done | cancelled | failed."""
    index: int
    status: str
    run_dir: str
