"""Training speed against a plain PyTorch loop, on whatever device is present, side by side in one run.

Whole jobs, each a fresh process timed from its start to its exit (imports, data, model, training,
validation, files), and the training rate inside it (images over the training wall time, data
waits included):
  plain        the loop a user writes over SMP UNet-ResNet18 (fp32; OpenCV per sample, DataLoader)
  plain --amp  the same with bf16 autocast + channels_last + pinned memory (a savvy user)
  roadseg      `roadseg train` with the same model, input, batch, loss and optimizer, no
               augmentation, no class weights (its defaults: bf16 + channels_last where they pay)
  ddrnet       `roadseg train --preset camvid-gpu` (the real-time recipe) for the same epochs
  compile      the `--amp` loop written here with `torch.compile(model)`, and the same without it:
               whether compiling pays for this model on the device at hand (the engine offers no
               compile option while that is unmeasured on a GPU; on a CPU it ran at 0.93x)
On CUDA the peer is the plain loop of `.gpu/plain_loop.py` when present (the canonical one),
else the same loop written here. `--proxy` adds the CPU proxies of per-step overhead: steps/s of
the camvid-fast model + loss at 64x64, batch 4, over random tensors (plain) vs `roadseg train`,
and the whole job for one epoch of 8 images.

    python -m benchmarks.bench_gpu --data .gpu/data --epochs 2                 # on a GPU machine
    python -m benchmarks.bench_gpu --data DIR --size 64x64 --epochs 1 --proxy   # on a 2-core CPU
`--data` is a `folder` dataset (images/<split>/*.jpg|png, masks/<split>/*.png); without it a
temporary one is made from CamVid beside the repo (JPEG images, like the GPU machine's copy).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks._common import CAMVID, machine, table, trainer_steps_per_s

ROOT = Path(__file__).resolve().parents[1]


def folder_from_camvid(out: Path, limit: int | None = None) -> Path:
    """CamVid as a `folder` dataset of JPEG images and PNG masks (void 11 -> kept as 11)."""
    import cv2

    for split in ("train", "val"):
        (out / "images" / split).mkdir(parents=True, exist_ok=True)
        (out / "masks" / split).mkdir(parents=True, exist_ok=True)
        for p in sorted((CAMVID / split).glob("*.png"))[:limit]:
            cv2.imwrite(str(out / "images" / split / f"{p.stem}.jpg"), cv2.imread(str(p)),
                        [cv2.IMWRITE_JPEG_QUALITY, 92])
            mask = cv2.imread(str(CAMVID / f"{split}annot" / p.name), cv2.IMREAD_UNCHANGED)
            cv2.imwrite(str(out / "masks" / split / p.name), mask)
    return out


PLAIN = r'''
import glob, os, sys, time
t0 = time.time()
import cv2, numpy as np, torch, segmentation_models_pytorch as smp
data, size, batch, epochs, workers, amp, dev = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), sys.argv[6] == "1", sys.argv[7]
compiled = len(sys.argv) > 8 and sys.argv[8] == "1"
H, W = map(int, size.split("x"))
class DS(torch.utils.data.Dataset):
    def __init__(s, split): s.imgs = sorted(glob.glob(f"{data}/images/{split}/*")); s.split = split
    def __len__(s): return len(s.imgs)
    def __getitem__(s, i):
        p = s.imgs[i]; m = cv2.imread(f"{data}/masks/{s.split}/" + os.path.splitext(os.path.basename(p))[0] + ".png", cv2.IMREAD_UNCHANGED)
        x = cv2.cvtColor(cv2.imread(p), cv2.COLOR_BGR2RGB)
        x = cv2.resize(x, (W, H), interpolation=cv2.INTER_LINEAR); m = cv2.resize(m, (W, H), interpolation=cv2.INTER_NEAREST)
        x = (x.astype(np.float32) / 255 - 0.45) / 0.25
        return torch.from_numpy(x.transpose(2, 0, 1).copy()), torch.from_numpy(m.astype(np.int64))
model = smp.Unet(encoder_name="resnet18", encoder_weights=None, classes=11).to(dev)
if amp: model = model.to(memory_format=torch.channels_last)
net = torch.compile(model) if compiled else model
opt = torch.optim.Adam(model.parameters(), 1e-3); lossf = torch.nn.CrossEntropyLoss(ignore_index=11)
kw = dict(num_workers=workers, persistent_workers=False) if workers else {}
tr = torch.utils.data.DataLoader(DS("train"), batch_size=batch, shuffle=True, drop_last=True, pin_memory=amp and dev == "cuda", **kw)
va = torch.utils.data.DataLoader(DS("val"), batch_size=batch, **kw)
n = 0; t1 = time.time(); first = None; n1 = 0
for ep in range(epochs):
    model.train()
    for x, y in tr:
        x, y = x.to(dev, non_blocking=True), y.to(dev, non_blocking=True)
        if amp: x = x.to(memory_format=torch.channels_last)
        opt.zero_grad()
        with torch.autocast(dev, dtype=torch.bfloat16, enabled=amp):
            loss = lossf(net(x), y)
        loss.backward(); opt.step(); n += x.shape[0]
        if first is None:  # the first step (warm-up, or compiling) apart: steady_images_per_s
            if dev == "cuda": torch.cuda.synchronize()
            first, n1, t_first = time.time() - t1, n, time.time()
if dev == "cuda": torch.cuda.synchronize()
t2 = time.time(); cm = torch.zeros(11, 11, dtype=torch.int64, device=dev); model.eval()
with torch.no_grad():
    for x, y in va:
        x, y = x.to(dev), y.to(dev); p = model(x).argmax(1); k = y < 11
        cm += torch.bincount(y[k] * 11 + p[k], minlength=121).reshape(11, 11)
print(f"train_images_per_s={n / (t2 - t1):.2f} steady_images_per_s={(n - n1) / max(t2 - t_first, 1e-9):.2f} "
      f"first_step_s={first:.2f}", flush=True)
'''


def run_job(argv: list[str], env: dict) -> tuple[float, str]:
    """Wall seconds of a whole process, and its output."""
    t = time.perf_counter()
    done = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - t
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv[:6])}... failed:\n{done.stderr[-3000:]}")
    return seconds, done.stdout


def plain(args, env, amp: bool, compiled: bool | None = None) -> tuple[float, float]:
    """(images/s, whole-job s); `compiled` (True/False) runs the loop written here, with or
    without torch.compile, even where the canonical peer exists."""
    peer = ROOT / ".gpu" / "plain_loop.py"
    if args.device == "cuda" and peer.exists() and compiled is None:
        argv = [sys.executable, str(peer), "--data", args.data, "--size", args.size, "--batch", str(args.batch),
                "--epochs", str(args.epochs), "--workers", str(args.workers)] + (["--amp"] if amp else [])
    else:
        argv = [sys.executable, "-c", PLAIN, args.data, args.size, str(args.batch), str(args.epochs),
                str(args.workers), "1" if amp else "0", args.device, "1" if compiled else "0"]
    seconds, out = run_job(argv, env)
    key = "train_images_per_s=" if compiled is None else "steady_images_per_s="  # compiling: after step 1
    rate = float(out.split(key)[1].split()[0])
    if compiled is not None:
        print(f"  first step {out.split('first_step_s=')[1].split()[0]} s", file=sys.stderr)
    return rate, seconds


def roadseg(args, env, extra: list[str]) -> tuple[float, float, dict]:
    with tempfile.TemporaryDirectory() as tmp:
        argv = [sys.executable, "-m", "core.cli", "train", "--data", args.data, "--format", "folder",
                "--epochs", str(args.epochs), "--device", args.device, "--out", tmp, *extra]
        seconds, _ = run_job(argv, env)
        summary = json.loads((Path(tmp) / "summary.json").read_text())
        images = summary["images_per_s"] * summary["train_seconds"]
        return images / summary["phases"]["training"], seconds, summary["phases"]


def proxy_steps(threads: int, reps: int, steps: int = 40, warmup: int = 5) -> tuple[float, float]:
    """Median steps/s of the camvid-fast model + loss at 64x64, batch 4: a plain loop over random
    tensors against `roadseg train` on 64x64 CamVid images (no augmentation), interleaved."""
    import torch

    from core.config import TrainConfig
    from core.device import autocast_dtype, resolve_precision, use_channels_last
    from core.engine.setup import build_model
    from core.losses import AuxLoss, create_loss
    from core.presets import load_preset

    torch.set_num_threads(threads)
    preset = {k: v for k, v in load_preset("camvid-fast").items() if k not in ("name", "time_budget")}
    cfg = TrainConfig(**{**preset, "data": str(CAMVID), "image_size": (64, 64), "crop_size": None, "batch_size": 4,
                         "augment": "none", "rare_crop": 0.0, "class_weights": "none", "epochs": 1})
    precision = resolve_precision(cfg.precision, torch.device("cpu"))
    cl = use_channels_last(cfg.channels_last, torch.device("cpu"), precision)

    def plain() -> float:
        torch.manual_seed(0)
        model = build_model(cfg, 11)
        if cl:
            model = model.to(memory_format=torch.channels_last)
        loss_fn = AuxLoss.wrap(create_loss(cfg.loss, 11), model)
        opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
        x = torch.randn(4, 3, 64, 64)
        x = x.contiguous(memory_format=torch.channels_last) if cl else x
        y = torch.randint(0, 11, (4, 64, 64))
        model.train()
        stamps = []
        for _ in range(warmup + steps):
            with torch.autocast("cpu", dtype=autocast_dtype(precision), enabled=precision != "fp32"):
                loss = loss_fn(model(x), y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            float(loss.detach())  # the host read a plain loop makes each step
            stamps.append(time.perf_counter())
        return steps / (stamps[-1] - stamps[warmup - 1])

    def ours() -> float:
        return trainer_steps_per_s(cfg.replace(device="cpu"), steps, warmup)

    rates: dict[str, list[float]] = {"plain": [], "ours": []}
    for _ in range(reps):
        rates["plain"].append(plain())
        rates["ours"].append(ours())
        print(f"  proxy: plain {rates['plain'][-1]:.1f}, roadseg {rates['ours'][-1]:.1f} steps/s", file=sys.stderr)
    return statistics.median(rates["plain"]), statistics.median(rates["ours"])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", help="folder dataset (default: a temporary JPEG copy of CamVid)")
    ap.add_argument("--device", default=None, help="cuda or cpu (default: cuda when present)")
    ap.add_argument("--size", default="352x480")
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--workers", type=int, default=None, help="plain loop's loader workers (8 on CUDA, 0 on CPU)")
    ap.add_argument("--limit", type=int, help="images per split of the temporary CamVid copy")
    ap.add_argument("--reps", type=int, default=1, help="interleaved repetitions (median)")
    ap.add_argument("--jobs", default="plain,plain-amp,roadseg,ddrnet",
                    help="any of plain, plain-amp, roadseg, ddrnet, eager, compile (the last two: "
                         "the --amp loop written here without and with torch.compile)")
    ap.add_argument("--proxy", action="store_true", help="also the CPU per-step overhead proxy")
    args = ap.parse_args()
    import torch

    args.device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    args.workers = args.workers if args.workers is not None else (8 if args.device == "cuda" else 0)
    threads = len(os.sched_getaffinity(0))
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": str(threads)}
    tmp = tempfile.TemporaryDirectory()
    if not args.data:
        args.data = str(folder_from_camvid(Path(tmp.name) / "camvid", args.limit))
    same = ["--arch", "unet", "--encoder", "resnet18", "--image-size", args.size, "--batch-size", str(args.batch),
            "--loss", "ce", "--optimizer", "adam", "--lr", "1e-3", "--weight-decay", "0", "--schedule", "constant",
            "--augment", "none", "--class-weights", "none"]
    jobs = {
        "plain (fp32)": lambda: (*plain(args, env, amp=False), None),
        "plain --amp (bf16, channels_last)": lambda: (*plain(args, env, amp=True), None),
        "roadseg train, same job": lambda: roadseg(args, env, same),
        "roadseg train --preset camvid-gpu": lambda: roadseg(
            args, env, ["--preset", "camvid-gpu", "--time-budget", "0"]
            + (["--batch-size", str(args.batch)] if args.limit else [])),  # a few images: the given batch
        "plain --amp, eager (this script's loop)": lambda: (*plain(args, env, amp=True, compiled=False), None),
        "plain --amp, torch.compile": lambda: (*plain(args, env, amp=True, compiled=True), None),
    }
    wanted = dict(zip(["plain", "plain-amp", "roadseg", "ddrnet", "eager", "compile"], jobs))
    jobs = {wanted[k]: jobs[wanted[k]] for k in args.jobs.split(",") if k}
    results: dict[str, list] = {k: [] for k in jobs}
    for _ in range(args.reps):  # interleaved, so a load change hits every job alike
        for name, fn in jobs.items():
            results[name].append(fn())
            print(f"  {name}: {results[name][-1][0]:.1f} img/s, job {results[name][-1][1]:.1f} s", file=sys.stderr)
    med = {k: (statistics.median(r[0] for r in v), statistics.median(r[1] for r in v), v[-1][2])
           for k, v in results.items()}
    ref = med.get("plain --amp (bf16, channels_last)")
    rows = []
    for name, (rate, seconds, phases) in med.items():
        rows.append([name, f"{rate:.1f}", f"{seconds:.1f}",
                     f"{rate / ref[0]:.2f}x" if ref else "", f"{ref[1] / seconds:.2f}x" if ref else "",
                     ", ".join(f"{k} {v:.1f}" for k, v in phases.items() if v >= 0.05) if phases else ""])
    print(f"machine: {machine()}; device {args.device}")
    print(f"data {args.data}; {args.size}, batch {args.batch}, {args.epochs} epochs, plain-loop workers "
          f"{args.workers}; median of {args.reps}\n")
    if rows:
        print(table(["job", "train img/s", "whole job s", "rate vs plain --amp", "job vs plain --amp",
                     "roadseg phases (s)"], rows))
    if args.proxy:
        plain_rate, ours_rate = proxy_steps(threads, max(args.reps, 3))
        print(f"\nper-step overhead (camvid-fast model + loss, 64x64, batch 4, no augmentation; 40 steps "
              f"after 5, median of {max(args.reps, 3)} interleaved):")
        print(table(["loop", "steps/s", "vs plain"], [["plain, random tensors", f"{plain_rate:.1f}", "1.00x"],
                                                     ["roadseg train", f"{ours_rate:.1f}",
                                                      f"{ours_rate / plain_rate:.2f}x"]]))
    tmp.cleanup()


if __name__ == "__main__":
    main()
