"""Why one class scores low: resolution, or recognition? (CamVid's Pole, under 0.20 IoU in every
from-scratch recipe of benchmarks/RESULTS.md)

Two measurements for one class on one split:
- the resolution ceiling: the ground truth itself, area-averaged down to 1/s of the image (what a
  perfect classifier at output stride s could predict), bilinearly upsampled and argmaxed back,
  scored against the ground truth. It bounds what a head at that stride can reach.
- where a checkpoint's errors lie: for each wrongly predicted pixel of the class (false positive),
  its distance to the nearest true pixel of the class, and for each missed one (false negative)
  its distance to the nearest predicted one. Errors within a few pixels are localisation (a pole
  drawn too wide or shifted); errors far away are recognition (a pole where there is none, or a
  pole not seen at all).
- which of the class's objects are missed, by width: every true pixel gets the length of the
  horizontal run of the class it lies in (a vertical pole's width), and the table gives the
  recall of each width band and what its misses are predicted as instead.
- is it calibration? Where the class ranks among the logits at its true pixels, and its IoU
  when a constant is added to its logit before the argmax (a prior shift, as in long-tail
  "logit adjustment"): if no shift lifts the IoU, the ranking itself is wrong, not a threshold.

    .venv/bin/python -m research.class_errors --class Pole [--checkpoint runs/x/best.pt]
                                              [--data CamVid] [--split val]
                                              [--every 3]
"""
from __future__ import annotations

import argparse

import cv2
import numpy as np
import torch
import torch.nn.functional as F

from benchmarks._common import CAMVID, machine, table
from core.classes import IGNORE_INDEX
from core.data.source import open_dataset

STRIDES = (2, 4, 8, 16)
DISTANCES = (1.5, 3, 5, 10, 20)
WIDTHS = ((1, 3), (4, 6), (7, 10), (11, 20), (21, None))
BIASES = (-1.0, -0.5, 0.0, 0.5, 1.0, 2.0, 3.0)


def iou(pred: np.ndarray, gt: np.ndarray, cls: int) -> float:
    """IoU of one class over all pixels whose ground truth is not void."""
    valid = gt != IGNORE_INDEX
    p, g = (pred == cls) & valid, gt == cls
    union = (p | g).sum()
    return float((p & g).sum() / union) if union else float("nan")


def ceiling_prediction(masks: np.ndarray, num_classes: int, stride: int) -> np.ndarray:
    """Argmax of the per-class area fractions at 1/stride, upsampled bilinearly: [N,H,W]."""
    t = torch.from_numpy(masks.astype(np.int64))
    valid = (t != IGNORE_INDEX).unsqueeze(1)
    onehot = (t.unsqueeze(1) == torch.arange(num_classes).view(1, -1, 1, 1)) & valid
    low = F.avg_pool2d(onehot.float(), stride, ceil_mode=True)
    up = F.interpolate(low, size=masks.shape[1:], mode="bilinear", align_corners=False)
    return up.argmax(1).numpy()


def error_distances(pred: np.ndarray, gt: np.ndarray, cls: int) -> tuple[np.ndarray, np.ndarray]:
    """(distances of the false positives to the nearest true pixel of `cls`, distances of the
    false negatives to the nearest predicted one), Euclidean, in pixels. With no true (or no
    predicted) pixel of the class in the image, the distances are infinite."""
    valid = gt != IGNORE_INDEX
    p, g = (pred == cls) & valid, gt == cls

    def dist_to(region):
        if not region.any():
            return np.full(region.shape, np.inf, np.float32)
        return cv2.distanceTransform((~region).astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_PRECISE)

    return dist_to(g)[p & ~g], dist_to(pred == cls)[g & ~p]


def run_widths(region: np.ndarray) -> np.ndarray:
    """For each pixel of a boolean HxW region, the length of the horizontal run of region pixels
    it lies in (0 outside the region): the width of a vertical pole at that row."""
    padded = np.pad(region.astype(np.int8), ((0, 0), (1, 1)))
    edges = np.diff(padded, axis=1)
    out = np.zeros(region.shape, np.int32)
    for y, x0, x1 in zip(*np.nonzero(edges == 1), np.nonzero(edges == -1)[1]):
        out[y, x0:x1] = x1 - x0
    return out


def width_rows(preds: list[np.ndarray], masks: np.ndarray, cls: int, names: list[str]) -> list[list]:
    """One row per width band: share of the class's pixels, recall, and the two classes its
    misses are most often predicted as."""
    widths = np.concatenate([run_widths(g == cls).ravel() for g in masks])
    predicted = np.concatenate([p.ravel() for p in preds])
    total = (widths > 0).sum()
    rows = []
    for lo, hi in WIDTHS:
        band = (widths >= lo) & (widths <= (hi or widths.max()))
        n = int(band.sum())
        if not n:
            continue
        counts = np.bincount(predicted[band], minlength=len(names))
        recall = counts[cls] / n
        counts[cls] = 0  # what is left are the misses
        top = [f"{names[k]} {counts[k] / n:.2f}" for k in np.argsort(counts)[::-1][:2]]
        rows.append([f"{lo}-{hi} px" if hi else f">= {lo} px", f"{n / total:.3f}",
                     f"{recall:.3f}", ", ".join(top)])
    return rows


