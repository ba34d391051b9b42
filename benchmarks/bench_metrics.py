"""Evaluation metrics: our confusion matrix vs torchmetrics' MulticlassJaccardIndex on the same
predictions (the 101 CamVid val masks). Same numbers, and how much faster.

    .venv/bin/python -m benchmarks.bench_metrics
"""
from __future__ import annotations

import numpy as np
import torch
from torchmetrics.classification import MulticlassJaccardIndex

from benchmarks._common import CAMVID, machine, median_time, table
from core.classes import IGNORE_INDEX
from core.data.source import open_dataset
from core.metrics import ConfusionMatrix, compute_scores


def main() -> None:
    torch.set_num_threads(2)
    src = open_dataset(CAMVID)
    targets = torch.stack([torch.from_numpy(src.read_mask(s)) for s in src.samples("val")]).long()
    rng = np.random.default_rng(0)
    # predictions: ground truth with 30% of pixels replaced by random classes (a plausible model)
    noise = torch.from_numpy(rng.integers(0, 11, size=targets.shape))
    flip = torch.from_numpy(rng.random(targets.shape) < 0.3)
    preds = torch.where(flip | (targets == IGNORE_INDEX), noise, targets)
    c = src.schema.num_classes

    def ours():
        cm = ConfusionMatrix(c, IGNORE_INDEX)
        for p, t in zip(preds, targets):  # one image at a time, as an evaluation loop feeds it
            cm.update(p, t)
        return compute_scores(cm.matrix)

    def theirs():
        m = MulticlassJaccardIndex(num_classes=c, ignore_index=IGNORE_INDEX, average=None)
        for p, t in zip(preds, targets):
            m.update(p[None], t[None])
        return m.compute()

    s, t = ours(), theirs()
    present = ~np.isnan(s.iou)
    same = np.allclose(s.iou[present], t.numpy()[present], atol=1e-6)
    t_ours, t_theirs = median_time(ours, 5), median_time(theirs, 5)
    print(f"machine: {machine()}")
    print(f"{len(targets)} CamVid val masks, {targets.shape[1]}x{targets.shape[2]}, {c} classes\n")
    print(table(["implementation", "median s", "images/s", "mIoU"], [
        ["roadseg ConfusionMatrix", f"{t_ours:.4f}", f"{len(targets) / t_ours:.0f}", f"{s.miou:.6f}"],
        ["torchmetrics MulticlassJaccardIndex", f"{t_theirs:.4f}", f"{len(targets) / t_theirs:.0f}",
         f"{float(t[present].mean()):.6f}"],
    ]))
    print(f"\nspeed-up {t_theirs / t_ours:.2f}x; per-class IoU identical: {same}")


if __name__ == "__main__":
    main()
