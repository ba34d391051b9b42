"""Data larger than memory: peak host memory of training and evaluation at Cityscapes' full
resolution against the dataset's length, the memory plan's choice under a memory limit, decode
throughput per core, and what streaming costs on data that fits.

The dataset is Cityscapes' real layout (leftImg8bit/ + gtFine/ labelIds) at 1024x2048, made from
`--frames` CamVid frames (upscaled; CamVid classes mapped to their Cityscapes labelIds) or from
the synthetic generator without CamVid, replicated by hard links to N images per split: every
frame is read and decoded from its own path, the disk holds the unique frames once. Each
measurement runs in its own process (peak RSS, VmHWM, is per process); `--cgroup-limit` also
runs one inside a memory cgroup (cgroup v1 or v2, needs root), as a machine with less free RAM.

    python -m benchmarks.bench_data_scale --out /tmp/cityscale --n 100 --jobs train,eval,issues
    python -m benchmarks.bench_data_scale --out /tmp/cityscale --n 400 --jobs limit --cgroup-limit 3G
    python -m benchmarks.bench_data_scale --out /tmp/cityscale --n 40 --jobs torchrun
    python -m benchmarks.bench_data_scale --jobs decode
    python -m benchmarks.bench_data_scale --jobs camvid --steps 30
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np

from benchmarks._common import CAMVID, machine, table

SIZE = (1024, 2048)
# CamVid id -> Cityscapes labelId (sky, building, pole, road, sidewalk, vegetation, traffic sign,
# fence, car, person, bicycle); void -> 0 (unlabeled)
CAMVID_TO_LABEL_ID = np.array([23, 11, 17, 7, 8, 21, 20, 13, 26, 24, 33] + [0] * 245, np.uint8)


# --- the dataset ------------------------------------------------------------------------------
def unique_frames(count: int, seed: int = 0) -> list[tuple[np.ndarray, np.ndarray]]:
    """`count` (RGB, labelIds) pairs at SIZE: CamVid frames when present, else synthetic ones."""
    pairs = []
    if (CAMVID / "train").is_dir():
        names = sorted((CAMVID / "train").glob("*.png"))[:count]
        for path in names:
            image = cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB)
            mask = cv2.imread(str(CAMVID / "trainannot" / path.name), cv2.IMREAD_UNCHANGED)
            pairs.append((cv2.resize(image, SIZE[::-1], interpolation=cv2.INTER_LINEAR),
                          CAMVID_TO_LABEL_ID[cv2.resize(mask, SIZE[::-1], interpolation=cv2.INTER_NEAREST)]))
    else:
        from core.data.synth import render_scene

        rng = np.random.default_rng(seed)
        for _ in range(count):
            image, mask = render_scene(rng, (360, 480))
            pairs.append((cv2.resize(image, SIZE[::-1], interpolation=cv2.INTER_LINEAR),
                          CAMVID_TO_LABEL_ID[cv2.resize(mask, SIZE[::-1], interpolation=cv2.INTER_NEAREST)]))
    return pairs


def make_dataset(root: Path, n_train: int, n_val: int, frames: int) -> Path:
    """Cityscapes layout with `n_train` / `n_val` images linked to `frames` unique ones."""
    root = Path(root)
    marker = root / f".made-{n_train}-{n_val}-{frames}"
    if marker.is_file():
        return root
    store = root.parent / f"{root.name}-frames-{frames}"
    if not (store / "done").is_file():
        store.mkdir(parents=True, exist_ok=True)
        for i, (image, mask) in enumerate(unique_frames(frames)):
            cv2.imwrite(str(store / f"{i:04d}.png"), cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
            cv2.imwrite(str(store / f"{i:04d}_mask.png"), mask)
        (store / "done").write_text("")
    for split, count in (("train", n_train), ("val", n_val)):
        img_dir = root / "leftImg8bit" / split / "bench"
        gt_dir = root / "gtFine" / split / "bench"
        for d in (img_dir, gt_dir):
            d.mkdir(parents=True, exist_ok=True)
            for old in d.iterdir():
                old.unlink()
        for i in range(count):
            base = f"bench_{i:06d}_000019"
            os.link(store / f"{i % frames:04d}.png", img_dir / f"{base}_leftImg8bit.png")
            os.link(store / f"{i % frames:04d}_mask.png", gt_dir / f"{base}_gtFine_labelIds.png")
    for old in root.glob(".made-*"):
        old.unlink()
    marker.write_text("")
    return root


# --- children: one measurement per process ---------------------------------------------------
def peak_rss() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return 0


def child_train(args) -> dict:
    import tempfile

    import torch

    from core.config import TrainConfig
    from core.engine.events import RunStarted, StepDone
    from core.engine.trainer import Trainer

    torch.set_num_threads(len(os.sched_getaffinity(0)))
    t0 = time.perf_counter()
    stamps, plan = [], []
    with tempfile.TemporaryDirectory() as tmp:
        cfg = TrainConfig(data=args.data, arch=args.arch, image_size=args.image_size, crop_size=args.crop_size,
                          batch_size=args.batch, epochs=1, augment="light", data_path=args.data_path,
                          device="cpu", out=tmp, seed=0)
        trainer = Trainer(cfg)

        def on(ev):
            if isinstance(ev, RunStarted):
                plan.append(ev.data_plan)
            if isinstance(ev, StepDone):
                stamps.append(time.perf_counter() - t0)
                if len(stamps) >= args.steps:
                    trainer.cancel()
        trainer.add_listener(on)
        trainer.run()
    return {"peak_rss": peak_rss(), "first_step_s": stamps[0] if stamps else None,
            "last_step_s": stamps[-1] if stamps else None, "steps": len(stamps), "plan": plan[0] if plan else ""}


def child_eval(args) -> dict:
    import torch

    from core.config import TrainConfig
    from core.data.source import open_dataset
    from core.evaluate import Predictor, evaluate_model
    from core.models.configured import build_from_config

    torch.set_num_threads(len(os.sched_getaffinity(0)))
    source = open_dataset(args.data)
    cfg = TrainConfig(arch=args.arch, image_size=args.image_size)
    model = build_from_config(cfg, source.schema.num_classes, load_pretrained=False)
    predictor = Predictor(model, source.schema, args.image_size, "cpu", "auto" if False else "fp32", cfg)
    t0 = time.perf_counter()
    res = evaluate_model(predictor, source, "val", batch_size=2)
    return {"peak_rss": peak_rss(), "seconds": time.perf_counter() - t0, "images": len(res.names)}


def child_issues(args) -> dict:
    import torch

    from core.config import TrainConfig
    from core.data.source import open_dataset
    from core.evaluate import Predictor
    from core.labeling.label_issues import score_label_issues
    from core.models.configured import build_from_config

    torch.set_num_threads(len(os.sched_getaffinity(0)))
    source = open_dataset(args.data)
    cfg = TrainConfig(arch=args.arch, image_size=args.image_size)
    model = build_from_config(cfg, source.schema.num_classes, load_pretrained=False)
    predictor = Predictor(model, source.schema, args.image_size, "cpu", "fp32", cfg)
    t0 = time.perf_counter()
    report = score_label_issues(source.samples("val"),
                                lambda s: predictor.predict(source.read_image(s), with_probs=True).probs,
                                source.read_mask, source.schema.num_classes)
    return {"peak_rss": peak_rss(), "seconds": time.perf_counter() - t0, "images": len(report.images)}


def run_child(kind: str, extra: list[str], cgroup: str | None = None) -> dict:
    cmd = [sys.executable, "-m", "benchmarks.bench_data_scale", "--child", kind, *extra]
    pre = None
    if cgroup is not None:
        def pre():  # join the limited cgroup before exec, so the whole child is inside it
            Path(cgroup, "cgroup.procs").write_text(str(os.getpid()))
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, preexec_fn=pre)
    wall = time.perf_counter() - t0
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
    if proc.returncode != 0 or not lines:
        tail = (proc.stderr.strip().splitlines() or ["(no output)"])[-1]
        return {"failed": f"exit {proc.returncode}: {tail}", "wall_s": wall}
    return {**json.loads(lines[-1][7:]), "wall_s": wall}


def make_cgroup(limit: str) -> str:
    """A child memory cgroup with `limit` (e.g. 3G) under this process's; its folder."""
    name = f"roadseg-bench-{os.getpid()}"
    v2 = Path("/sys/fs/cgroup/cgroup.controllers")
    if v2.is_file():
        folder = Path("/sys/fs/cgroup") / name
        folder.mkdir(exist_ok=True)
        (folder / "memory.max").write_text(str(parse_bytes(limit)))
        (folder / "memory.swap.max").write_text("0")
    else:
        folder = Path("/sys/fs/cgroup/memory") / name
        folder.mkdir(exist_ok=True)
        (folder / "memory.limit_in_bytes").write_text(str(parse_bytes(limit)))
    return str(folder)


