"""The whole label-error loop, measured where the truth is known: plant mistakes in a synthetic
set's training masks, train on them, find them with `roadseg label-issues --folds`, let a
simulated reviewer act on the worst-ranked images, retrain, and compare with the clean labels.

    python -m benchmarks.bench_label_loop --data DEMO --work /tmp/loop [--share 0.6] [--review 0.3] [--budget 4]

DEMO is a folder written by `roadseg synth` (clean masks; it is only read). Two simulated
reviewers open the `--review` share of training images that label-issues ranks worst: one only
answers the outlined regions, accepting the suggested class where most of the region's true
pixels are that class and keeping the labels otherwise (keys A and R); the other repairs each
opened image completely (brush and fill, the truth standing in for a careful person). Every step
runs the CLI as a user would; the table compares the training masks with the truth and scores
the models (trained on clean, planted and reviewed masks with the same recipe and time budget)
on the clean val split. `--reuse` keeps the folds' report and the runs already in --work.
"""
from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import yaml

from benchmarks._common import machine, table
from core.data.source import open_dataset
from core.labeling.label_issues import IssueReport
from core.labeling.planted_errors import plant

RECIPE = {"arch": "ddrnet23-slim", "image_size": [180, 240], "epochs": 300, "augment": "light",
          "optimizer": "adamw", "lr": 0.004, "schedule": "onecycle", "batch_size": 8,
          "class_weights": "none", "loss": "ce"}  # the synthetic val-0.520 recipe in RESULTS


def cli(*args: str) -> None:
    done = subprocess.run([sys.executable, "-m", "core.cli", *args], capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"roadseg {' '.join(args[:3])}... failed:\n{done.stderr[-3000:]}")


def copy_with_masks(src: Path, dst: Path, masks: dict, split: str) -> None:
    """`src` copied to `dst` with `split`'s masks replaced by `masks` (name -> array)."""
    if dst.exists():
        shutil.rmtree(dst)
    shutil.copytree(src, dst)
    target = open_dataset(dst)
    for s in target.samples(split):
        target.write_mask(s, masks[s.name])


def train(data: Path, out: Path, config: Path, budget: float, seed: int, reuse: bool) -> float:
    if not (reuse and (out / "summary.json").exists()):
        cli("train", "--config", str(config), "--data", str(data), "--time-budget", str(budget),
            "--seed", str(seed), "--device", "cpu", "--out", str(out))
    return float(json.loads((out / "summary.json").read_text())["best_miou"])


def review(report: IssueReport, looked: list[str], noisy: dict, truth: dict) -> tuple[dict, int, int]:
    """The reviewer who answers regions: (reviewed masks, regions accepted, regions kept)."""
    fixed, accepted, kept = dict(noisy), 0, 0
    by_name = report.by_name()
    for name in looked:
        mask = fixed[name].copy()
        for r in by_name[name].regions:
            x0, y0, x1, y1 = r.bbox
            true_here = truth[name][y0:y1, x0:x1][r.stencil]
            if np.bincount(true_here, minlength=256).argmax() == r.suggested:
                mask[y0:y1, x0:x1][r.stencil] = r.suggested
                accepted += 1
            else:
                kept += 1
        fixed[name] = mask
    return fixed, accepted, kept


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", required=True, help="a synthetic set from `roadseg synth` (read only)")
    ap.add_argument("--work", required=True, help="folder for the copies, runs and report")
    ap.add_argument("--share", type=float, default=0.6, help="share of training masks given a mistake")
    ap.add_argument("--review", type=float, default=0.3, help="share of training images the reviewer opens")
    ap.add_argument("--budget", type=float, default=4.0, help="minutes per training")
    ap.add_argument("--folds", type=int, default=3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--reuse", action="store_true", help="keep the report and runs already in --work")
    args = ap.parse_args()
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    config = work / "recipe.yaml"
    config.write_text(yaml.safe_dump(RECIPE))
    source = open_dataset(args.data)
    names = list(source.schema.names)
    samples = source.samples("train")
    truth = {s.name: source.read_mask(s) for s in samples}
    noisy, kind_of = plant(truth, names, [s.name for s in samples], args.share, args.seed)
    copy_with_masks(Path(args.data), work / "noisy", noisy, "train")

    issues = work / "issues.json"
    if not (args.reuse and issues.exists()):
        cli("label-issues", "--folds", str(args.folds), "--config", str(config), "--data", str(work / "noisy"),
            "--split", "train", "--time-budget", str(args.budget * 2 / 3), "--seed", str(args.seed),
            "--device", "cpu", "--out", str(work / "folds"), "--json", str(issues))
    report = IssueReport.read(issues)
    looked = report.order()[:max(1, round(args.review * len(report.images)))]
    fixed, accepted, kept = review(report, looked, noisy, truth)
    repaired = {n: truth[n] if n in looked else m for n, m in noisy.items()}
    copy_with_masks(Path(args.data), work / "reviewed", fixed, "train")
    copy_with_masks(Path(args.data), work / "repaired", repaired, "train")

    def wrong(masks):
        return sum(int((masks[n] != truth[n]).sum()) for n in truth)

    planted_seen = sum(n in kind_of for n in looked)
    scores = {label: train(data, work / f"run-{label}", config, args.budget, args.seed, args.reuse)
              for label, data in (("clean", Path(args.data)), ("planted", work / "noisy"),
                                  ("reviewed", work / "reviewed"), ("repaired", work / "repaired"))}
    print(f"# label-error loop: {args.data}, {len(samples)} training images, {len(kind_of)} with a planted "
          f"mistake; the reviewer opens the worst {len(looked)} ({planted_seen} of them planted); "
          f"{args.folds} folds; {args.budget} min per training; machine: {machine()}\n"
          f"(opening {len(looked)} images at random finds {len(looked) * len(kind_of) / len(samples):.1f} "
          f"planted ones and {len(looked) / len(samples):.0%} of the wrong pixels on average)")

    def left(masks):
        return f"{sum(1 for n in kind_of if (masks[n] != truth[n]).any())}"
    rows = [["clean (truth)", "0", "-", f"{scores['clean']:.3f}"],
            ["planted", f"{wrong(noisy)}", f"{len(kind_of)}", f"{scores['planted']:.3f}"],
            [f"regions answered ({accepted} accepted, {kept} kept)", f"{wrong(fixed)}", left(fixed),
             f"{scores['reviewed']:.3f}"],
            ["opened images repaired", f"{wrong(repaired)}", left(repaired), f"{scores['repaired']:.3f}"]]
    print(table(["training masks", "wrong pixels", "images with a wrong label left", "val mIoU"], rows))
    print("wrong pixels: training-mask pixels that differ from the truth; images with a wrong label "
          "left: the planted images whose mask still differs from the truth; val mIoU: the best epoch "
          "of each model on the clean val split")
    return 0


if __name__ == "__main__":
    sys.exit(main())
