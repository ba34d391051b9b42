"""Which labels to fix first: order images by the model's uncertainty or by its disagreement
with the current labels.

A person has an afternoon, not a week. Images where the model is unsure (high mean per-pixel
softmax entropy) are the ones whose labels teach it most; images where it confidently disagrees
with the label (high error) are where labels are most often wrong. Both are computed from one
prediction per image, so switching the order needs no second pass.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np

from core.classes import IGNORE_INDEX
from core.metrics import ConfusionMatrix, compute_scores

REVIEW_MODES = ("uncertainty", "error")


@dataclass(frozen=True)
class ReviewItem:
    name: str
    uncertainty: float  # mean per-pixel softmax entropy (nats)
    error: float  # 1 - mIoU of the prediction against the current label (NaN: nothing labelled)

    def score(self, mode: str) -> float:
        if mode not in REVIEW_MODES:
            raise ValueError(f"unknown review order {mode!r} (choose from {', '.join(REVIEW_MODES)})")
        return self.uncertainty if mode == "uncertainty" else self.error


def image_uncertainty(entropy: np.ndarray) -> float:
    return float(np.mean(entropy, dtype=np.float64)) if entropy.size else float("nan")


def image_error(pred: np.ndarray, mask: np.ndarray, num_classes: int) -> float:
    """1 - mIoU (classes present in label or prediction; void ignored). NaN if all void."""
    if not (mask != IGNORE_INDEX).any():
        return float("nan")
    cm = ConfusionMatrix(num_classes, IGNORE_INDEX)
    cm.update(np.asarray(pred, np.int64), np.asarray(mask, np.int64))
    miou = compute_scores(cm.matrix).miou
    return float("nan") if math.isnan(miou) else 1.0 - float(miou)


def score_images(predictor, samples: Iterable, read_image: Callable, read_mask: Callable | None,
                 num_classes: int, progress: Callable[[int, int], None] | None = None,
                 cancelled: Callable[[], bool] | None = None,
                 on_prediction: Callable | None = None) -> list[ReviewItem]:
    """One prediction per sample -> ReviewItem. `read_mask(sample)` gives the *current* labels
    (unsaved edits included when the caller has them); None skips the error score.
    `on_prediction(sample, prediction)` lets a caller keep the predictions it paid for."""
    samples = list(samples)
    items = []
    for i, sample in enumerate(samples):
        if cancelled is not None and cancelled():
            break
        pred = predictor.predict(read_image(sample))
        if on_prediction is not None:
            on_prediction(sample, pred)
        err = float("nan")
        if read_mask is not None:
            err = image_error(pred.mask, read_mask(sample), num_classes)
        items.append(ReviewItem(sample.name, image_uncertainty(pred.entropy), err))
        if progress is not None:
            progress(i + 1, len(samples))
    return items


def review_order(items: Iterable[ReviewItem], mode: str) -> list[str]:
    """Names, most useful first (highest score); images without a score go last, by name."""
    items = list(items)
    scored = [(it.score(mode), it.name) for it in items]
    good = sorted(((s, n) for s, n in scored if not math.isnan(s)), key=lambda t: (-t[0], t[1]))
    rest = sorted(n for s, n in scored if math.isnan(s))
    return [n for _, n in good] + rest