def parse_bytes(text: str) -> int:
    units = {"K": 2**10, "M": 2**20, "G": 2**30}
    return int(float(text[:-1]) * units[text[-1].upper()]) if text[-1].upper() in units else int(text)


def gb(n) -> str:
    return f"{n / 1e9:.2f} GB" if n else "-"


# --- jobs ------------------------------------------------------------------------------------
def job_train(args) -> None:
    rows = []
    for n in (args.n, 4 * args.n):
        data = make_dataset(Path(args.out) / "city", n, args.val, args.frames)
        for path in args.paths.split(","):
            if path == "memory" and n * 4 * SIZE[0] * SIZE[1] > 0.4 * _available():
                rows.append([n, path, "-", "skipped: would not fit", "-"])
                continue
            r = run_child("train", ["--data", str(data), "--data-path", path, "--steps", str(args.steps),
                                    "--image-size", args.size, "--crop-size", args.crop, "--batch", str(args.batch),
                                    "--arch", args.arch])
            rows.append([n, path, gb(r.get("peak_rss")), r.get("failed") or r["plan"].split(" (")[0],
                         f"{r['last_step_s']:.0f} s" if r.get("last_step_s") else "-"])
    print(f"\ntrain {args.arch}, {args.size} images, {args.crop} crops, batch {args.batch}, stopped after "
          f"{args.steps} steps; peak RSS of the process\n")
    print(table(["train images", "--data-path", "peak RSS", "plan", f"time to step {args.steps}"], rows))


