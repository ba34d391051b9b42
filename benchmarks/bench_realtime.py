"""Real-time network vs the UNet baseline on this CPU: GFLOPs, parameters and training throughput.

The question behind it: in a fixed 60-minute CPU budget, how many more epochs does a cheaper
network buy? Throughput is the model's own forward + loss + backward + Adam step on random
batches (data loading excluded: it is the same for every model), fp32 and channels_last unless
the spec says otherwise. The CPU may be shared, so the models run back to back, `--reps` times
round-robin, and the table shows the median.

A model is `arch[:encoder][:opt+opt...]`, options: `noskip` (skip=False, e.g. DDRNet's paper
head), `detail` (detail=True: DDRNet's train-time boundary head and its loss), `refine`
(refine=True: DDRNet's deeper 1/4 skip path), `strip` (strip=True: strip pooling at 1/8),
`bf16` (bf16
autocast, as `precision: auto` picks on CPUs with native bf16), `nchw` (contiguous NCHW instead
of channels_last). E.g. `ddrnet23-slim::bf16+nchw`.

    .venv/bin/python -m benchmarks.bench_realtime [--models unet:resnet18,ddrnet23-slim]
                                                  [--size 360x480] [--batch 4] [--steps 5]
                                                  [--warmup 2] [--reps 2]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time

import torch

from benchmarks._common import machine, table
from core.config import parse_size
from core.flops import count_gflops, count_params
from core.losses import AuxLoss, create_loss
from core.models.registry import create_model


def train_throughput(model: torch.nn.Module, size, batch: int, steps: int, warmup: int,
                     num_classes: int = 11, bf16: bool = False,
                     channels_last: bool = True) -> float:
    """Images per second over `steps` timed training steps after `warmup` untimed ones."""
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    model.train().to(memory_format=fmt)
    loss_fn = AuxLoss.wrap(create_loss("ce", num_classes), model)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    g = torch.Generator().manual_seed(0)
    x = torch.randn(batch, 3, *size, generator=g).contiguous(memory_format=fmt)
    y = torch.randint(0, num_classes, (batch, *size), generator=g)

    def step():
        opt.zero_grad(set_to_none=True)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            out = model(x)
        loss_fn(out, y).backward()
        opt.step()

    for _ in range(warmup):
        step()
    t = time.perf_counter()
    for _ in range(steps):
        step()
    return batch * steps / (time.perf_counter() - t)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", default="unet:resnet18,ddrnet23-slim,ddrnet23-slim::noskip")
    ap.add_argument("--size", default="360x480")
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--reps", type=int, default=2)
    args = ap.parse_args(argv)
    size = parse_size(args.size)
    print(machine())
    models, rows = {}, []
    opts = {}
    for spec in args.models.split(","):
        arch, enc, rest = (spec.split(":") + ["", ""])[:3]
        flags = set(filter(None, rest.split("+")))
        torch.manual_seed(0)
        m = create_model(arch, 11, enc or None, skip="noskip" not in flags,
                         detail="detail" in flags, refine="refine" in flags,
                         strip="strip" in flags)
        label = " ".join([arch + (f"/{enc}" if enc else ""), *sorted(flags)])
        models[label] = (m, count_gflops(m, size), count_params(m))
        opts[label] = dict(bf16="bf16" in flags, channels_last="nchw" not in flags)
    speeds = {k: [] for k in models}
    for rep in range(args.reps):  # round-robin so CPU contention hits every model alike
        for key, (m, _, _) in models.items():
            ips = train_throughput(m, size, args.batch, args.steps, args.warmup, **opts[key])
            speeds[key].append(ips)
            print(f"rep {rep + 1}: {key}: {ips:.3f} img/s", flush=True)
    base = statistics.median(next(iter(speeds.values())))
    for label, (m, gf, params) in models.items():
        med = statistics.median(speeds[label])
        rows.append([label, f"{gf:.2f}", f"{params / 1e6:.2f}",
                     " ".join(f"{s:.2f}" for s in speeds[label]), f"{med:.2f}",
                     f"{med / base:.2f}x"])
    print(f"\ntraining (fp32 channels_last unless named), batch {args.batch}, {size[0]}x{size[1]}, "
          f"{args.steps} steps after {args.warmup} warm-up, median of {args.reps} round-robin reps; GFLOPs forward "
          "(eval, main path), multiply-add = 2")
    print(table(["model", "GFLOPs", "params M", "img/s per rep", "img/s median", "vs first"],
                rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
