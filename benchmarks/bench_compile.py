"""torch.compile vs eager for one training step, side by side in one process.

Two copies of the same model (same seed) train on the same random batch; steps alternate
eager/compiled so load changes hit both alike. Prints the first compiled step (compile time)
and the median step time of each after that.

    .venv/bin/python -m benchmarks.bench_compile --arch ddrnet23-slim --size 240x320 --batch 4 [--bf16]

--bf16 runs both under bf16 autocast with channels_last inputs and weights, the Trainer's
`precision: auto` on a CPU with native bf16.
"""
from __future__ import annotations

import argparse
import statistics
import time

from benchmarks._common import machine


def main() -> None:
    import torch

    from core.losses import AuxLoss, create_loss
    from core.models.registry import create_model

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--arch", default="ddrnet23-slim")
    ap.add_argument("--encoder")
    ap.add_argument("--size", default="240x320")
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--steps", type=int, default=8)
    ap.add_argument("--bf16", action="store_true", help="bf16 autocast + channels_last")
    args = ap.parse_args()
    fmt = torch.channels_last if args.bf16 else torch.contiguous_format
    h, w = (int(v) for v in args.size.split("x"))
    print(machine(), flush=True)

    def make():
        torch.manual_seed(0)
        model = create_model(args.arch, 11, encoder=args.encoder).train().to(memory_format=fmt)
        loss = AuxLoss.wrap(create_loss("ce", 11), model)
        return model, torch.optim.AdamW(model.parameters(), 1e-3), loss

    x = torch.randn(args.batch, 3, h, w).contiguous(memory_format=fmt)
    y = torch.randint(0, 11, (args.batch, h, w))

    def stepper(fwd, opt, loss_fn):
        def step():
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=args.bf16):
                loss = loss_fn(fwd(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
        return step

    me, oe, le = make()
    mc, oc, lc = make()
    eager = stepper(me, oe, le)
    compiled = stepper(torch.compile(mc), oc, lc)
    t = time.perf_counter()
    compiled()
    first = time.perf_counter() - t
    eager()
    te, tc = [], []
    for _ in range(args.steps):
        for fn, times in ((eager, te), (compiled, tc)):
            t = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t)
    e, c = statistics.median(te), statistics.median(tc)
    mode = "bf16 + channels_last" if args.bf16 else "fp32"
    print(f"{args.arch} {args.size} batch {args.batch} {mode}: first compiled step {first:.1f} s; "
          f"eager {e:.3f} s/step, compiled {c:.3f} s/step, speed-up {e / c:.2f}x")


if __name__ == "__main__":
    main()
