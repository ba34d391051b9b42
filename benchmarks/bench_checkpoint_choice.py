"""Which weights of a time-budgeted run generalise: the best epoch on val, the last epoch, or a
moving average of the weights (EMA), scored on val and on a street the training never saw.

For each seed, two `roadseg train --preset PRESET --time-budget B --holdout H` children run at
the same time, one thread each, one plain and one with `--ema DECAY`, so both see the same machine. Then each
checkpoint is scored with `roadseg eval` on val and on the held-back street:

  plain best.pt     the best val epoch's weights (what a run without EMA keeps)
  plain last.pt     the last epoch's weights
  ema best.pt       the average of the weights at the best val epoch (the average is what is validated)
  ema last (avg)    the average at the end (last.pt's "ema")
  ema last (raw)    the raw weights at the end of the EMA run (last.pt's "model")

    python -m benchmarks.bench_checkpoint_choice --data CamVid --budget 15 --seeds 0,1 --ema 0.995
"""
from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from benchmarks._common import CAMVID, machine, table

ROOT = Path(__file__).resolve().parents[1]
CLI = "from core.cli import entry; entry()"


def _train(run_dir: Path, args, seed: int, ema: float | None) -> subprocess.Popen:
    cmd = [sys.executable, "-c", CLI, "train", "--preset", args.preset, "--data", args.data,
           "--time-budget", str(args.budget), "--holdout", args.holdout, "--out", str(run_dir),
           "--seed", str(seed)]
    if ema:
        cmd += ["--ema", str(ema)]
    log = open(run_dir.parent / f"{run_dir.name}.log", "w")
    return subprocess.Popen(cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,  # a core each
                            env={**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"})


def _miou(checkpoint: Path, args, split: str) -> float | None:
    out = subprocess.run([sys.executable, "-c", CLI, "eval", "--checkpoint", str(checkpoint), "--data", args.data,
                          "--holdout", args.holdout, "--split", split], cwd=ROOT, capture_output=True, text=True,
                         env={**os.environ, "PYTHONPATH": str(ROOT)})
    m = re.search(r"images, mIoU ([0-9.]+)", out.stdout)
    return float(m.group(1)) if m else None


def _from_last(last: Path, key: str, out: Path) -> Path:
    """A checkpoint of last.pt's `key` weights ("model" or "ema") that `roadseg eval` reads."""
    import torch

    from core.engine.checkpoint import save_checkpoint

    st = torch.load(last, map_location="cpu", weights_only=True)
    save_checkpoint(out, {"config": st["config"], "schema": st["schema"], "model": st[key],
                          "epoch": st["epoch"], "miou": 0.0})
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", default=str(CAMVID))
    p.add_argument("--preset", default="camvid-fast")
    p.add_argument("--budget", type=float, default=15.0, help="minutes per run (two run at once)")
    p.add_argument("--holdout", default="0006R0")
    p.add_argument("--seeds", default="0")
    p.add_argument("--ema", type=float, default=0.995)
    p.add_argument("--out", type=Path, default=ROOT / "runs" / "bench-checkpoint-choice")
    args = p.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    rows = []
    for seed in (int(s) for s in args.seeds.split(",")):
        plain, ema = args.out / f"plain-s{seed}", args.out / f"ema-s{seed}"
        procs = [_train(plain, args, seed, None), _train(ema, args, seed, args.ema)]
        if any(pr.wait() != 0 for pr in procs):
            print(f"seed {seed}: a run failed (see {args.out}/*.log)", file=sys.stderr)
            return 1
        with tempfile.TemporaryDirectory() as tmp:
            picks = {"plain best.pt": plain / "best.pt", "plain last.pt": plain / "last.pt",
                     "ema best.pt": ema / "best.pt",
                     "ema last (avg)": _from_last(ema / "last.pt", "ema", Path(tmp) / "ema-last.pt"),
                     "ema last (raw)": _from_last(ema / "last.pt", "model", Path(tmp) / "raw-last.pt")}
            epochs = {run: len((run / "metrics.jsonl").read_text().splitlines()) for run in (plain, ema)}
            for name, ckpt in picks.items():
                val, held = _miou(ckpt, args, "val"), _miou(ckpt, args, "holdout")
                run = plain if name.startswith("plain") else ema
                best = json.loads((run / "summary.json").read_text())["best_epoch"]
                rows.append([seed, name, epochs[run], best if "best" in name else epochs[run],
                             f"{val:.4f}" if val is not None else "-", f"{held:.4f}" if held is not None else "-"])
                print(rows[-1], flush=True)
    print(f"\n{machine()}; preset {args.preset}, budget {args.budget:g} min (two runs at once), "
          f"held-back {args.holdout}, EMA decay {args.ema}")
    print(table(["seed", "weights", "epochs", "epoch", "val mIoU", f"{args.holdout} mIoU"], rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
