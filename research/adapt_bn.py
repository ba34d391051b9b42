"""Does the split's own image statistics help? (AdaBN, Li et al. 2016; for
a street the training set never showed, such as CamVid's held-out sequence 0006R0)

Scores a checkpoint on a split, then re-estimates every BatchNorm layer's running mean and
variance from that split's images (no labels: a cumulative average over batches of 4 in
training mode, no weights change) and scores it again. A network trained on one street and
shown another sees shifted feature statistics; if that shift were what costs the rare classes,
re-estimating them would win it back.

    .venv/bin/python -m research.adapt_bn --checkpoint runs/x/best.pt [--split val]
                                          [--holdout 0006R0] [--data CamVid]
"""
from __future__ import annotations

import argparse

import torch

from benchmarks._common import CAMVID, machine, table
from core.data.source import open_dataset
from core.evaluate import Predictor, evaluate_model

BATCH = 4


@torch.no_grad()
def adapt_batchnorm(predictor: Predictor, images: list) -> int:
    """Reset the BN running statistics and re-estimate them from `images`; returns the layers
    touched. A last batch of one image is skipped (BN cannot normalise a 1x1 map of one)."""
    model = predictor.model
    layers = [m for m in model.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    for m in layers:
        m.reset_running_stats()
        m.momentum = None  # cumulative average over all batches
    model.train()
    for i in range(0, len(images), BATCH):
        chunk = images[i:i + BATCH]
        if len(chunk) > 1:
            model(predictor._batch(chunk))
    model.eval()
    return len(layers)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--checkpoint", required=True)
    ap.add_argument("--data", default=str(CAMVID))
    ap.add_argument("--split", default="val")
    ap.add_argument("--holdout", help="train file-name prefixes moved into split 'holdout'")
    args = ap.parse_args(argv)
    print(machine())
    source = open_dataset(args.data)
    if args.holdout:
        source = source.hold_out(args.holdout)
    predictor = Predictor.from_checkpoint(args.checkpoint, device="cpu")
    cache: dict = {}  # each image and mask decoded once, for both scorings and the adaptation
    before = evaluate_model(predictor, source, args.split, cache=cache)
    images = [cache[s.name][0] for s in source.samples(args.split)]
    n = adapt_batchnorm(predictor, images)
    after = evaluate_model(predictor, source, args.split, cache=cache)
    names = before.class_names
    print(f"\n{args.checkpoint} on {args.split} ({len(images)} images), {n} BatchNorm layers "
          "re-estimated")
    rows = [[label, f"{r.scores.miou:.4f}", *(f"{v:.3f}" for v in r.scores.iou)]
            for label, r in (("trained statistics", before), ("split's statistics", after))]
    print(table(["BatchNorm", "mIoU", *names], rows))


if __name__ == "__main__":
    main()
