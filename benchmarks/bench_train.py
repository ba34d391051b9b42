"""Training throughput: our Trainer against the plain PyTorch loop a user would write over the same
segmentation_models_pytorch model (same architecture, encoder, input, batch, optimizer, threads).

Two comparisons per model, measured side by side in one run:
  identical  — both fp32, NCHW, no caching tricks on our side beyond what the Trainer always does
  defaults   — our TrainConfig defaults against the plain loop's defaults
Throughput is steady-state wall-clock images/s over the timed steps (data loading included), the
median over repetitions. FLOPs come from core.flops (forward) x3 for forward+backward.

    .venv/bin/python -m benchmarks.bench_train [--models segformer:resnet18,unet:resnet18,deeplabv3:resnet50]
                                               [--steps 6] [--warmup 2] [--reps 2] [--size 360x480]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import segmentation_models_pytorch as smp
import torch
import torch.nn.functional as F

from benchmarks._common import CAMVID, machine, matmul_ceiling_gflops, table, trainer_steps_per_s
from core.config import TrainConfig, parse_size
from core.flops import count_gflops
from core.models.registry import create_model

SMP_CLASSES = {"segformer": smp.Segformer, "unet": smp.Unet, "deeplabv3": smp.DeepLabV3,
               "deeplabv3plus": smp.DeepLabV3Plus, "fpn": smp.FPN}


class PlainCamVid(torch.utils.data.Dataset):
    """What a user writes: read with OpenCV each time, resize, normalise."""

    def __init__(self, root: Path, size):
        self.images = sorted((root / "train").glob("*.png"))
        self.size = size

    def __len__(self):
        return len(self.images)

    def __getitem__(self, i):
        img = cv2.cvtColor(cv2.imread(str(self.images[i])), cv2.COLOR_BGR2RGB)
        mask = cv2.imread(str(self.images[i].parent.parent / "trainannot" / self.images[i].name), 0)
        h, w = self.size
        img = cv2.resize(img, (w, h), interpolation=cv2.INTER_LINEAR)
        mask = cv2.resize(mask, (w, h), interpolation=cv2.INTER_NEAREST)
        mask = np.where(mask == 11, 255, mask)
        x = (img.astype(np.float32) / 255 - (0.485, 0.456, 0.406)) / (0.229, 0.224, 0.225)
        return torch.from_numpy(x.transpose(2, 0, 1)).float(), torch.from_numpy(mask).long()


def plain_loop(arch, encoder, size, batch, steps, warmup, channels_last=False) -> float:
    torch.manual_seed(0)
    model = SMP_CLASSES[arch](encoder_name=encoder, encoder_weights=None, classes=11)
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    crit = torch.nn.CrossEntropyLoss(ignore_index=255)
    loader = torch.utils.data.DataLoader(PlainCamVid(CAMVID, size), batch_size=batch, shuffle=True, drop_last=True)
    h, w = size
    ph, pw = -h % 32, -w % 32  # SMP models need sides divisible by 32: pad, then crop
    model.train()
    times = []
    for i, (x, y) in enumerate(loader):
        if channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        out = model(F.pad(x, (0, pw, 0, ph)))[:, :, :h, :w]
        loss = crit(out, y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        times.append(time.perf_counter())
        if i + 1 >= warmup + steps:
            break
    return batch * steps / (times[-1] - times[warmup - 1])


def ours(arch, encoder, size, batch, steps, warmup, **overrides) -> float:
    cfg = TrainConfig(data=str(CAMVID), arch=arch, encoder=encoder, loss="ce", optimizer="adam", lr=1e-3,
                      weight_decay=0.0, schedule="constant", epochs=1, batch_size=batch, image_size=size,
                      augment="none", device="cpu", out="unused", **overrides)
    return batch * trainer_steps_per_s(cfg, steps, warmup)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--models", default="segformer:resnet18,unet:resnet18,deeplabv3:resnet50")
    ap.add_argument("--size", default="360x480")
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--steps", type=int, default=6)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--reps", type=int, default=2)
    args = ap.parse_args()
    size = parse_size(args.size)
    ceiling = matmul_ceiling_gflops()
    defaults = TrainConfig()
    rows = []
    for spec in args.models.split(","):
        arch, encoder = spec.split(":")
        gflops = count_gflops(create_model(arch, 11, encoder=encoder), size)
        runs = {
            "plain fp32 (user default)": lambda: plain_loop(arch, encoder, size, args.batch, args.steps, args.warmup),
            "ours, identical (fp32, NCHW)": lambda: ours(arch, encoder, size, args.batch, args.steps, args.warmup,
                                                         precision="fp32", channels_last=False),
            "ours, defaults": lambda: ours(arch, encoder, size, args.batch, args.steps, args.warmup,
                                           precision=defaults.precision, channels_last=defaults.channels_last),
        }
        results = {k: [] for k in runs}
        for _ in range(args.reps):  # interleaved, so load changes hit every variant alike
            for k, fn in runs.items():
                results[k].append(fn())
                print(f"  {spec} {k}: {results[k][-1]:.2f} img/s", file=sys.stderr)
        med = {k: statistics.median(v) for k, v in results.items()}
        base = med["plain fp32 (user default)"]
        for k, v in med.items():
            rate = 3 * gflops * v  # forward + backward ~ 3x forward FLOPs
            rows.append([spec, k, f"{v:.2f}", f"{v / base:.2f}x", f"{rate:.1f}", f"{100 * rate / ceiling:.0f}%"])
    print(f"machine: {machine()}; fp32 matmul ceiling {ceiling:.0f} GFLOP/s")
    print(f"CamVid train, {size[0]}x{size[1]}, batch {args.batch}, Adam, CE; {args.steps} timed steps after "
          f"{args.warmup} warm-up, median of {args.reps} interleaved repetitions\n")
    print(table(["model", "variant", "img/s", "vs plain", "GFLOP/s (3x fwd)", "of ceiling"], rows))


if __name__ == "__main__":
    main()
