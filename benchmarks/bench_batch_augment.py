"""Today's per-sample albumentations path against the batched tensor path, side by side.

Per-sample: SegmentationDataset (cached, so warm) + DataLoader (workers 0), as
core.engine.setup.build_train_loader builds it. Batched: core.data.decoded.decode_split once,
then core.data.batch_loader.BatchLoader with core.data.batch_augment.BatchAugment on the same
device. Both are timed in alternating rounds (the median is reported), so a busy machine slows
both alike. Also: the decode pass (thread pool against a plain loop), the batched path's time
per stage, and kornia's AugmentationSequential on a similar `strong` pipeline when installed.

    .venv/bin/python -m benchmarks.bench_batch_augment [--batches 10] [--rounds 3] [--device cpu]
"""
from __future__ import annotations

import argparse
import os
import statistics
import time

import torch

from benchmarks._common import CAMVID, machine, table

from core.data.batch_augment import BatchAugment
from core.data.batch_loader import BatchLoader
from core.data.decoded import decode_split, decode_threads
from core.data.source import open_dataset
from core.data.stats import compute_stats
from core.data.torch_dataset import SegmentationDataset


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def rate(loader, batches: int, device: torch.device) -> float:
    """Images per second over `batches` batches (moved to `device`, as a training step does)."""
    it = iter(loader)
    next(it)  # first batch: generator and allocator set-up
    t, n = time.perf_counter(), 0
    for _ in range(batches):
        x, y = next(it)
        x, y = x.to(device, non_blocking=True), y.to(device, non_blocking=True)
        n += x.shape[0]
    _sync(device)
    return n / (time.perf_counter() - t)


def case(source, size, crop, preset, batch, rare, batches, rounds, device, decoded):
    ds = SegmentationDataset(source, "train", image_size=size, augment=preset, train=True, cache=True,
                             crop_size=crop, rare_crop=rare)
    for i in range(len(ds)):
        ds.load(i)  # warm the cache: both paths start from decoded pixels
    torch.manual_seed(0)
    today = torch.utils.data.DataLoader(ds, batch_size=batch, shuffle=True, drop_last=True,
                                        generator=torch.Generator().manual_seed(0))
    aug = BatchAugment(preset, size, crop_size=crop, rare_crop=rare)
    batched = BatchLoader(decoded, batch, aug, seed=0, device=device)
    a, b = [], []
    for _ in range(rounds):
        a.append(rate(today, batches, device))
        b.append(rate(batched, batches, device))
    return statistics.median(a), statistics.median(b), aug


def stages(aug: BatchAugment, decoded, batch: int, device: torch.device, reps: int) -> list[list]:
    """Median milliseconds of each stage of one BatchAugment call on a real batch."""
    images = decoded.images[:batch].to(device)
    masks = decoded.masks[:batch].to(device)
    g = torch.Generator(device=device).manual_seed(0)
    times: dict[str, list[float]] = {}

    def timed(name, fn):
        _sync(device)
        t = time.perf_counter()
        out = fn()
        _sync(device)
        times.setdefault(name, []).append((time.perf_counter() - t) * 1e3)
        return out

    from core.data.batch_augment import _DRAWS, warp
    for _ in range(reps + 1):
        u = timed("draws", lambda: torch.rand((batch, _DRAWS), generator=g, device=device, dtype=torch.float64))
        m = timed("matrices (+ rare pixel)", lambda u=u: aug._matrices(masks, u))
        x, _ = timed("warp (grid_sample x2)", lambda m=m: warp(images, masks, m, aug.out_size))
        x = timed("colour matrix", lambda x=x, u=u: aug._colour(x, u))
        if aug.recipe.blur_p > 0:
            x = timed("blur / noise", lambda x=x, u=u: aug._blur_noise(x, u, g))
        timed("normalise", lambda x=x: x.sub_(100.0).mul_(0.02))
        timed("whole call", lambda: aug(images, masks, g))
    return [[k, f"{statistics.median(v[1:]):.1f}"] for k, v in times.items()]


