"""Inference latency per image and GFLOPs for every registered architecture at 360x480
(default encoder and options, batch 1, fp32, eval mode, torch.inference_mode).

    .venv/bin/python -m benchmarks.bench_inference [--size 360x480] [--reps 5]
"""
from __future__ import annotations

import argparse
import sys

import torch

from benchmarks._common import machine, matmul_ceiling_gflops, median_time, table
from core.config import parse_size
from core.flops import count_gflops, count_params
from core.models.registry import create_model, list_models, model_info


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", default="360x480")
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--channels-last", action="store_true")
    args = ap.parse_args()
    h, w = parse_size(args.size)
    ceiling = matmul_ceiling_gflops()
    rows = []
    for arch in list_models():
        info = model_info(arch)
        model = create_model(arch, 11).eval()
        g = count_gflops(model, (h, w))
        x = torch.randn(1, 3, h, w)
        if args.channels_last:
            model, x = model.to(memory_format=torch.channels_last), x.contiguous(memory_format=torch.channels_last)

        def run():
            with torch.inference_mode():
                model(x)

        t = median_time(run, args.reps)
        rows.append([arch, info.default_encoder, f"{g:.1f}", f"{count_params(model) / 1e6:.2f}",
                     f"{t * 1000:.0f}", f"{1 / t:.2f}", f"{g / t:.1f}", f"{100 * g / t / ceiling:.0f}%"])
        print(f"  {arch} done", file=sys.stderr)
    print(f"machine: {machine()}; fp32 matmul ceiling {ceiling:.0f} GFLOP/s")
    print(f"input {h}x{w}, batch 1, fp32{' channels_last' if args.channels_last else ''}, median of {args.reps}\n")
    print(table(["arch", "encoder", "GFLOPs", "params M", "latency ms", "img/s", "GFLOP/s", "of ceiling"], rows))


if __name__ == "__main__":
    main()
