"""How well the learned region scores find planted label errors, region by region and image by
image, against today's uncertainty scores on the same sets.

Plants one object-level corruption (core.labeling.planted_errors: erase to void or to the
neighbours, a car to road, drop the poles, a look-alike swap, a mask grown 6 px; boundary shifts
are left out, they are not objects) into `--share` of a split's masks, scores the split with
`score_label_issues` as `roadseg label-issues` does (the learned scorer fits on errors it plants
itself into copies of these, already corrupted, masks; the benchmark's own corruptions are
never labelled for it), and reports:

- image level: AP of the corrupted images against the untouched ones, per corruption kind, for
  the learned score ("regions"), today's default ("relative"), cleanlab's softmin and the share
  of disagreeing pixels, with chance (the share of corrupted images);
- region level: each planted corruption's changed pixels (8-connected parts of at least the
  smallest region size) are the true regions; a scored region matches one at pixel IoU >= 0.25
  (greedily, most probable first, each true region once); AP and precision at 50 % recall, by kind
  and size, for the learned regions (by probability) and today's suspect regions (by doubt, the
  sum over the region of 1 - p[given]);
- outlines: on the clean split (no corruption) the regions per image at or above each threshold,
  and on the corrupted draws the share of planted regions matched by one at or above it;
- the top regions of the clean split, written as crops (image | labels | model) under --out, to
  be judged by eye.

    python -m benchmarks.bench_region_issues --checkpoint RUN/best.pt --data CamVid --split val --seeds 3
    python -m benchmarks.bench_region_issues --checkpoint RUN/best.pt --data CamVid --split train --sequence 0006R0
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
from core.labeling.issue_options import IssueOptions
from core.labeling.label_issues import score_label_issues
from core.labeling.planted_errors import OBJECT_LEVEL, plant
from core.labeling.region_scorer import MATCH_IOU, average_precision, pixel_iou, truth_regions
from core.tta import TTAOptions

SCORES = ("regions", "relative", "softmin", "share")
IMAGE_FORMULAS = {  # other ways to rank images by their learned regions (learned report, uncertainty report)
    "noisy-or": lambda it, _o: 1.0 - float(np.prod([1.0 - (r.probability or 0.0) for r in it.regions])),
    "top-3 sum": lambda it, _o: sum(sorted((r.probability or 0.0 for r in it.regions), reverse=True)[:3]),
    "most probable region alone": lambda it, _o: it.learned or 0.0,
}
THRESHOLDS = (0.2, 0.3, 0.4, 0.5, 0.6, 0.7)
SIZES = ((0, 1000, "< 1000 px"), (1000, 5000, "1000-5000 px"), (5000, 10 ** 9, ">= 5000 px"))


def match(regions_by_image: dict, truths_by_image: dict, score) -> tuple[np.ndarray, list]:
    """Greedy matching over every scored region of the split, most probable first: the regions'
    scores and, for each, the true region it matched ((image, index)) or None."""
    pool = [(score(r), n, r) for n, rs in regions_by_image.items() for r in rs]
    pool.sort(key=lambda t: -t[0])
    taken: set[tuple[str, int]] = set()
    matched: list = []
    for s, n, r in pool:
        best, best_iou = None, MATCH_IOU
        for j, t in enumerate(truths_by_image.get(n, ())):
            if (n, j) in taken:
                continue
            v = pixel_iou(r, t)
            if v >= best_iou:
                best, best_iou = j, v
        if best is not None:
            taken.add((n, best))
        matched.append(None if best is None else (n, best))
    return np.array([t[0] for t in pool]), matched


def group_ap(scores: np.ndarray, matched: list, in_group, n_true: int) -> tuple[float, float]:
    """Detection AP and precision at 50 % recall for the true regions `in_group(key)` picks:
    a region matching one of them is a hit, one matching another true region is left out, an
    unmatched one is a false alarm (every image's regions compete)."""
    keep = [i for i, m in enumerate(matched) if m is None or in_group(m)]
    return detection_ap(scores[keep], np.array([matched[i] is not None for i in keep], bool), n_true)


def detection_ap(scores: np.ndarray, hit: np.ndarray, n_true: int) -> tuple[float, float]:
    """(AP over the ranked regions with recall over all true regions, precision at 50 % recall;
    NaN where 50 % is never reached)."""
    if n_true == 0:
        return float("nan"), float("nan")
    order = np.argsort(-scores, kind="stable")
    h = hit[order]
    tp = np.cumsum(h)
    prec = tp / np.arange(1, len(h) + 1)
    ap = float(prec[h].sum() / n_true)
    reach = np.nonzero(tp >= 0.5 * n_true)[0]
    return ap, float(prec[reach[0]]) if len(reach) else float("nan")


def size_bin(pixels: int) -> str:
    return next(name for lo, hi, name in SIZES if lo <= pixels < hi)


def fmt(v: float) -> str:
    return "-" if v is None or np.isnan(v) else f"{v:.3f}"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--checkpoint", required=True)
    ap.add_argument("--data", required=True)
    ap.add_argument("--split", default="val")
    ap.add_argument("--sequence", help="only images whose name starts with this (a street the model never saw)")
    ap.add_argument("--share", type=float, default=0.3, help="share of images corrupted in each draw")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--seeds", type=int, default=3, help="draws of corrupted images")
    ap.add_argument("--top", type=int, default=20, help="top regions of the clean split to write as crops")
    ap.add_argument("--out", type=Path, help="folder for the crops of the top regions")
    ap.add_argument("--device", default="cpu")
    args = ap.parse_args()

    source = open_dataset(args.data)
    names = list(source.schema.names)
    samples = [s for s in source.samples(args.split) if s.name.startswith(args.sequence or "")]
    if not samples:
        ap.error(f"no {args.split} image starts with {args.sequence!r}")
    clean = {s.name: source.read_mask(s) for s in samples}
    predictor = Predictor.from_checkpoint(args.checkpoint, device=args.device, tta=TTAOptions(True))
    tmp = tempfile.TemporaryDirectory(prefix="bench-region-issues-")
    t0 = time.perf_counter()
    for s in samples:
        probs = predictor.predict(source.read_image(s), with_probs=True).probs
        np.save(Path(tmp.name) / f"{s.name}.npy", probs.astype(np.float16))
    t_predict = time.perf_counter() - t0

    def probs_for(s):
        return np.load(Path(tmp.name) / f"{s.name}.npy").astype(np.float32)

    def score(labels, method):
        t = time.perf_counter()
        report = score_label_issues(samples, probs_for, lambda s: labels[s.name], len(names),
                                    IssueOptions(method=method))
        return report, time.perf_counter() - t

    print(f"# region-level label-issues benchmark: {args.split}{' ' + args.sequence if args.sequence else ''} "
          f"of {args.data}, {len(samples)} images, {args.seeds} draw(s) from seed {args.seed}, "
          f"{args.share:.0%} of the images corrupted, object-level kinds only")
    print(f"model {args.checkpoint}; prediction with flip {t_predict:.1f} s; machine: {machine()}")
    min_px = IssueOptions().min_region(next(iter(clean.values())).shape)
    kinds = [k for k in OBJECT_LEVEL]
    img_aps: dict[tuple[str, str], list[float]] = {}
    reg: dict[str, dict[str, list]] = {"learned": {}, "uncertainty": {}}
    outlined_planted = {t: [0, 0] for t in THRESHOLDS}
    fits, times = [], []
    for d in range(args.seeds):
        labels, kind_of = plant(clean, names, [s.name for s in samples], args.share, args.seed + d)
        for n in [n for n, k in kind_of.items() if k not in OBJECT_LEVEL]:
            labels[n], _ = clean[n], kind_of.pop(n)
        learned, t = score(labels, "regions")
        times.append(t)
        fits.append(learned.region_fit)
        old, _ = score(labels, "relative")
        untouched = {n for n in clean if n not in kind_of}
        for method in SCORES:
            rep = learned if method == "regions" else old
            scores = {it.name: it.score(method) for it in rep.images}
            for kind in (*kinds, "objects"):
                pos = {n for n, k in kind_of.items() if kind in (k, "objects")}
                if pos:
                    img_aps.setdefault((method, kind), []).append(_image_ap(scores, pos, untouched))
                    img_aps.setdefault(("chance", kind), []).append(len(pos) / (len(pos) + len(untouched)))
        truths = {n: truth_regions(labels[n] != clean[n], min_px) for n in kind_of}
        for which, rep, fn in (("learned", learned, lambda r: r.probability or 0.0),
                               ("uncertainty", old, lambda r: r.doubt)):
            sc, matched = match({it.name: it.regions for it in rep.images}, truths, fn)
            groups = {"all": lambda m: True}
            for k in kinds:
                groups[k] = lambda m, k=k: kind_of[m[0]] == k
            for lo, hi, name in SIZES:
                groups[name] = lambda m, lo=lo, hi=hi: lo <= truths[m[0]][m[1]].pixels < hi
            for key, pick in groups.items():
                n_true = sum(pick((n, j)) for n, ts in truths.items() for j in range(len(ts)))
                if n_true:
                    reg[which].setdefault(key, []).append(group_ap(sc, matched, pick, n_true))
            if which == "learned":
                for t in THRESHOLDS:
                    outlined_planted[t][0] += sum(m is not None and v >= t for v, m in zip(sc, matched))
                    outlined_planted[t][1] += sum(len(v) for v in truths.values())
        for name, fn in IMAGE_FORMULAS.items():
            scores = {it.name: fn(it, old.by_name()[it.name]) for it in learned.images}
            pos = {n for n, k in kind_of.items() if k in OBJECT_LEVEL}
            img_aps.setdefault((name, "objects"), []).append(_image_ap(scores, pos, untouched))

    clean_report, t_clean = score(clean, "regions")
    times.append(t_clean)
    rows = []
    for method in (*SCORES, *IMAGE_FORMULAS, "chance"):
        row = [method]
        for kind in (*kinds, "objects"):
            v = img_aps.get((method, kind))
            row.append(fmt(float(np.mean(v))) if v else "-")
        rows.append(row)
    print("\nImage level: AP of the corrupted images against the untouched ones (mean over draws; "
          "chance: the share of corrupted images among those ranked)")
    print(table(["image score", *kinds, "objects"], rows))
    print("\nRegion level: true regions are the corruptions' changed parts (>= "
          f"{min_px} px); a region matches at pixel IoU >= {MATCH_IOU} (AP / precision at 50 % recall)")
    keys = ["all", *kinds, *[name for _, _, name in SIZES]]
    rows = []
    for which in ("learned", "uncertainty"):
        row = [which]
        for key in keys:
            v = reg[which].get(key)
            if not v:
                row.append("-")
                continue
            a = np.nanmean([x[0] for x in v]) if not np.isnan([x[0] for x in v]).all() else float("nan")
            p = [x[1] for x in v]
            p = np.nanmean(p) if not np.isnan(p).all() else float("nan")
            row.append(f"{fmt(a)} / {fmt(p)}")
        rows.append(row)
    print(table(["regions", *keys], rows))
    per_image = {t: np.mean([sum((r.probability or 0) >= t for r in it.regions) for it in clean_report.images])
                 for t in THRESHOLDS}
    print("\nOutlines at each threshold: regions per image on the clean split, and the share of planted "
          "regions matched by a region at or above it (all draws)")
    print(table(["threshold", "outlined per clean image", "planted regions outlined"],
                [[f"{t:.1f}", f"{per_image[t]:.2f}",
                  f"{outlined_planted[t][0] / max(1, outlined_planted[t][1]):.2f}"] for t in THRESHOLDS]))
    print("\nfits: " + "; ".join(f"{f.note} (held-out AP {fmt(f.heldout_ap)})" for f in fits if f is not None))
    print(f"scoring time with fitting, predictions cached: {', '.join(f'{t:.1f}' for t in times)} s "
          f"(prediction with flip {t_predict:.1f} s for the split)")
    top = sorted(((r.probability or 0.0, it.name, r) for it in clean_report.images for r in it.regions),
                 key=lambda t: -t[0])[:args.top]
    print(f"\nTop {len(top)} regions of the clean split (judge them on the crops):")
    print(table(["#", "image", "given -> suggested", "px", "bbox", "probability"],
                [[i + 1, n, " -> ".join(r.class_names(names)), r.pixels, r.bbox, f"{p:.3f}"]
                 for i, (p, n, r) in enumerate(top)]))
    if args.out:
        _write_crops(args.out, top, source, samples, probs_for, clean)
        print(f"crops written to {args.out}")
    tmp.cleanup()
    return 0


def _image_ap(scores: dict, pos: set, neg: set) -> float:
    keys = sorted(pos | neg)
    return average_precision(np.array([scores[k] for k in keys]), np.array([k in pos for k in keys]))


def _write_crops(out: Path, top, source, samples, probs_for, clean) -> None:
    """image | given labels | model, around each region, its outline in magenta."""
    import cv2

    out.mkdir(parents=True, exist_ok=True)
    by_name = {s.name: s for s in samples}
    colors = np.array([c for c in source.schema.colors] + [(0, 0, 0)] * (256 - len(source.schema.colors)), np.uint8)
    for i, (p, n, r) in enumerate(top, 1):
        s = by_name[n]
        image = np.asarray(source.read_image(s))
        labels = clean[n]
        if image.shape[:2] != labels.shape:
            image = cv2.resize(image, labels.shape[::-1], interpolation=cv2.INTER_AREA)
        pred = probs_for(s).argmax(0)
        x0, y0, x1, y1 = r.bbox
        pad = max(20, (x1 - x0 + y1 - y0) // 2)
        X0, Y0, X1, Y1 = max(0, x0 - pad), max(0, y0 - pad), min(labels.shape[1], x1 + pad), min(labels.shape[0], y1 + pad)
        outline = np.zeros(labels.shape, np.uint8)
        outline[y0:y1, x0:x1][r.stencil] = 1
        edge = cv2.morphologyEx(outline, cv2.MORPH_GRADIENT, np.ones((3, 3), np.uint8)).astype(bool)
        panels = []
        for arr in (image, colors[np.where(labels == IGNORE_INDEX, 255, labels)], colors[pred]):
            a = arr.copy()
            a[edge] = (255, 0, 255)
            panels.append(a[Y0:Y1, X0:X1])
        tile = np.concatenate(panels, 1)
        scale = max(1, 240 // max(1, tile.shape[0]))
        tile = cv2.resize(tile, None, fx=scale, fy=scale, interpolation=cv2.INTER_NEAREST)
        cv2.imwrite(str(out / f"{i:02d}-{n}.png"), cv2.cvtColor(tile, cv2.COLOR_RGB2BGR))


if __name__ == "__main__":
    sys.exit(main())
