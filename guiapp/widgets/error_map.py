"""Pixel pictures for the prediction browser: where the model is right/wrong, and for one class
where it over- and under-predicts. Display only (colours for a panel); scores come from core.

Context: every pixel that is not marked shows the photo in dim grey, so the coloured errors stay
readable against any scene.
"""
from __future__ import annotations

import numpy as np

IGNORE = 255
CORRECT = (46, 204, 113)        # green: prediction equals ground truth
WRONG = (231, 76, 60)           # red: prediction differs from ground truth
FALSE_POS = (255, 179, 0)       # amber: predicted the class where ground truth is another class
FALSE_NEG = (41, 128, 255)      # blue: ground truth is the class but something else was predicted
TRUE_POS = (235, 235, 235)      # near white: the class, correctly found
DIM_NUM, DIM_DEN = 2, 15        # grey = (R+G+B) * 2/15, i.e. 40% of the mean: a dim photo


def dim_gray(image: np.ndarray) -> np.ndarray:
    """The photo as dim grey RGB, the background of every error map (integer maths: ~1 ms at
    360x480, where a float mean takes ~10)."""
    s = image[..., 0].astype(np.uint16) + image[..., 1] + image[..., 2]
    g = (s * DIM_NUM // DIM_DEN).astype(np.uint8)
    return np.repeat(g[..., None], 3, axis=2)


def colorize(palette: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Train-id mask -> RGB through a ClassSchema palette ([256,3]); np.take is ~5x faster than
    fancy indexing, which matters when stepping through images."""
    return np.take(palette, mask, axis=0)


def error_map(image: np.ndarray | None, gt: np.ndarray, pred: np.ndarray,
              cls: int | None = None, background: np.ndarray | None = None) -> np.ndarray:
    """HxWx3 uint8 picture of the errors of ``pred`` against ``gt`` (void pixels left unmarked).

    ``cls=None``: correct pixels green, wrong pixels red.
    ``cls=c``: false positives of c amber, false negatives of c blue, true positives near white.
    ``background`` (``dim_gray(image)``, precomputed) saves recomputing it per mode.
    """
    if gt.shape != pred.shape:
        raise ValueError(f"ground truth {gt.shape} and prediction {pred.shape} differ in size")
    if background is not None:
        out = background.copy()
    else:
        out = dim_gray(image) if image is not None else np.zeros((*gt.shape, 3), np.uint8)
    valid = gt != IGNORE
    if cls is None:
        same = gt == pred
        out[valid & same] = CORRECT
        out[valid & ~same] = WRONG
    else:
        is_gt, is_pred = gt == cls, pred == cls
        out[is_gt & is_pred] = TRUE_POS
        out[valid & is_pred & ~is_gt] = FALSE_POS
        out[is_gt & ~is_pred] = FALSE_NEG
    return out


def legend_for(cls_name: str | None) -> list[tuple[str, tuple[int, int, int]]]:
    """(label, colour) pairs describing what :func:`error_map` draws in that mode."""
    if cls_name is None:
        return [("correct", CORRECT), ("wrong", WRONG)]
    return [(f"{cls_name} found", TRUE_POS), (f"false positive ({cls_name})", FALSE_POS),
            (f"false negative ({cls_name})", FALSE_NEG)]