def bias_counts(logits: torch.Tensor, gt: np.ndarray, cls: int) -> np.ndarray:
    """[len(BIASES), 2]: intersection and union of `cls` for each logit shift, one image. The
    argmax of the shifted logits without building them: `cls` wins where its shifted logit
    beats every class before it and ties or beats every class after it (argmax takes the first
    of equal maxima, and bf16 logits tie often)."""
    g = torch.from_numpy(gt == cls)
    valid = torch.from_numpy(gt != IGNORE_INDEX)
    lowest = torch.full_like(logits[cls], -torch.inf)
    before = logits[:cls].amax(0) if cls else lowest
    after = logits[cls + 1:].amax(0) if cls + 1 < len(logits) else lowest
    out = np.zeros((len(BIASES), 2), np.int64)
    for i, b in enumerate(BIASES):
        shifted = logits[cls] + b
        p = (shifted > before) & (shifted >= after) & valid
        out[i] = int((p & g).sum()), int((p | g).sum())
    return out


def rank_counts(logits: torch.Tensor, gt: np.ndarray, cls: int) -> np.ndarray:
    """How many true pixels of `cls` have it as the 1st, 2nd, ... highest logit: [C]."""
    g = torch.from_numpy(gt == cls)
    above = (logits[:, g] > logits[cls, g]).sum(0)
    return np.bincount(above.numpy(), minlength=logits.shape[0])


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--class", dest="cls", default="Pole")
    ap.add_argument("--checkpoint")
    ap.add_argument("--data", default=str(CAMVID))
    ap.add_argument("--split", default="val")
    ap.add_argument("--every", type=int, default=1, help="score every n-th image of the split")
    args = ap.parse_args(argv)
    print(machine())
    source = open_dataset(args.data)
    names = list(source.schema.names)
    cls = names.index(args.cls)
    samples = source.samples(args.split)[::args.every]
    masks = np.stack([source.read_mask(s) for s in samples])
    share = (masks == cls).mean()
    print(f"{args.split}: {len(samples)} masks, {args.cls} covers {100 * share:.2f}% of the pixels")
    rows = [[f"1/{s}", f"{iou(ceiling_prediction(masks, len(names), s), masks, cls):.3f}"]
            for s in STRIDES]
    print(f"\nresolution ceiling of {args.cls}: ground truth area-averaged to 1/s, upsampled back")
    print(table(["stride", f"{args.cls} IoU"], rows))
    if not args.checkpoint:
        return
    from core.evaluate import Predictor

    predictor = Predictor.from_checkpoint(args.checkpoint, device="cpu")
    fp, fn, inter, union, preds = [], [], 0, 0, []
    biased, ranks = np.zeros((len(BIASES), 2), np.int64), np.zeros(len(names), np.int64)
    for sample, gt in zip(samples, masks):
        logits = predictor.full_size_logits([source.read_image(sample)])[0]
        pred = logits.argmax(0).to(torch.uint8).numpy()  # what Predictor.predict returns
        biased += bias_counts(logits, gt, cls)
        ranks += rank_counts(logits, gt, cls)
        preds.append(pred)
        a, b = error_distances(pred, gt, cls)
        fp.append(a)
        fn.append(b)
        p, g = (pred == cls) & (gt != IGNORE_INDEX), gt == cls
        inter += int((p & g).sum())
        union += int((p | g).sum())
    fp, fn = np.concatenate(fp), np.concatenate(fn)
    print(f"\n{args.checkpoint} on {args.split}: {args.cls} IoU {inter / union:.3f}, "
          f"true positives {inter}, false positives {len(fp)}, false negatives {len(fn)}")
    rows = [[f"<= {d:g} px", f"{(fp <= d).mean():.2f}", f"{(fn <= d).mean():.2f}"]
            for d in DISTANCES]
    print(table(["distance", "false positives near a true one", "misses near a predicted one"],
                rows))
    print(f"\n{args.cls} by width (horizontal run of the true class through the pixel)")
    print(table(["width", "share of true pixels", "recall", "misses predicted as"],
                width_rows(preds, masks, cls, names)))
    print(f"\nrank of {args.cls}'s logit at its true pixels (1 = predicted)")
    print(table([str(k + 1) for k in range(5)], [[f"{r:.3f}" for r in ranks[:5] / ranks.sum()]]))
    print(f"\n{args.cls} IoU with a constant added to its logit")
    print(table(["shift", f"{args.cls} IoU"],
                [[f"{b:+.1f}", f"{i / u:.3f}"] for b, (i, u) in zip(BIASES, biased)]))


if __name__ == "__main__":
    main()
