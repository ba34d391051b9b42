"""A time budget on a machine in use: the same preset and budget, once on a quiet machine and once
with bursts of other work beside it (processes that keep both cores busy for a minute or two in
the first quarter of the run, as a person's other jobs would), scored on a held-back street.

    .venv/bin/python -m benchmarks.bench_budget --data CamVid --budget 12 --holdout 0006R0
    .venv/bin/python -m benchmarks.bench_budget --data CamVid --budget 12 --compare-src OLD_CHECKOUT

Each run is a real `roadseg train --preset PRESET --time-budget B --holdout H` child. The table
gives per run: epochs, the budget's share used (epoch wall times summed), the best val mIoU, and
the held-back street's mIoU for best.pt (the run's own score) and last.pt. `--compare-src` adds a
busy run of another checkout of roadseg (e.g. the commit before the budget-driven schedule),
side by side on the same machine.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

from benchmarks._common import CAMVID, machine, table

ROOT = Path(__file__).resolve().parents[1]
CLI = "from core.cli import entry; entry()"
BURN = ("import time, torch\n"
        "torch.set_num_threads(2)\n"
        "a = torch.randn(1024, 1024)\n"
        "end = time.time() + {seconds}\n"
        "while time.time() < end:\n"
        "    a = torch.tanh(a @ a)\n")


def _bursts(spec: str, budget_s: float) -> list[tuple[float, float]]:
    """'0.1:60,0.2:120' -> [(start s, length s)]: starts as shares of the budget."""
    out = []
    for part in filter(None, spec.split(",")):
        start, length = part.split(":")
        out.append((float(start) * budget_s, float(length)))
    return out


def _burn_beside(proc: subprocess.Popen, bursts: list[tuple[float, float]], t0: float) -> threading.Thread:
    """Start each burst (a process keeping 2 threads busy) at its time while `proc` runs."""
    def run():
        for start, length in bursts:
            while time.time() - t0 < start:
                if proc.poll() is not None:
                    return
                time.sleep(0.5)
            subprocess.Popen([sys.executable, "-c", BURN.format(seconds=length)])
    th = threading.Thread(target=run, daemon=True)
    th.start()
    return th


def _holdout_miou(src: Path, checkpoint: Path, data: str, holdout: str) -> float | None:
    out = subprocess.run([sys.executable, "-c", CLI, "eval", "--checkpoint", str(checkpoint), "--data", data,
                          "--holdout", holdout, "--split", "holdout"], cwd=ROOT, capture_output=True, text=True,
                         env={**os.environ, "PYTHONPATH": str(ROOT)})
    m = re.search(r"mIoU ([0-9.]+)", out.stdout)
    return float(m.group(1)) if m else None


def one_run(label: str, src: Path, out: Path, args, bursts) -> list:
    run_dir = out / label
    cmd = [sys.executable, "-c", CLI, "train", "--preset", args.preset, "--data", args.data,
           "--time-budget", str(args.budget), "--holdout", args.holdout, "--out", str(run_dir)]
    if args.seed is not None:
        cmd += ["--seed", str(args.seed)]
    t0 = time.time()
    with open(out / f"{label}.log", "w") as log:
        proc = subprocess.Popen(cmd, cwd=src, stdout=log, stderr=subprocess.STDOUT,
                                env={**os.environ, "PYTHONPATH": str(src)})
        _burn_beside(proc, bursts, t0)
        proc.wait()
    wall = time.time() - t0
    lines = [json.loads(x) for x in (run_dir / "metrics.jsonl").read_text().splitlines() if x.strip()]
    summary = json.loads((run_dir / "summary.json").read_text())
    used = sum(r["seconds"] for r in lines)
    held = (summary.get("holdout") or {}).get("miou")
    last = _holdout_miou(src, run_dir / "last.pt", args.data, args.holdout)
    note = (summary.get("budget") or {}).get("last_epoch", "-")
    return [label, len(lines), f"{used / (args.budget * 60):.0%}", f"{wall / 60:.1f}",
            f"{summary['best_miou']:.4f} (ep {summary['best_epoch']})",
            f"{held:.4f}" if held is not None else "-", f"{last:.4f}" if last is not None else "-", note]


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", default=str(CAMVID))
    p.add_argument("--preset", default="camvid-fast")
    p.add_argument("--budget", type=float, default=12.0, help="minutes per run")
    p.add_argument("--holdout", default="0006R0")
    p.add_argument("--bursts", default="0.1:60,0.2:120",
                   help="busy runs: start (share of the budget):length (s) of each burst of other work")
    p.add_argument("--runs", default="quiet,busy", help="which of quiet, busy to run")
    p.add_argument("--compare-src", type=Path, help="another roadseg checkout: adds its busy run")
    p.add_argument("--seed", type=int, help="the runs' seed (default: the preset's)")
    p.add_argument("--out", type=Path, default=ROOT / "runs" / "bench-budget")
    args = p.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    bursts = _bursts(args.bursts, args.budget * 60)
    rows = []
    for label in args.runs.split(","):
        rows.append(one_run(label, ROOT, args.out, args, bursts if label == "busy" else []))
        print(rows[-1], flush=True)
    if args.compare_src:
        rows.append(one_run("busy-compare", args.compare_src, args.out, args, bursts))
    print(f"\n{machine()}; preset {args.preset}, budget {args.budget:g} min, held-back {args.holdout}, "
          f"bursts {args.bursts}, seed {args.seed if args.seed is not None else 'of the preset'}")
    print(table(["run", "epochs", "budget used", "wall min", "best val mIoU", "held-back best.pt",
                 "held-back last.pt", "last epoch"], rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
