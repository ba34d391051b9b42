"""How well `roadseg label-issues` finds labels known to be wrong.

Copies a split's masks (in memory: nothing is written into the dataset or the repo), corrupts a
share of the images with one known corruption each, scores the split with a model that did not
train on it, and prints per corruption type the image-ranking average precision (corrupted
images of that type against the untouched ones) and the pixel precision / recall of the suspect
regions against the pixels the corruption changed. Every rule / image-score pair is measured
from one set of predictions (cached on disk as float16 in a temporary folder).

    python -m benchmarks.bench_label_issues --checkpoint RUN/best.pt --data DIR --split val
    python -m benchmarks.bench_label_issues --oracle --data SYNTH --split val   # a perfect model

The corruptions (erase an object to void or to its neighbours, a car to road, shift a boundary,
drop the poles) are core.labeling.planted_errors'.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks._common import machine, table
from core.classes import IGNORE_INDEX
from core.data.source import open_dataset
from core.evaluate import Predictor
from core.labeling.issue_options import IMAGE_SCORES, IssueOptions
from core.labeling.label_issues import WEAK_CLASS_IOU, score_label_issues
from core.labeling.planted_errors import OBJECT_LEVEL, TYPES, plant
from core.tta import TTAOptions, parse_scales


def average_precision(scores: dict[str, float], positives: set[str], negatives: set[str]) -> float:
    """AP of ranking positives above negatives (highest score first; ties broken pessimistically)."""
    pool = [(scores[n], n in positives) for n in positives | negatives]
    pool.sort(key=lambda t: (-t[0], t[1]))  # among equal scores the negatives come first
    hits, total = 0, 0.0
    for rank, (_, pos) in enumerate(pool, 1):
        if pos:
            hits += 1
            total += hits / rank
    return total / max(1, len(positives))


def pixel_counts(report, clean: dict, labels: dict, kind_of: dict, recall: dict) -> tuple[int, int]:
    """Suspect-region pixels the corruption changed (tp) and did not (fp); adds each type's
    (found, changed) pixels to `recall`."""
    by_name = report.by_name()
    tp = fp = 0
    for n in clean:
        sus = np.zeros(clean[n].shape, bool)
        for r in by_name[n].regions:
            x0, y0, x1, y1 = r.bbox
            sus[y0:y1, x0:x1] |= r.stencil
        changed = labels[n] != clean[n]  # erased to void: found by the unlabelled regions
        tp += int((sus & changed).sum())
        fp += int((sus & ~changed).sum())
        if n in kind_of:
            a, b = recall.get(kind_of[n], (0, 0))
            recall[kind_of[n]] = (a + int((sus & changed).sum()), b + int(changed.sum()))
    return tp, fp


def corrupted_class(clean: np.ndarray, changed: np.ndarray, names: list[str]) -> str:
    """The class a corruption took away: the most common true class of the changed pixels."""
    return names[int(np.bincount(clean[changed]).argmax())] if changed.any() else "void"


def true_class_probability(probs: np.ndarray, clean: np.ndarray, changed: np.ndarray) -> float:
    """The model's mean probability of each changed pixel's true class."""
    if not changed.any():
        return float("nan")
    return float(probs[(clean[changed].astype(np.intp), *np.nonzero(changed))].mean())


def by_class_rows(groups: dict, probs: dict, changed_px: dict, class_iou: dict) -> list[list]:
    """Rows of the per-class table: corruption, class, the model's IoU with the labels of that
    class on the split (the report's), images, mean AP, mean p(true class), changed pixels."""
    rows = []
    for (kind, cls), aps in sorted(groups.items()):
        iou = class_iou.get(cls)
        rows.append([kind, cls, "-" if iou is None else f"{iou:.2f}", len(probs[(kind, cls)]),
                     f"{np.mean(aps):.3f}", f"{np.mean(probs[(kind, cls)]):.2f}",
                     f"{np.median(changed_px[(kind, cls)]):.0f}"])
    return rows


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--checkpoint", action="append",
                    help="the model (not needed with --oracle); repeated: their mean probabilities")
    ap.add_argument("--oracle", action="store_true",
                    help="instead of a model, probabilities that are 0.9 on the true (uncorrupted) "
                         "class and even on void: how well the scoring ranks when the model is right")
    ap.add_argument("--data", required=True)
    ap.add_argument("--split", default="val")
    ap.add_argument("--sequence", help="only the split's images whose name starts with this (a sequence "
                                       "the model was held out from, e.g. 0006R0 of CamVid train)")
    ap.add_argument("--share", type=float, default=0.3, help="share of images corrupted")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--seeds", type=int, default=1,
                    help="draws of corrupted images (seed, seed+1, ...): more positives per type, same predictions")
    ap.add_argument("--margin", type=float, default=0.5)
    ap.add_argument("--min-pixels", type=int, default=None, help="default: label-issues' default")
    ap.add_argument("--no-flip", action="store_true", help="label-issues --no-flip: one prediction per image")
    ap.add_argument("--scales", default="1", help="test-time scales, e.g. 0.75,1,1.25")
    ap.add_argument("--void-confidence", type=float, default=IssueOptions.void_confidence,
                    help="label-issues --void-confidence")
    ap.add_argument("--keep-edges", action="store_true", help="label-issues --keep-edges")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--cleanlab", action="store_true",
                    help="also time cleanlab's segmentation scoring on the same probabilities")
    args = ap.parse_args()
    import torch
    torch.set_num_threads(1)

    source = open_dataset(args.data)
    names = list(source.schema.names)
    samples = [s for s in source.samples(args.split) if s.name.startswith(args.sequence or "")]
    if not samples:
        ap.error(f"no {args.split} image starts with {args.sequence!r}")
    clean = {s.name: source.read_mask(s) for s in samples}
    plants = [plant(clean, names, [s.name for s in samples], args.share, args.seed + k) for k in range(args.seeds)]

    if not args.oracle and not args.checkpoint:
        ap.error("give --checkpoint (or --oracle)")
    tta = TTAOptions(not args.no_flip, parse_scales(args.scales))
    predictors = [] if args.oracle else [Predictor.from_checkpoint(c, device=args.device, tta=tta) for c in args.checkpoint]
    tmp = tempfile.TemporaryDirectory(prefix="bench-label-issues-")
    t0 = time.perf_counter()
    for s in samples:  # the model never sees the labels: one prediction serves every draw
        if not predictors:
            truth = clean[s.name]
            probs = np.full((len(names), *truth.shape), 0.1 / (len(names) - 1), np.float32)
            np.put_along_axis(probs, np.where(truth == IGNORE_INDEX, 0, truth)[None].astype(np.intp),
                              0.9, axis=0)
            probs[:, truth == IGNORE_INDEX] = 1 / len(names)  # where nothing is true, it knows nothing
        else:
            image = source.read_image(s)
            probs = np.mean([p.predict(image, with_probs=True).probs for p in predictors], axis=0)
        np.save(Path(tmp.name) / f"{s.name}.npy", probs.astype(np.float16))
    t_predict = time.perf_counter() - t0

    def probs_for(s):
        return np.load(Path(tmp.name) / f"{s.name}.npy").astype(np.float32)

    def probs_of(name: str) -> np.ndarray:
        return np.load(Path(tmp.name) / f"{name}.npy", mmap_mode="r")

    per_type = len(plants[0][1]) // len(TYPES)
    print(f"# label-issues benchmark: {args.split}{' ' + args.sequence if args.sequence else ''} of {args.data}, "
          f"{len(samples)} images, "
          f"{len(plants[0][1])} corrupted ({per_type} per type), {args.seeds} draw(s) from seed {args.seed}")
    model = "oracle (0.9 on the true class)" if args.oracle else " + ".join(args.checkpoint)
    print(f"model {model}; prediction {t_predict:.1f} s; machine: {machine()}")
    rows, timings = [], {}
    labels = plants[-1][0]
    default_method = IssueOptions().method
    class_aps: dict[tuple[str, str], list[float]] = {}
    class_p: dict[tuple[str, str], list[float]] = {}
    class_px: dict[tuple[str, str], list[int]] = {}
    class_iou: dict[str, list[float]] = {}
    for rule in ("threshold", "margin"):
        opts = IssueOptions(rule=rule, margin=args.margin, min_pixels=args.min_pixels, skip_edges=not args.keep_edges,
                            void_confidence=args.void_confidence)
        aps: dict[tuple[str, str], list[float]] = {}
        tp = fp = 0
        recall: dict[str, tuple[int, int]] = {}
        for labels, kind_of in plants:
            t0 = time.perf_counter()
            report = score_label_issues(samples, probs_for, lambda s, labels=labels: labels[s.name], len(names), opts)
            timings[rule] = time.perf_counter() - t0
            a, b = pixel_counts(report, clean, labels, kind_of, recall)
            tp, fp = tp + a, fp + b
            untouched = {n for n in clean if n not in kind_of}
            if rule == "threshold":  # the default's AP by the class each corruption took away
                groups: dict[tuple[str, str], set] = {}
                for n, kind in kind_of.items():
                    changed = (labels[n] != clean[n]) & (clean[n] != IGNORE_INDEX)
                    key = (kind, corrupted_class(clean[n], changed, names))
                    groups.setdefault(key, set()).add(n)
                    class_p.setdefault(key, []).append(true_class_probability(probs_of(n), clean[n], changed))
                    class_px.setdefault(key, []).append(int(changed.sum()))
                scores = {it.name: it.score(default_method) for it in report.images}
                for c, v in zip(names, report.class_iou):
                    class_iou.setdefault(c, []).append(float(v))
                for key, pos in groups.items():
                    class_aps.setdefault(key, []).append(average_precision(scores, pos, untouched))
            for method in IMAGE_SCORES:
                scores = {it.name: it.score(method) for it in report.images}
                for kind in (*TYPES, "objects", "all"):
                    pos = {n for n, k in kind_of.items()
                           if kind in (k, "all") or (kind == "objects" and k in OBJECT_LEVEL)}
                    if pos:
                        aps.setdefault((method, kind), []).append(average_precision(scores, pos, untouched))
        for method in IMAGE_SCORES:
            row = [rule, method]
            for kind in TYPES:
                v = aps.get((method, kind))
                row.append(f"{np.mean(v):.3f}" if v else "-")
            row.append(f"{np.mean(aps[(method, 'objects')]):.3f}")
            v = aps[(method, "all")]
            row.append(f"{np.mean(v):.3f}" + (f" ({min(v):.2f}-{max(v):.2f})" if len(v) > 1 else ""))
            row.append(f"{tp / max(1, tp + fp):.3f}")
            row.append(" ".join(f"{k}:{a / b:.2f}" for k, (a, b) in sorted(recall.items()) if b))
            rows.append(row)
    print(table(["rule", "image score", *[f"AP {t}" for t in TYPES], "AP objects", "AP all", "pixel prec",
                 "pixel recall by type"], rows))
    print("AP: corrupted images of the type vs the untouched ones, ranked by the image score "
          "(objects: the four object-level types together)"
          + (f"; the mean over {args.seeds} draws of corrupted images (AP all: its range)" if args.seeds > 1 else "")
          + ". Pixel precision: suspect-region pixels that the corruption changed, over all images "
          "(the untouched labels' own mistakes and the model's count as false); an erased object "
          "left void is found by the unlabelled regions (void the model is sure is a class).")
    print(f"\nBy the class each corruption took away (threshold / {default_method}, the default): the "
          "model's IoU with the split's labels of that class (the report's class_iou; label-issues "
          f"names a class under {WEAK_CLASS_IOU:g} weak), images over all draws, mean AP against the "
          "untouched images, the model's mean probability of the true class on the changed pixels, "
          "and the median count of changed pixels")
    mean_iou = {c: float(np.nanmean(v)) for c, v in class_iou.items() if not np.isnan(v).all()}
    print(table(["corruption", "class", "class IoU", "images", "AP", "p(class)", "changed px"],
                by_class_rows(class_aps, class_p, class_px, mean_iou)))
    print("scoring time per pass (predictions cached, all image scores at once): "
          + ", ".join(f"{r} {t:.1f} s" for r, t in timings.items()))
    if args.cleanlab:
        from cleanlab.segmentation.filter import find_label_issues
        from cleanlab.segmentation.rank import get_label_quality_scores

        t0 = time.perf_counter()
        probs = np.stack([probs_for(s) for s in samples])
        lab = np.stack([np.where(labels[s.name] == IGNORE_INDEX, probs_for(s).argmax(0), labels[s.name])
                        for s in samples]).astype(np.int64)  # cleanlab has no void: the model's class
        t_load = time.perf_counter() - t0
        t0 = time.perf_counter()
        get_label_quality_scores(lab, probs, verbose=False)
        t_soft = time.perf_counter() - t0
        t0 = time.perf_counter()
        find_label_issues(lab, probs, n_jobs=1, verbose=False)
        t_cl = time.perf_counter() - t0
        print(f"cleanlab on the same split: needs the N x C x H x W array in memory "
              f"({probs.nbytes / 2**20:.0f} MiB float32; stacked in {t_load:.1f} s); softmin scores "
              f"{t_soft:.1f} s, find_label_issues (confident learning) {t_cl:.1f} s; "
              f"these functions: {timings['threshold']:.1f} s for both, image by image")
    tmp.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
