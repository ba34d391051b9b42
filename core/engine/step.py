"""One training step, and how the loop reads its loss and honours Stop.

A step on a GPU takes milliseconds and runs ahead of the host: any host read of a device value
(`float(loss)`, `torch.isfinite(loss)` in an `if`) makes the CPU wait for the GPU and leaves the
GPU idle while the next step is queued. So the step returns its loss as a device tensor and
`LossReader` collects them, reading them all in one transfer every few steps (every step on the
CPU, where a read costs nothing because the work is already done). The non-finite check runs on
what was read: it names the first bad step, and since the run then fails before another
checkpoint is written, the best checkpoint is kept as before.

Stop inside a step (`StepInterrupter`: a hook on every module, and a copy of the buffers per
step to undo the partial step) exists for long steps, ~40 s on a 2-core CPU for DeepLabV3. On
steps that take milliseconds, stopping between steps already keeps the 2-second promise, and the
hooks and copies are pure overhead there (a few percent of a 50 ms CPU step, far more of a 5 ms
GPU one). `StopMode` decides from the measured time of the first steps, not the device's name.
"""
from __future__ import annotations

import math
import statistics
from contextlib import nullcontext

import torch

from core.engine.interrupt import StepInterrupted, StepInterrupter, restore_buffers, snapshot_buffers

MID_STEP_STOP_ABOVE_S = 0.5  # a step longer than this keeps Stop inside the step
PROBE_STEPS = 3  # steps timed (each read at once) before the choice is made
READ_EVERY_S = 0.25  # on an asynchronous device, read the losses about this often
MAX_READ_EVERY = 50


class StopMode:
    """Mid-step Stop while steps are long; plain between-step Stop once they are measured short.

    Starts armed (the first steps of a run might be the long kind) and reads every step's loss
    while it probes; `observe` gets each probed step's wall time (the loss read makes it the
    real time, queueing included), then fixes the mode and the read interval for the run."""

    def __init__(self, model: torch.nn.Module, should_stop, enabled: bool, asynchronous: bool):
        self.interrupter = StepInterrupter(model, should_stop) if enabled else None
        self.asynchronous = asynchronous  # device work runs ahead of the host (CUDA)
        self.read_every = 1
        self._probe: list[float] | None = [] if enabled else None
        if not enabled:
            self._choose(None)

    @property
    def mid_step(self) -> bool:
        return self.interrupter is not None

    def observe(self, step_seconds: float) -> None:
        if self._probe is None:
            return
        self._probe.append(step_seconds)
        if len(self._probe) >= PROBE_STEPS:
            self._choose(statistics.median(self._probe[1:]))  # the first step carries warm-up

    def _choose(self, step_s: float | None) -> None:
        self._probe = None
        if step_s is not None and step_s > MID_STEP_STOP_ABOVE_S:
            return  # long steps: keep the hooks
        if self.interrupter is not None:
            self.interrupter.remove()
            self.interrupter = None
        if self.asynchronous:
            self.read_every = max(1, min(MAX_READ_EVERY, math.ceil(READ_EVERY_S / max(step_s or 1e-3, 1e-4))))

    def guard(self):
        """The context a step runs in: armed hooks in mid-step mode, nothing otherwise."""
        return self.interrupter.armed() if self.interrupter is not None else nullcontext()

    def close(self) -> None:
        if self.interrupter is not None:
            self.interrupter.remove()
            self.interrupter = None


class TrainStep:
    """Forward, loss, backward and optimizer update of one batch; returns the loss on the device.

    Raises StepInterrupted (after undoing the partial step) when Stop came in mid-step."""

    def __init__(self, parts, ddp, stop: StopMode):
        self.parts, self.ddp, self.stop = parts, ddp, stop

    def __call__(self, x: torch.Tensor, y: torch.Tensor, global_step: int) -> torch.Tensor:
        p = self.parts
        buffers = snapshot_buffers(p.model) if self.stop.mid_step else None
        try:
            with self.stop.guard():
                with torch.autocast(p.device.type, dtype=p.amp_dtype, enabled=p.amp_dtype is not None):
                    loss = p.loss_fn(p.net(x), y)  # losses cast to float32 themselves
                p.optimizer.zero_grad(set_to_none=True)
                p.scaler.scale(loss).backward()
        except StepInterrupted:
            p.optimizer.zero_grad(set_to_none=True)
            restore_buffers(p.model, buffers)
            raise
        p.scaler.step(p.optimizer)
        p.scaler.update()
        p.scheduler.step()
        if p.ema is not None:
            p.ema.update(p.model, step=global_step)
        return self.ddp.mean(loss.detach())  # the same value (and verdict) on every rank


class LossReader:
    """Step losses kept on the device until `read`, which fetches them in one transfer."""

    def __init__(self) -> None:
        self._losses: list[torch.Tensor] = []
        self._meta: list = []

    def __len__(self) -> int:
        return len(self._losses)

    def add(self, loss: torch.Tensor, meta) -> None:
        self._losses.append(loss.float().reshape(()))
        self._meta.append(meta)

    def read(self) -> list[tuple[float, object]]:
        """(loss, meta) of every step added since the last read, oldest first."""
        if not self._losses:
            return []
        values = torch.stack(self._losses).tolist()  # the one host read
        out = list(zip(values, self._meta))
        self._losses.clear()
        self._meta.clear()
        return out
