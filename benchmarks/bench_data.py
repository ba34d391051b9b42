"""Data pipeline (decode + augment + collate) throughput against the rate training consumes images.

The loader runs exactly as the Trainer builds it (core.engine.setup.build_train_loader) with the
default number of workers; consumption is a unet/resnet18 training step on tensors already in
memory. Cold = first pass (PNG decode + resize), warm = later passes (decoded pairs cached).

    .venv/bin/python -m benchmarks.bench_data [--size 360x480] [--batches 20]
"""
from __future__ import annotations

import argparse
import time

import torch

from benchmarks._common import CAMVID, machine, table
from core.config import TrainConfig, parse_size
from core.data.source import open_dataset
from core.engine.setup import build_train_loader
from core.models.registry import create_model


def loader_rate(cfg: TrainConfig, batches: int) -> tuple[float, float]:
    loader = build_train_loader(cfg, open_dataset(cfg.data), torch.Generator().manual_seed(0))
    rates = []
    for _ in range(2):  # cold pass, then warm pass over the same images
        t = time.perf_counter()
        n = 0
        for i, (x, _) in enumerate(loader):
            n += x.shape[0]
            if i + 1 >= batches:
                break
        rates.append(n / (time.perf_counter() - t))
        loader.dataset.samples = loader.dataset.samples  # same subset both passes
    return rates[0], rates[1]


def consumption_rate(size, batch: int, steps: int = 4) -> float:
    model = create_model("unet", 11, encoder="resnet18").train()
    opt = torch.optim.Adam(model.parameters())
    x, y = torch.randn(batch, 3, *size), torch.randint(0, 11, (batch, *size))
    for i in range(steps + 1):
        if i == 1:
            t = time.perf_counter()
        loss = torch.nn.functional.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return batch * steps / (time.perf_counter() - t)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", default="360x480")
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--batches", type=int, default=20)
    args = ap.parse_args()
    size = parse_size(args.size)
    consume = consumption_rate(size, args.batch)
    rows = []
    default_workers = TrainConfig().workers
    for preset in ("none", "light", "strong"):
        cfg = TrainConfig(data=str(CAMVID), image_size=size, batch_size=args.batch, augment=preset,
                          workers=default_workers, out="unused")
        cold, warm = loader_rate(cfg, args.batches)
        rows.append([preset, default_workers, f"{cold:.1f}", f"{warm:.1f}", f"{cold / consume:.1f}x",
                     f"{warm / consume:.1f}x"])
    print(f"machine: {machine()}")
    print(f"CamVid train at {size[0]}x{size[1]}, batch {args.batch}, {args.batches} batches per pass; "
          f"training consumes {consume:.2f} img/s (unet/resnet18, fp32)\n")
    print(table(["augment", "workers", "cold img/s", "warm img/s", "cold vs consumption",
                 "warm vs consumption"], rows))


if __name__ == "__main__":
    main()