def job_eval(args, kind: str = "eval") -> None:
    """Peak memory of scoring the val split at full size (`kind` eval or issues) at N and 4N images."""
    rows = []
    for n in (args.val, 4 * args.val):
        data = make_dataset(Path(args.out) / "city-eval", 8, n, args.frames)
        r = run_child(kind, ["--data", str(data), "--image-size", args.size, "--arch", args.arch])
        rows.append([n, gb(r.get("peak_rss")), r.get("failed") or f"{r['seconds']:.0f} s"])
    what = {"eval": "evaluate_model", "issues": "label-issue scoring (random weights: the model doubts most "
                                                "pixels, the most the finder ever keeps)"}[kind]
    print(f"\n{what}, {args.arch} at {args.size}, over the val split at full size\n")
    print(table(["val images", "peak RSS", "time"], rows))


def cgroup_memory(cmd: list[str], env: dict) -> tuple[int, int]:
    """(anonymous + shared memory of a new memory cgroup that `cmd` and its children run in, when
    the run prints its data line (the data decoded, training about to start); the peak of the
    same over the run, sampled every 20 ms). Page cache is left out and shared memory counted
    once however many processes map it, as the machine holds it. Needs root (cgroup v1 or v2)."""
    import threading

    folder = Path(make_cgroup("64G"))
    stat = folder / "memory.stat"
    keys = ("rss", "shmem") if not (folder / "memory.max").exists() else ("anon", "shmem")

    def used() -> int:
        try:
            values = dict(ln.split() for ln in stat.read_text().splitlines())
        except OSError:
            return 0
        return sum(int(values.get(k, 0)) for k in keys)

    peak, at_start = [0], [0]
    done = threading.Event()

    def sample():
        while not done.is_set():
            peak[0] = max(peak[0], used())
            time.sleep(0.02)
    t = threading.Thread(target=sample, daemon=True)
    t.start()
    try:
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                                preexec_fn=lambda: Path(folder, "cgroup.procs").write_text(str(os.getpid())))
        for line in proc.stdout:
            if line.startswith("data:") and not at_start[0]:
                at_start[0] = used()
        rc = proc.wait()
    finally:
        done.set()
        t.join()
        time.sleep(0.2)
        try:
            os.rmdir(folder)
        except OSError:
            pass
    if rc != 0:
        raise SystemExit(f"{' '.join(cmd)} failed with exit code {rc}")
    return at_start[0], peak[0]


