"""UI responsiveness on the real widgets (offscreen Qt):

1. event-loop stall on the UI thread while a real training runs through TrainView's worker
   (a 5 ms QTimer; stall = gap between timeouts - 5 ms),
2. image switch time in the Evaluate tab's prediction browser at 360x480 (step + repaint,
   predictions cached),
3. Stop latency: TrainView.stop() -> RunFinished(cancelled=True) delivered on the UI thread with
   last.pt on disk.

    QT_QPA_PLATFORM=offscreen .venv/bin/python -m benchmarks.bench_ui [--data DIR]

Without --data a small synthetic set (360x480) is generated in a temp dir. Waiting is done with a
QEventLoop (QTest.qWait would hold the GIL in PySide6 and starve the training thread).
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np
from PySide6.QtCore import (QElapsedTimer, QEventLoop, QObject, QSettings, Qt, QTimer, Slot,
                            qInstallMessageHandler)
from PySide6.QtWidgets import QApplication

from benchmarks._common import machine, table

TICK_MS = 5


def spin(ms: int) -> None:
    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()


def wait_until(cond, timeout_s: float, step_ms: int = 10) -> bool:
    end = time.monotonic() + timeout_s
    while not cond():
        if time.monotonic() > end:
            return False
        spin(step_ms)
    return True


def idle(view) -> None:
    """The batch is over for the view too: the thread ended AND its queued finished slot ran
    (start_btn is re-enabled there); starting earlier races that slot, which clears _batch."""
    wait_until(lambda: not view.is_running() and view.start_btn.isEnabled(), 120)


def pct(values, q) -> float:
    return float(np.percentile(np.asarray(values, float), q)) if len(values) else float("nan")


def make_state(data: Path, runs_root: Path, tmp: Path):
    from core.data.source import open_dataset
    from guiapp.app_state import AppState

    state = AppState(QSettings(str(tmp / "settings.ini"), QSettings.Format.IniFormat),
                     runs_root=runs_root)
    state.set_source(open_dataset(data))
    return state


def set_form(view, arch: str, encoder: str | None, size: tuple[int, int], batch: int,
             epochs: int) -> None:
    f = view.form
    f.arch.setCurrentText(arch)
    if encoder:
        f.encoder.setCurrentText(encoder)
    f.height.setValue(size[0])
    f.width.setValue(size[1])
    f.batch_size.setValue(batch)
    f.epochs.setValue(epochs)
    f.device.setCurrentText("cpu")
    f.augment.setCurrentText("none")
    f.schedule.setCurrentText("constant")


class RunWatch(QObject):
    """Follows one run of the view's worker: step count and the time RunFinished is delivered
    on the UI thread (a QObject slot, so the connection is queued like the view's own)."""

    def __init__(self, view):
        super().__init__(view)
        self.steps = 0
        self.step_times: list[float] = []
        self.finished_at: float | None = None
        self.finished = None
        self.last_pt_at_finish = False
        view.runner.worker.event.connect(self.on_event)

    @Slot(object)
    def on_event(self, ev) -> None:
        from core.engine.events import RunFinished, StepDone

        if isinstance(ev, StepDone):
            self.steps += 1
            self.step_times.append(ev.images_per_s)
        elif isinstance(ev, RunFinished):
            self.finished_at = time.perf_counter()
            self.finished = ev
            self.last_pt_at_finish = (Path(ev.run_dir) / "last.pt").is_file()


def start_training(view, args, epochs: int) -> RunWatch:
    arch, _, enc = args.model.partition("/")
    set_form(view, arch, enc or None, args.train_size, args.batch, epochs)
    view.start()
    assert view.is_running(), view.status.text()
    return RunWatch(view)


# --- 1. stall ---------------------------------------------------------------------------------
def bench_stall(view, args) -> dict:
    watch = start_training(view, args, epochs=1000)
    # measure once the model is built and steps are flowing (the first step warms up)
    if not wait_until(lambda: watch.steps >= 1, 300):
        raise RuntimeError(f"training did not start: {view.status.text()}")
    gaps: list[float] = []
    clock = QElapsedTimer()
    last = [None]

    def tick():
        now = clock.nsecsElapsed() / 1e6
        if last[0] is not None:
            gaps.append(now - last[0])
        last[0] = now

    timer = QTimer()
    timer.setTimerType(Qt.TimerType.PreciseTimer)
    timer.setInterval(TICK_MS)
    timer.timeout.connect(tick)
    steps0 = watch.steps
    clock.start()
    timer.start()
    spin(int(args.stall_seconds * 1000))
    timer.stop()
    steps = watch.steps - steps0
    view.stop()
    idle(view)
    stall = [max(0.0, g - TICK_MS) for g in gaps]
    return {"p50": pct(stall, 50), "p99": pct(stall, 99), "max": max(stall), "n": len(stall),
            "steps": steps, "img_s": float(np.median(watch.step_times)) if watch.step_times else 0}


# --- 3. stop ----------------------------------------------------------------------------------
def bench_stop(view, args, reps: int) -> list[dict]:
    out = []
    rng = np.random.default_rng(0)
    for _ in range(reps):
        watch = start_training(view, args, epochs=1000)
        if not wait_until(lambda: watch.steps >= 2, 300):
            raise RuntimeError(f"training did not start: {view.status.text()}")
        # somewhere inside a step, not right at its boundary
        spin(int(rng.uniform(0.1, 0.9) * 1000 / max(watch.step_times[-1] / args.batch, 1e-3)))
        t0 = time.perf_counter()
        view.stop()
        ok = wait_until(lambda: watch.finished_at is not None, 60, step_ms=1)
        ended = wait_until(lambda: not view.is_running(), 60, step_ms=1)
        idle(view)
        t_thread = time.perf_counter() - t0
        ev = watch.finished
        out.append({"latency": (watch.finished_at - t0) if ok else float("inf"),
                    "thread": t_thread if ended else float("inf"),
                    "cancelled": bool(ev and ev.cancelled), "last_pt": watch.last_pt_at_finish,
                    "step_s": args.batch / watch.step_times[-1] if watch.step_times else 0})
    return out


# --- 2. prediction browser --------------------------------------------------------------------
def bench_switch(state, data: Path, runs_root: Path, args) -> dict:
    from core.config import TrainConfig
    from core.engine.trainer import Trainer
    from guiapp.views.evaluate_view import EvaluateView

    run = runs_root / "browse-baseline"
    cfg = TrainConfig(data=str(data), arch="baseline", epochs=1, batch_size=4,
                      image_size=(360, 480), augment="none", device="cpu", precision="fp32",
                      workers=0, seed=0, out=str(run), name=run.name)
    Trainer(cfg).run()
    view = EvaluateView(state)
    view.resize(1600, 1000)
    view.show()
    view.refresh_runs()
    view.run_combo.setCurrentIndex(view.run_combo.findData(str(run)))
    view.data_combo.setCurrentIndex(view.data_combo.findData("current"))
    view.split_combo.setCurrentText(args.browse_split)
    results = []
    state.eval_done.connect(results.append)
    assert view.start(), view.summary.text()
    if not wait_until(lambda: results and not view.runner.is_running(), 600):
        raise RuntimeError(f"evaluation did not finish: {view.summary.text()}")
    b = view.browser
    names = b.visible_names()
    n = min(len(names), b.cache.capacity)
    # walk once so every image of the walk gets predicted and cached
    wait_until(lambda: b.shown is not None, 120)
    for i in range(1, n):
        b.step(1)
        wait_until(lambda: b.shown == b.current, 120)
    for _ in range(n):
        b.step(-1)
    wait_until(lambda: b.shown == b.current and len(b.cache) >= n, 120)
    spin(200)
    times, misses, row, d = [], 0, 0, 1
    for _ in range(args.switches):
        if not 0 <= row + d < n:
            d = -d
        row += d
        t = time.perf_counter()
        b.step(d)
        b.repaint()
        times.append((time.perf_counter() - t) * 1000)
        misses += b.shown != b.current
        spin(30)  # give the event loop a breath between key presses, as a person would
    h, w = b.cache.get(b.shown).image.shape[:2]
    view.shutdown()
    view.close()
    return {"p50": pct(times, 50), "p95": pct(times, 95), "max": max(times), "n": len(times),
            "misses": misses, "size": f"{h}x{w}", "images": n}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--data", help="dataset folder (e.g. /work/shared/data/camvid); default: "
                                   "synthetic 360x480")
    ap.add_argument("--images", type=int, default=12, help="synthetic images (default 12)")
    ap.add_argument("--model", default="unet/resnet18", help="arch[/encoder] for 1 and 3")
    ap.add_argument("--train-size", default="180x240", help="HxW for training in 1 and 3")
    ap.add_argument("--batch", type=int, default=2)
    ap.add_argument("--stall-seconds", type=float, default=40.0)
    ap.add_argument("--stops", type=int, default=3)
    ap.add_argument("--switches", type=int, default=30)
    ap.add_argument("--browse-split", default=None, help="split for 2 (synthetic: train, else val)")
    args = ap.parse_args()
    args.train_size = tuple(int(v) for v in args.train_size.lower().split("x"))

    import torch

    torch.set_num_threads(min(2, os.cpu_count() or 1))
    app = QApplication.instance() or QApplication(sys.argv)  # noqa: F841
    def quiet(mode, ctx, msg):  # the offscreen plugin's harmless per-window warning
        if "propagateSizeHints" not in msg:
            sys.stderr.write(msg + "\n")

    qInstallMessageHandler(quiet)
    tmp = Path(tempfile.mkdtemp(prefix="bench_ui_"))
    if args.data:
        data = Path(args.data)
        args.browse_split = args.browse_split or "val"
    else:
        from core.data.synth import generate_synthetic

        data = generate_synthetic(tmp / "synth", count=args.images, size=(360, 480), seed=0,
                                  val_fraction=0.2)
        args.browse_split = args.browse_split or "train"
    runs_root = tmp / "runs"
    state = make_state(data, runs_root, tmp)

    from guiapp.views.train_view import TrainView

    load0 = os.getloadavg()
    view = TrainView(state)
    view.resize(1400, 900)
    view.show()
    spin(500)  # let the GFLOPs count of the default form settle
    t = time.perf_counter()
    stall = bench_stall(view, args)
    t_stall = time.perf_counter() - t
    stops = bench_stop(view, args, args.stops)
    view.shutdown()
    view.close()
    switch = bench_switch(state, data, runs_root, args)
    load1 = os.getloadavg()

    h, w = args.train_size
    print(f"# bench_ui — {machine()}")
    print(f"data: {args.data or f'synthetic {args.images} images 360x480'}; training: "
          f"{args.model} {h}x{w} batch {args.batch} cpu fp32 via TrainView/TrainWorker")
    print(f"load average (1 min) before {load0[0]:.2f}, after {load1[0]:.2f} "
          f"on {os.cpu_count()} cores\n")
    rows = [
        ["UI stall during training (5 ms timer)",
         f"p50 {stall['p50']:.1f} / p99 {stall['p99']:.1f} / max {stall['max']:.1f} ms",
         f"{stall['n']} samples, {t_stall:.0f} s incl. start, {stall['steps']} steps "
         f"@ {stall['img_s']:.1f} img/s", "p99 <= 30 ms", "PASS" if stall["p99"] <= 30 else "FAIL"],
        [f"browser switch {switch['size']} (step + repaint)",
         f"p50 {switch['p50']:.1f} / p95 {switch['p95']:.1f} / max {switch['max']:.1f} ms",
         f"{switch['n']} switches over {switch['images']} cached images, "
         f"{switch['misses']} cache misses", "<= 50 ms",
         "PASS" if switch["p95"] <= 50 else "FAIL"],
    ]
    worst = max(s["latency"] for s in stops)
    for i, s in enumerate(stops, 1):
        rows.append([f"Stop -> RunFinished(cancelled) #{i}", f"{1000 * s['latency']:.0f} ms",
                     f"cancelled={s['cancelled']} last.pt={s['last_pt']}, thread joined "
                     f"{1000 * s['thread']:.0f} ms, step {s['step_s']:.2f} s", "<= 2 s", ""])
    ok = worst <= 2.0 and all(s["cancelled"] and s["last_pt"] for s in stops)
    rows.append(["Stop latency, max of %d" % len(stops), f"{1000 * worst:.0f} ms", "", "<= 2 s",
                 "PASS" if ok else "FAIL"])
    print(table(["measure", "result", "detail", "target", ""], rows))


if __name__ == "__main__":
    main()