def kornia_rate(decoded, batch: int, crop, device, reps: int) -> float | None:
    try:
        import kornia.augmentation as K
    except ImportError:
        return None
    seq = K.AugmentationSequential(
        K.RandomAffine(degrees=10.0, scale=(0.5, 2.0), p=1.0),
        K.RandomCrop(crop, pad_if_needed=True),
        K.RandomHorizontalFlip(p=0.5),
        K.ColorJitter(0.3, 0.3, 0.3, 0.05, p=0.8),
        K.RandomGaussianBlur((5, 5), (0.5, 3.0), p=0.4 / 3),
        K.RandomMotionBlur(7, 35.0, 0.5, p=0.4 / 3),
        K.RandomGaussianNoise(std=0.05, p=0.4 / 3),
        data_keys=["input", "mask"])
    images = decoded.images[:batch].to(device)
    masks = decoded.masks[:batch].to(device)
    times = []
    for _ in range(reps + 1):
        _sync(device)
        t = time.perf_counter()
        seq(images.float() / 255.0, masks[:, None].float())
        _sync(device)
        times.append(time.perf_counter() - t)
    return batch / statistics.median(times[1:])


def decode_times(source, size, rounds: int) -> list[list]:
    """Seconds to decode the split: a plain loop against thread pools, alternating, after one
    untimed pass that brings the files into the page cache."""
    decode_split(source, "train", size)
    times: dict[int, list[float]] = {}
    for _ in range(rounds):
        for threads in sorted({1, 2, 4, decode_threads()}):
            t = time.perf_counter()
            decode_split(source, "train", size, threads=threads)
            times.setdefault(threads, []).append(time.perf_counter() - t)
    return [["decode CamVid train (367)", "loop" if k == 1 else f"{k} threads", f"{statistics.median(v):.2f} s"]
            for k, v in times.items()]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--batches", type=int, default=10)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    source = open_dataset(CAMVID)
    rare = (compute_stats(source, "train").rare_classes(), 0.5)
    print(f"machine: {machine()}; load average {' '.join(f'{v:.1f}' for v in os.getloadavg())}")
    with open("/proc/cpuinfo") as f:
        print(f"avx512_bf16: {'yes' if 'avx512_bf16' in f.read() else 'no'}")

    rows = decode_times(source, (360, 480), rounds=2)
    print(table(["pass", "how", "time"], rows), "\n")

    big = decode_split(source, "train", (360, 480), device=device)
    a, b, aug = case(source, (360, 480), (240, 320), "strong", 8, rare, args.batches, args.rounds, device, big)
    small = decode_split(source, "train", (64, 64), device=device)
    c, d, _ = case(source, (64, 64), None, "none", 4, None, args.batches, args.rounds, device, small)
    rows = [["strong, 360x480 -> crop 240x320, rare_crop 0.5, batch 8", f"{a:.1f}", f"{b:.1f}", f"{b / a:.2f}x"],
            ["none, 64x64, batch 4", f"{c:.1f}", f"{d:.1f}", f"{d / c:.2f}x"]]
    print(f"CamVid train, {args.batches} batches x {args.rounds} alternating rounds (median), "
          f"device {device}, torch threads {torch.get_num_threads()}")
    print(table(["case", "albumentations + DataLoader img/s", "batched img/s", "batched / today"], rows), "\n")
    print("batched strong call, per stage (ms, median):")
    print(table(["stage", "ms"], stages(aug, big, 8, device, reps=5)), "\n")
    k = kornia_rate(big, 8, (240, 320), device, reps=5)
    if k is not None:
        print(f"kornia AugmentationSequential, similar strong pipeline, batch 8: {k:.1f} img/s "
              f"(batched call alone: {8 / (float(stages(aug, big, 8, device, 3)[-1][1]) / 1e3):.1f} img/s)")


if __name__ == "__main__":
    main()