def job_torchrun(args) -> None:
    """Machine memory of a one-epoch in-memory run, 1 process vs torchrun with 2, at N and 4N
    images: the growth from N to 4N is the data's share of the machine."""
    import tempfile

    rows = {}
    for n in (args.n, 4 * args.n):
        data = make_dataset(Path(args.out) / "city", n, 4, args.frames)
        for procs in (1, 2):
            with tempfile.TemporaryDirectory() as tmp:
                train = ["train", "--data", str(data), "--arch", "baseline", "--image-size", args.size,
                         "--crop-size", "256x256", "--batch-size", "2", "--epochs", "1", "--augment", "none",
                         "--data-path", "memory", "--device", "cpu", "--out", f"{tmp}/run"]
                if procs == 1:
                    cmd = [sys.executable, "-m", "core.cli", *train]
                else:
                    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node",
                           str(procs), "-m", "core.cli", *train]
                env = dict(os.environ, OMP_NUM_THREADS=str(max(1, 2 // procs)))
                rows[(n, procs)] = cgroup_memory(cmd, env)
    out = []
    for procs in (1, 2):
        (sa, pa), (sb, pb) = rows[(args.n, procs)], rows[(4 * args.n, procs)]
        out.append([procs, f"{gb(sa)} ({gb(pa)})", f"{gb(sb)} ({gb(pb)})", f"{gb(sb - sa)} ({gb(pb - pa)})",
                    gb(3 * args.n * 4 * SIZE[0] * SIZE[1])])
    print(f"\none epoch, baseline CNN, {args.size} images in memory (--data-path memory), 256x256 crops: "
          "anonymous + shared memory of the job's memory cgroup when training starts (peak over the "
          "run); page cache left out, shared memory counted once\n")
    print(table(["processes", f"{args.n} images", f"{4 * args.n} images", "growth (the data)",
                 "3N decoded pairs"], out))


def job_limit(args) -> None:
    data = make_dataset(Path(args.out) / "city", args.n, args.val, args.frames)
    group = make_cgroup(args.cgroup_limit)
    rows = []
    try:
        for path in ("memory", "auto"):
            r = run_child("train", ["--data", str(data), "--data-path", path, "--steps", str(args.steps),
                                    "--image-size", args.size, "--crop-size", args.crop, "--batch", str(args.batch),
                                    "--arch", args.arch], cgroup=group)
            rows.append([args.n, path, gb(r.get("peak_rss")), r.get("failed") or r["plan"], f"{r['wall_s']:.0f} s"])
    finally:
        try:
            os.rmdir(group)
        except OSError:
            pass
    print(f"\n{args.n} train images at {args.size} inside a memory cgroup of {args.cgroup_limit}\n")
    print(table(["train images", "--data-path", "peak RSS", "outcome", "wall"], rows))


def job_decode(args) -> None:
    """Pairs per second per core: decode_into (read, decode, resize, copy) on one thread."""
    import torch

    from core.data.decoded import decode_into
    from core.data.formats import apply_lut
    from core.data.source import open_dataset

    data = make_dataset(Path(args.out) / "city-decode", 8, 2, 8)
    source = open_dataset(data)
    samples = source.samples("train")
    jpeg_dir = Path(args.out) / "jpeg"
    jpeg_dir.mkdir(parents=True, exist_ok=True)
    jpegs = []
    for s in samples:
        path = jpeg_dir / f"{s.name}.jpg"
        if not path.is_file():
            cv2.imwrite(str(path), cv2.imread(str(s.image)), [cv2.IMWRITE_JPEG_QUALITY, 90])
        jpegs.append(path)
    cv2.setNumThreads(1)
    rows = []
    for size, count in (((1024, 2048), True), ((1024, 2048), False), ((1024, 1024), False), ((512, 1024), False)):
        images = torch.empty((3, *size), dtype=torch.uint8)
        masks = torch.empty(size, dtype=torch.uint8)
        t = []
        for _ in range(args.reps):
            t0 = time.perf_counter()
            for s in samples:
                decode_into(source, s, images, masks, count)
            t.append((time.perf_counter() - t0) / len(samples))
        what = "in-memory decode pass (with per-class counts)" if count else "streamed read"
        rows.append([f"PNG image + PNG labelIds mask, 1024x2048 -> {size[0]}x{size[1]}, {what}",
                     f"{1 / np.median(t):.1f}", f"{np.median(t) * 1000:.0f} ms"])
    from core.data.formats import cityscapes_luts

    lut = cityscapes_luts()[0]
    raw = cv2.imread(str(samples[0].mask), cv2.IMREAD_UNCHANGED)
    for name, fn in (("numpy indexing (lut[raw], check, astype)", lambda: (lut[raw].min(), lut[raw].astype(np.uint8))),
                     ("cv2.LUT (check table + map table)", lambda: apply_lut(raw, lut, samples[0].mask, ""))):
        t = []
        for _ in range(args.reps):
            t0 = time.perf_counter()
            for _ in range(10):
                fn()
            t.append((time.perf_counter() - t0) / 10)
        rows.append([f"labelIds -> train ids, one 1024x2048 mask: {name}", f"{1 / np.median(t):.0f}",
                     f"{np.median(t) * 1000:.1f} ms"])
    t = []
    for _ in range(args.reps):
        t0 = time.perf_counter()
        for p in jpegs:
            cv2.imdecode(np.fromfile(p, np.uint8), cv2.IMREAD_COLOR)
        t.append((time.perf_counter() - t0) / len(jpegs))
    rows.append(["JPEG image alone (quality 90), 1024x2048", f"{1 / np.median(t):.1f}", f"{np.median(t) * 1000:.0f} ms"])
    t = []
    for _ in range(args.reps):
        t0 = time.perf_counter()
        for s in samples:
            cv2.imdecode(np.fromfile(s.image, np.uint8), cv2.IMREAD_COLOR)
        t.append((time.perf_counter() - t0) / len(samples))
    rows.append(["PNG image alone, 1024x2048", f"{1 / np.median(t):.1f}", f"{np.median(t) * 1000:.0f} ms"])
    print("\ndecode per core (one thread, OpenCV single-threaded), median of", args.reps, "passes\n")
    print(table(["what", "per second per core", "each"], rows))


def job_camvid(args) -> None:
    """camvid-fast's settings on CamVid, in memory vs streamed, interleaved: steady images/s, and
    the ratio of each repetition's pair (the VM's pace drifts between repetitions)."""
    import statistics

    import torch

    from benchmarks._common import trainer_steps_per_s
    from core.config import TrainConfig
    from core.presets import PRESETS_DIR, load_preset

    torch.set_num_threads(len(os.sched_getaffinity(0)))
    values = load_preset("camvid-fast", PRESETS_DIR)
    values.pop("runs", None)
    base = TrainConfig(**{**values, "data": str(CAMVID), "time_budget": 0, "epochs": 1, "device": "cpu"})
    rates = {"memory": [], "stream": []}
    for _ in range(args.reps):
        for path in rates:
            rates[path].append(trainer_steps_per_s(base.replace(data_path=path), args.steps, 3) * base.batch_size)
    ratios = [s / m for s, m in zip(rates["stream"], rates["memory"])]
    print(f"\ncamvid-fast settings on CamVid train, CPU, {args.steps} steps after 3, {args.reps} interleaved "
          "repetitions\n")
    print(table(["data path", "images/s (each rep)", "median", "vs memory (median of the pairs)"],
                [["memory", ", ".join(f"{r:.2f}" for r in rates["memory"]), f"{statistics.median(rates['memory']):.2f}",
                  "1.00x"],
                 ["stream", ", ".join(f"{r:.2f}" for r in rates["stream"]), f"{statistics.median(rates['stream']):.2f}",
                  f"{statistics.median(ratios):.2f}x ({', '.join(f'{r:.2f}' for r in ratios)})"]]))


def _available() -> int:
    from core.data.memory_plan import host_available_bytes

    return host_available_bytes() or 2**40


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--jobs", default="train,eval,decode")
    p.add_argument("--out", default="/tmp/roadseg-data-scale", help="where the datasets are made")
    p.add_argument("--n", type=int, default=40, help="train images (the train job also runs 4x)")
    p.add_argument("--val", type=int, default=8, help="val images (the eval job also runs 4x)")
    p.add_argument("--frames", type=int, default=20, help="unique frames the images link to")
    p.add_argument("--paths", default="stream,memory", help="train job: data paths to measure")
    p.add_argument("--arch", default="ddrnet23-slim")
    p.add_argument("--size", default="1024x2048")
    p.add_argument("--crop", default="1024x1024")
    p.add_argument("--batch", type=int, default=2)
    p.add_argument("--steps", type=int, default=3)
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--cgroup-limit", default="3G")
    p.add_argument("--child", help=argparse.SUPPRESS)
    p.add_argument("--data", help=argparse.SUPPRESS)
    p.add_argument("--data-path", default="auto", help=argparse.SUPPRESS)
    p.add_argument("--image-size", help=argparse.SUPPRESS)
    p.add_argument("--crop-size", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child:
        from core.config import parse_size

        args.image_size = parse_size(args.image_size)
        args.crop_size = parse_size(args.crop_size) if args.crop_size else None
        result = {"train": child_train, "eval": child_eval, "issues": child_issues}[args.child](args)
        print("RESULT " + json.dumps(result), flush=True)
        sys.stdout.flush()
        os._exit(0)
    print(machine(), time.strftime("%Y-%m-%d %H:%M"), "load", os.getloadavg()[0])
    for job in args.jobs.split(","):
        {"train": job_train, "eval": job_eval, "issues": lambda a: job_eval(a, "issues"), "limit": job_limit, "decode": job_decode,
         "torchrun": job_torchrun,
         "camvid": job_camvid}[job](args)


if __name__ == "__main__":
    main()
