"""torch.compile vs eager for one training step, side by side in one process.

Two copies of the same model (same seed) train on the same random batch; steps alternate
eager/compiled so load changes hit both alike. Prints the first compiled step (compile time)
and the median step time of each after that.

    .venv/bin/python benchmarks/bench_compile.py --arch ddrnet23-slim --size 240x320 --batch 4
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks._common import machine  # noqa: E402


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
    args = ap.parse_args()
    h, w = (int(v) for v in args.size.split("x"))
    print(machine(), flush=True)

    def make():
        torch.manual_seed(0)
        model = create_model(args.arch, 11, encoder=args.encoder).train()
        loss = AuxLoss.wrap(create_loss("ce", 11), model)
        return model, torch.optim.AdamW(model.parameters(), 1e-3), loss

    x, y = torch.randn(args.batch, 3, h, w), torch.randint(0, 11, (args.batch, h, w))

    def stepper(fwd, opt, loss_fn):
        def step():
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
    print(f"{args.arch} {args.size} batch {args.batch}: first compiled step {first:.1f} s; "
          f"eager {e:.3f} s/step, compiled {c:.3f} s/step, speed-up {e / c:.2f}x")


if __name__ == "__main__":
    main()
