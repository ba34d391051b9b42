"""Cost of the losses at a training batch's full resolution, against SMP's DiceLoss.

Why it matters: DDRNet computes its loss twice a step (main and aux head), on logits upsampled to
the crop size, so at 4x360x480 the loss is a large share of a step that costs ~0.25 s in the
network itself. Each entry is forward + backward of the loss alone on float32 logits with 10%
void pixels; the variants run round-robin, `--reps` times, and the table shows the median.

    .venv/bin/python -m benchmarks.bench_loss [--size 360x480] [--batch 4] [--reps 5]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time

import torch

from benchmarks._common import machine, table
from core.config import parse_size
from core.losses import create_loss


def seconds(loss_fn, logits: torch.Tensor, target: torch.Tensor) -> float:
    x = logits.detach().requires_grad_()
    t = time.perf_counter()
    loss_fn(x, target).backward()
    return time.perf_counter() - t


def main(argv=None) -> int:
    from segmentation_models_pytorch.losses import DiceLoss

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", default="360x480")
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--classes", type=int, default=11)
    ap.add_argument("--reps", type=int, default=5)
    args = ap.parse_args(argv)
    h, w = parse_size(args.size)
    c = args.classes
    print(machine())
    g = torch.Generator().manual_seed(0)
    logits = torch.randn(args.batch, c, h, w, generator=g)
    target = torch.randint(0, c, (args.batch, h, w), generator=g)
    target[torch.rand(args.batch, h, w, generator=g) < 0.1] = 255
    variants = {
        "SMP DiceLoss (multiclass, ignore_index)": DiceLoss("multiclass", from_logits=True, ignore_index=255),
        "roadseg dice": create_loss("dice", c),
        "roadseg ce": create_loss("ce", c),
        "roadseg ohem": create_loss("ohem", c),
        "roadseg ohem+dice": create_loss("ohem+dice", c),
    }
    times = {k: [] for k in variants}
    for name, fn in variants.items():  # warm-up
        seconds(fn, logits, target)
    for _ in range(args.reps):
        for name, fn in variants.items():
            times[name].append(seconds(fn, logits, target))
    base = statistics.median(times["SMP DiceLoss (multiclass, ignore_index)"])
    rows = [[name, f"{statistics.median(t) * 1e3:.1f}", f"{base / statistics.median(t):.2f}x"]
            for name, t in times.items()]
    print(f"\nforward + backward, float32 logits {args.batch}x{c}x{h}x{w}, 10% void, "
          f"median of {args.reps} round-robin reps")
    print(table(["loss", "ms per call", "speed vs SMP Dice"], rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
