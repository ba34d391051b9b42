"""Label errors planted into copies of a split's own masks to teach the region scorer
(core.labeling.region_scorer) what a wrong label looks like on this dataset, with this model.

Unlike core.labeling.planted_errors, which the benchmarks use and which knows CamVid's class
names, these know no names: an *object* is any 8-connected component of one class between
`min_pixels` and MAX_OBJECT_SHARE of the image (cars, people, poles, signs on a road scene; not
road or sky), so the same kinds work on Cityscapes, BDD100K, Mapillary or a fleet's own classes.
The kinds are the mistakes labellers make:

  erase-void       an object left unlabelled (void)
  erase-neighbour  an object painted over with the classes around it
  swap             an object given another class present in the image
  grow             an object's mask grown by 3-8 px over whatever surrounds it
  boundary-shift   a stretch of the longest border between two classes pushed 3-8 px
  drop-class       every object of one class painted over with the classes around them
"""
from __future__ import annotations

import cv2
import numpy as np

from core.classes import IGNORE_INDEX
from core.labeling.planted_errors import nearest_fill

KINDS = ("erase-void", "erase-neighbour", "swap", "grow", "boundary-shift", "drop-class")
MAX_OBJECT_SHARE = 0.08  # planted on objects up to this share of the image (a near car can be 5%)


def objects(labels: np.ndarray, min_pixels: int) -> list[tuple[int, np.ndarray]]:
    """(class, bool mask) of every object in a mask (see the module docstring)."""
    largest = int(MAX_OBJECT_SHARE * labels.size)
    found = []
    for c in np.unique(labels):
        if c == IGNORE_INDEX:
            continue
        n, cc, stats, _ = cv2.connectedComponentsWithStatsWithAlgorithm((labels == c).astype(np.uint8), 8,
                                                                         cv2.CV_32S, cv2.CCL_SAUF)
        for k in range(1, n):
            if min_pixels <= stats[k, cv2.CC_STAT_AREA] <= largest:
                found.append((int(c), cc == k))
    return found


def _disk(radius: int) -> np.ndarray:
    return cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))


def corrupt(kind: str, labels: np.ndarray, objs: list[tuple[int, np.ndarray]],
            rng: np.random.Generator) -> np.ndarray | None:
    """A corrupted copy of `labels` (None: the image has nothing this kind needs)."""
    if kind == "boundary-shift":
        classes = [c for c in np.unique(labels) if c != IGNORE_INDEX]
        if len(classes) < 2:
            return None
        grow = _disk(int(rng.integers(3, 9)))
        c = int(classes[int(rng.integers(len(classes)))])
        band = cv2.dilate((labels == c).astype(np.uint8), grow).astype(bool) & (labels != c) & (labels != IGNORE_INDEX)
        n, cc, stats, _ = cv2.connectedComponentsWithStats(band.astype(np.uint8), connectivity=8)
        if n <= 1:
            return None
        k = 1 + int(stats[1:, cv2.CC_STAT_AREA].argmax())
        out = labels.copy()
        out[cc == k] = c
        return out
    if not objs:
        return None
    cls, obj = objs[int(rng.integers(len(objs)))]
    out = labels.copy()
    if kind == "erase-void":
        out[obj] = IGNORE_INDEX
    elif kind == "erase-neighbour":
        out = nearest_fill(labels, obj)
    elif kind == "swap":
        others = [int(c) for c in np.unique(labels) if c != IGNORE_INDEX and c != cls]
        if not others:
            return None
        out[obj] = others[int(rng.integers(len(others)))]
    elif kind == "grow":
        out[cv2.dilate(obj.astype(np.uint8), _disk(int(rng.integers(3, 9)))).astype(bool)] = cls
    elif kind == "drop-class":
        every = np.zeros(labels.shape, bool)
        for c, m in objs:
            if c == cls:
                every |= m
        out = nearest_fill(labels, every)
    else:
        raise ValueError(kind)
    return out


def plant_copies(labels: np.ndarray, count: int, rng: np.random.Generator, min_pixels: int):
    """Up to `count` corrupted copies of one mask, the kinds taken in turn from a random start:
    list of (kind, corrupted mask)."""
    objs = objects(labels, min_pixels)
    start = int(rng.integers(len(KINDS)))
    out = []
    for i in range(len(KINDS)):
        if len(out) == count:
            break
        kind = KINDS[(start + i) % len(KINDS)]
        bad = corrupt(kind, labels, objs, rng)
        if bad is not None and (bad != labels).any():
            out.append((kind, bad))
    return out
