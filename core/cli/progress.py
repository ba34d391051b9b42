"""Console output for long commands: a tqdm bar per epoch fed by Trainer events."""
from __future__ import annotations

import sys

from tqdm import tqdm

from core.engine.events import CheckpointSaved, EpochDone, RunFailed, RunFinished, RunStarted, StepDone
from core.engine.phases import describe


def progress_bar(desc: str):
    """A `progress(done, total)` callback drawing one bar on stderr."""
    bar = None

    def update(done: int, total: int) -> None:
        nonlocal bar
        if bar is None:  # the first call's images count from here: a rate from them alone is absurd
            bar = tqdm(total=total, desc=desc, unit="img", file=sys.stderr, leave=False, initial=done)
        bar.n = done
        bar.refresh()
        if done >= total:
            bar.close()

    return update


def held_out_names(prefixes: str, shown: int = 3) -> str:
    """A hold-out's name prefixes for one console line: a k-fold run holds out a whole list of
    image names, which would otherwise fill the screen."""
    names = [p for p in prefixes.split(",") if p]
    if len(names) <= shown + 1:
        return ",".join(names)
    return ",".join(names[:shown]) + f" and {len(names) - shown} more"


class TrainPrinter:
    """Listener printing a bar per epoch and one summary line per epoch. `failures`: also print
    why a run failed (a queue goes on to the next run, so no error reaches the command's end;
    a single run's error does, and is printed there once)."""

    def __init__(self, out=None, failures: bool = False):
        self.out = sys.stdout if out is None else out
        self.failures = failures
        self.bar = None
        self.epochs = 0
        self.budget_min = 0.0  # a run's time budget, minutes (0: none)

    def __call__(self, ev) -> None:
        if isinstance(ev, RunStarted):
            self.epochs = ev.total_epochs
            self.budget_min = float(ev.config.get("time_budget") or 0.0)
            length = (f"a {self.budget_min:g}-minute time budget (at most {ev.total_epochs} epochs)"
                      if self.budget_min else f"{ev.total_epochs} epochs") + f" x {ev.steps_per_epoch} steps"
            print(f"run {ev.run_dir}: {ev.config['arch']}"
                  f"{'/' + ev.config['encoder'] if ev.config.get('encoder') else ''}, {ev.gflops:.2f} GFLOPs, "
                  f"{ev.params / 1e6:.2f} M params, device {ev.device} ({ev.precision}), {length}",
                  file=self.out, flush=True)
            if ev.data_plan:
                print(ev.data_plan, file=self.out, flush=True)
        elif isinstance(ev, StepDone):
            if self.bar is None:
                self.bar = tqdm(total=ev.steps_per_epoch, desc=f"epoch {ev.epoch}", unit="step",
                                file=sys.stderr, leave=False, initial=ev.epoch_step - 1)
            self.bar.update(1)
            left = {"budget_left" if self.budget_min else "eta": f"{ev.eta_s / 60:.1f}m"}
            self.bar.set_postfix(loss=f"{ev.loss:.3f}", img_s=f"{ev.images_per_s:.1f}", **left, refresh=False)
        elif isinstance(ev, EpochDone):
            self._close()
            print(f"epoch {ev.epoch}: train loss {ev.train_loss:.4f}  val loss {ev.val_loss:.4f}  "
                  f"val mIoU {ev.miou:.4f}  pixel acc {ev.pixel_acc:.4f}  ({ev.seconds:.0f} s)"
                  f"{'  *best*' if ev.is_best else ''}", file=self.out, flush=True)
            if self.budget_min and ev.total_epochs != self.epochs:
                self.epochs = ev.total_epochs
                print(f"time budget: about {ev.total_epochs} epochs in all at this pace",
                      file=self.out, flush=True)
        elif isinstance(ev, CheckpointSaved) and not ev.best and self.bar is not None:
            self._close()
        elif isinstance(ev, RunFinished):
            self._close()
            s = ev.summary
            state = "stopped (resume with --resume)" if ev.cancelled else "finished"
            best = "n/a" if s.get("best_miou") is None else f"{s['best_miou']:.4f} (epoch {s['best_epoch']})"
            print(f"{state}: best val mIoU {best}, {s['train_seconds']:.0f} s training, "
                  f"{s['images_per_s']:.2f} img/s", file=self.out, flush=True)
            spent = describe(s.get("phases"))
            if spent:  # where the time went, so a slow start or end shows without opening a file
                print(f"time: {spent}", file=self.out, flush=True)
            budget = s.get("budget")
            if budget:  # how much of the budget the run used, and how its last epoch ended
                print(f"time budget: {budget['used_s'] / 60:.1f} of {self.budget_min:g} min used "
                      f"({budget['epochs']} epochs); last epoch: {budget['last_epoch']}", file=self.out, flush=True)
            held = s.get("holdout")
            if held and held.get("miou") is not None:
                print(f"held-out {held_out_names(held['prefixes'])} ({held['images']} images, best checkpoint): "
                      f"mIoU {held['miou']:.4f}", file=self.out, flush=True)
        elif isinstance(ev, RunFailed):
            self._close()
            if self.failures:
                print(f"run {ev.run_dir} failed: {ev.message}", file=sys.stderr, flush=True)

    def _close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None
