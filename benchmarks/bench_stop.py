"""Ctrl+C latency of `roadseg train` in the middle of a slow training step.

Stop used to wait for the current step to finish; a step of DeepLabV3-ResNet50 (output stride 8)
at 360x480, batch 4, takes tens of seconds on a 2-core CPU. Now hooks stop the step at the next
module boundary (core/engine/interrupt.py). Each trial starts a real `roadseg train` child, waits
until its first step is running, sends SIGINT a random 2-12 s later and measures the time until
the child prints "stopped" (last.pt saved) and until it has exited. For comparison, the table also
shows one whole step of the same model (the old worst case).

    .venv/bin/python -m benchmarks.bench_stop --data CamVid --trials 5
"""
from __future__ import annotations

import argparse
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from benchmarks._common import CAMVID, machine, table

ROOT = Path(__file__).resolve().parents[1]
CLI = "from core.cli import entry; entry()"  # what the `roadseg` script runs


class Tail(threading.Thread):
    """Reads a pipe and remembers when each pattern first showed up."""

    def __init__(self, pipe):
        super().__init__(daemon=True)
        self.pipe, self.text, self.lock = pipe, "", threading.Lock()
        self.start()

    def run(self):
        for chunk in iter(lambda: self.pipe.read1(512), b""):
            with self.lock:
                self.text += chunk.decode(errors="replace")

    def wait_for(self, needle: str, timeout: float) -> float | None:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            with self.lock:
                if needle in self.text:
                    return time.monotonic()
            time.sleep(0.005)
        return None


def trial(args, out: Path, delay: float) -> dict:
    argv = ["train", "--data", args.data, "--arch", args.arch, "--image-size", args.size, "--batch-size",
            str(args.batch), "--epochs", "1", "--augment", "none", "--device", "cpu", "--out", str(out)]
    if args.encoder:
        argv += ["--encoder", args.encoder]
    child = subprocess.Popen([sys.executable, "-c", CLI, *argv], cwd=ROOT, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    out_t, err_t = Tail(child.stdout), Tail(child.stderr)
    try:
        started = err_t.wait_for("0/", 600)  # the progress bar appears as the first step begins
        if started is None:
            raise RuntimeError(err_t.text[-2000:])
        time.sleep(delay)
        sent = time.monotonic()
        child.send_signal(signal.SIGINT)
        stopped = out_t.wait_for("stopped (resume with --resume)", 600)
        child.wait(600)
        exited = time.monotonic()
    finally:
        if child.poll() is None:
            child.kill()
    summary = json.loads((out / "summary.json").read_text())
    return {"delay": delay, "stop": stopped - sent, "exit": exited - sent, "rc": child.returncode,
            "last_pt": (out / "last.pt").is_file(), "cancelled": summary["cancelled"]}


def step_time(args) -> float:
    """One whole training step of the same model (one timed step; the first is not faster enough to matter here)."""
    import torch

    from benchmarks._common import median_time
    from core.losses import create_loss
    from core.models.registry import create_model

    h, w = (int(v) for v in args.size.split("x"))
    model = create_model(args.arch, 11, encoder=args.encoder or None).train()
    opt = torch.optim.Adam(model.parameters(), 1e-4)
    loss_fn = create_loss("ce", 11)
    x, y = torch.randn(args.batch, 3, h, w), torch.randint(0, 11, (args.batch, h, w))

    def step():
        opt.zero_grad()
        out = model(x)
        loss_fn(out[0] if isinstance(out, tuple) else out, y).backward()
        opt.step()
    return median_time(step, reps=1, warmup=0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--data", default=str(CAMVID))
    ap.add_argument("--arch", default="deeplabv3")
    ap.add_argument("--encoder", default="resnet50")
    ap.add_argument("--size", default="360x480")
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--trials", type=int, default=5)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    print(machine(), f"load average {os.getloadavg()[0]:.1f}", flush=True)
    rows, results = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.trials):
            r = trial(args, Path(tmp) / f"t{i}", rng.uniform(2.0, 12.0))
            results.append(r)
            rows.append([i + 1, f"{r['delay']:.1f} s", f"{r['stop']:.2f} s", f"{r['exit']:.2f} s", r["rc"],
                         r["last_pt"], r["cancelled"]])
            print(rows[-1], flush=True)
    full = step_time(args)
    name = f"{args.arch}/{args.encoder}" if args.encoder else args.arch
    print(f"\nCtrl+C inside the first step: {name} at {args.size}, batch {args.batch} "
          f"(one whole step: {full:.1f} s)")
    print(table(["trial", "SIGINT after step start", "-> stopped (last.pt)", "-> exited", "exit code",
                 "last.pt", "cancelled"], rows))
    stops = [r["stop"] for r in results]
    print(f"\nstop latency: median {statistics.median(stops):.2f} s, max {max(stops):.2f} s "
          f"(target <= 2 s); whole step {full:.1f} s; load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
