"""Known label errors planted on purpose: how the label-issue finder is measured
(benchmarks/bench_label_issues.py) and how the synthetic demo set can carry mistakes a person
can look for (`roadseg synth --label-errors`), with the list of what was changed.

Each corruption is one a labeller makes, on the dataset's own class names (CamVid's):
  erase-void       an object (Car/Pedestrian/Bicyclist/SignSymbol component >= 300 px) -> void
  erase-neighbour  such an object -> the classes around it (nearest labelled pixel)
  car-to-road      the largest car -> Road
  boundary-shift   the boundary of the class with the longest border pushed out by 5 px
  drop-poles       every Pole pixel -> the classes around it
  swap-lookalike   such an object -> a class it can be mistaken for (LOOKALIKE: Pedestrian <->
                   Bicyclist, Car <-> Pedestrian)
  grow             such an object's mask grown by GROW_PX px over whatever is around it
"""
from __future__ import annotations

import cv2
import numpy as np

from core.classes import IGNORE_INDEX

TYPES = ("erase-void", "erase-neighbour", "car-to-road", "boundary-shift", "drop-poles", "swap-lookalike", "grow")
OBJECTS = ("Car", "Pedestrian", "Bicyclist", "SignSymbol")
LOOKALIKE = {"Pedestrian": ("Bicyclist", "Car"), "Bicyclist": ("Pedestrian",), "Car": ("Pedestrian",)}
OBJECT_MIN = 300
SHIFT_PX = 5
GROW_PX = 6
OBJECT_LEVEL = ("erase-void", "erase-neighbour", "car-to-road", "drop-poles", "swap-lookalike",
                "grow")  # a whole object or class wrong


def nearest_fill(mask: np.ndarray, region: np.ndarray) -> np.ndarray:
    """Give `region`'s pixels the class of the nearest labelled pixel outside it."""
    out = mask.copy()
    source = ~region & (mask != IGNORE_INDEX)
    if not source.any():
        return out
    # every source pixel gets its own label; other pixels get the label of the nearest one
    _, near = cv2.distanceTransformWithLabels((~source).astype(np.uint8), cv2.DIST_L2, 5,
                                              labelType=cv2.DIST_LABEL_PIXEL)
    lut = np.zeros(int(near.max()) + 1, np.uint8)
    lut[near[source]] = mask[source]
    out[region] = lut[near[region]]
    return out


def _objects(mask, ids):
    """Connected components (>= OBJECT_MIN px) of the object classes: list of bool masks."""
    found = []
    for c in ids:
        n, cc, stats, _ = cv2.connectedComponentsWithStats((mask == c).astype(np.uint8), connectivity=8)
        for k in range(1, n):
            if stats[k, cv2.CC_STAT_AREA] >= OBJECT_MIN:
                found.append((int(stats[k, cv2.CC_STAT_AREA]), cc == k))
    return [m for _, m in sorted(found, key=lambda t: -t[0])]


def corrupt(kind: str, mask: np.ndarray, names: list[str], rng) -> np.ndarray | None:
    """The corrupted copy, or None when the image has nothing this corruption needs."""
    cid = {n: i for i, n in enumerate(names)}
    if kind in ("erase-void", "erase-neighbour"):
        objs = _objects(mask, [cid[n] for n in OBJECTS if n in cid])
        if not objs:
            return None
        obj = objs[int(rng.integers(len(objs)))]
        if kind == "erase-void":
            out = mask.copy()
            out[obj] = IGNORE_INDEX
            return out
        return nearest_fill(mask, obj)
    if kind == "car-to-road":
        objs = _objects(mask, [cid["Car"]])
        if not objs:
            return None
        out = mask.copy()
        out[objs[0]] = cid["Road"]
        return out
    if kind == "boundary-shift":
        kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * SHIFT_PX + 1, 2 * SHIFT_PX + 1))
        best, best_len = None, 0
        for c in np.unique(mask):
            if c == IGNORE_INDEX:
                continue
            m = (mask == c).astype(np.uint8)
            grown = cv2.dilate(m, kernel).astype(bool) & (mask != c) & (mask != IGNORE_INDEX)
            if grown.sum() > best_len:
                best, best_len = (c, grown), int(grown.sum())
        if best is None:
            return None
        out = mask.copy()
        out[best[1]] = best[0]
        return out
    if kind == "swap-lookalike":
        objs = _objects(mask, [cid[n] for n in LOOKALIKE if n in cid])
        if not objs:
            return None
        obj = objs[int(rng.integers(len(objs)))]
        own = names[int(np.bincount(mask[obj]).argmax())]
        to = [t for t in LOOKALIKE[own] if t in cid]
        if not to:
            return None
        out = mask.copy()
        out[obj] = cid[to[int(rng.integers(len(to)))]]
        return out
    if kind == "grow":
        objs = _objects(mask, [cid[n] for n in OBJECTS if n in cid])
        if not objs:
            return None
        obj = objs[int(rng.integers(len(objs)))]
        kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * GROW_PX + 1, 2 * GROW_PX + 1))
        out = mask.copy()
        out[cv2.dilate(obj.astype(np.uint8), kernel).astype(bool)] = int(np.bincount(mask[obj]).argmax())
        return out
    if kind == "drop-poles":
        poles = mask == cid["Pole"]
        if poles.sum() < 50:
            return None
        return nearest_fill(mask, poles)
    raise ValueError(kind)


def plant(clean: dict, names: list[str], order_names: list[str], share: float,
          seed: int) -> tuple[dict, dict]:
    """Corrupted copies of `share` of the masks, one corruption type each (an equal number per
    type, drawn at random among the images that have what it needs): (name -> mask, name ->
    type). `clean` is not changed."""
    rng = np.random.default_rng(seed)
    order = [order_names[i] for i in rng.permutation(len(order_names))]
    per_type = max(1, round(share * len(order_names) / len(TYPES)))
    labels, kind_of = dict(clean), {}
    for kind in TYPES:
        taken = 0
        for name in order:
            if taken == per_type:
                break
            if name in kind_of:
                continue
            out = corrupt(kind, clean[name], names, rng)
            if out is not None and (out != clean[name]).any():
                labels[name], kind_of[name] = out, kind
                taken += 1
    return labels, kind_of
