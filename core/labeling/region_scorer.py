"""A learned label-error score per candidate region, fitted on the scored split itself.

While a split is scored (core.labeling.label_issues), RegionCollector keeps, for every image,
its candidate regions (core.labeling.region_features) and those of a few copies of its mask with
label errors planted in them (core.labeling.fit_corruptions). At the end it fits a classifier on
"a candidate that matches a planted error (IoU >= MATCH_IOU)" against "every other candidate of
the given labels", cross-fitted: the images are split into FOLDS parts and each part's regions
are scored by a fit on the other parts only, so no image is scored by a fit that saw its own
planted copies (or its own candidates). A region's score is the fit's probability that it is a
label error; an image's is its most probable region's.

The classifier is scikit-learn's HistGradientBoostingClassifier: a few thousand rows and ~30
features fit in about a second on two cores, it takes NaN (a void region has no given-class
probability) and categorical features (the class pair) as they are, and scikit-learn is already
a well-kept, BSD-licensed dependency; LightGBM would add a compiled package for no gain at this
size. Today's uncertainty scores stay in as features (the region's mean self-confidence and its
ratio to the class's mean, cleanlab's threshold) and as the ranking when a split is too small to
fit (under MIN_IMAGES images or MIN_PLANTED matched planted regions per fit).
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

import cv2
import numpy as np

from core.labeling.fit_corruptions import plant_copies
from core.labeling.issue_regions import IssueRegion, same_region
from core.labeling.region_features import (CATEGORICAL, LOCAL_FEATURES, Candidate, PixelMaps, find_candidates,
                                           pixel_maps)

SPLIT_FEATURES = ("iou_given", "iou_sugg", "threshold_given", "p_given_rel", "pair_rate")
FEATURES = LOCAL_FEATURES + SPLIT_FEATURES
COPIES = 6  # planted copies of each mask
MATCH_IOU = 0.25  # a candidate is a planted error when it overlaps one this much (Rottmann & Reese)
FOLDS = 2
MIN_IMAGES = 12
MIN_PLANTED = 30
NMS_IOU = 0.5  # of two candidates overlapping this much, the less probable one is dropped


def pixel_iou(a: IssueRegion, b: IssueRegion) -> float:
    """IoU of two regions' pixels (their stencils within their boxes)."""
    x0, y0 = max(a.bbox[0], b.bbox[0]), max(a.bbox[1], b.bbox[1])
    x1, y1 = min(a.bbox[2], b.bbox[2]), min(a.bbox[3], b.bbox[3])
    if x1 <= x0 or y1 <= y0:
        return 0.0
    sa = a.stencil[y0 - a.bbox[1]:y1 - a.bbox[1], x0 - a.bbox[0]:x1 - a.bbox[0]]
    sb = b.stencil[y0 - b.bbox[1]:y1 - b.bbox[1], x0 - b.bbox[0]:x1 - b.bbox[0]]
    inter = int((sa & sb).sum())
    return inter / (a.pixels + b.pixels - inter)


def truth_regions(changed: np.ndarray, min_pixels: int) -> list[IssueRegion]:
    """The 8-connected parts of a planted change, each a region (the unit a match is judged on)."""
    n, cc, stats, _ = cv2.connectedComponentsWithStats(changed.astype(np.uint8), connectivity=8)
    out = []
    for k in range(1, n):
        x, y, w, h, area = (int(v) for v in stats[k])
        if area >= min_pixels:
            out.append(IssueRegion(0, 0, area, (x, y, x + w, y + h), "", cc[y:y + h, x:x + w] == k))
    return out


def best_match(region: IssueRegion, truths: Sequence[IssueRegion]) -> float:
    return max((pixel_iou(region, t) for t in truths), default=0.0)


@dataclass
class RegionFit:
    """What fitting found, for the report: whether the learned scores are used, and why not."""

    used: bool
    note: str
    planted: int = 0  # matched planted regions over all folds
    candidates: int = 0  # candidate regions of the given labels
    heldout_ap: float | None = None  # planted vs given candidates, each fold scored by the other's fit

    def to_dict(self) -> dict:
        return {"used": self.used, "note": self.note, "planted": self.planted, "candidates": self.candidates,
                "heldout_ap": self.heldout_ap}


@dataclass
class _Image:
    name: str
    candidates: list[Candidate]
    planted: list[tuple[np.ndarray, bool, str]] = field(default_factory=list)  # (features, matched, kind)


class RegionCollector:
    """Candidates of a split's images and of planted copies of their masks, gathered image by
    image while scoring; `finish` fits and scores them (module docstring)."""

    def __init__(self, num_classes: int, min_region: Callable[[tuple[int, int]], int],
                 void_confidence: float, *, copies: int = COPIES, seed: int = 0):
        self.k = num_classes
        self.min_region = min_region
        self.void_confidence = void_confidence
        self.copies = copies
        self.rng = np.random.default_rng(seed)
        self.seed = seed
        self.images: list[_Image] = []

    def add(self, name: str, probs: np.ndarray, labels: np.ndarray, maps: PixelMaps | None = None) -> None:
        """One image: its probabilities (CxHxW) and given labels (HxW)."""
        threads = cv2.getNumThreads()
        cv2.setNumThreads(1)
        try:
            self._add(name, probs, labels, maps or pixel_maps(probs))
        finally:
            cv2.setNumThreads(threads)

    def _add(self, name, probs, labels, maps) -> None:
        min_px = self.min_region(labels.shape)
        found = find_candidates(probs, labels, maps, min_pixels=min_px, void_confidence=self.void_confidence)
        item = _Image(name, found)
        for kind, bad in plant_copies(labels, self.copies, self.rng, min_px):
            changed = bad != labels
            truths = truth_regions(changed, min_px)
            if not truths:
                continue
            for c in find_candidates(probs, bad, maps, min_pixels=min_px, void_confidence=self.void_confidence,
                                     touching=changed):
                item.planted.append((self._split_row(c), best_match(c.region, truths) >= MATCH_IOU, kind))
        self.images.append(item)

    def _split_row(self, c: Candidate) -> np.ndarray:
        """A candidate's features with room for SPLIT_FEATURES (filled in by finish)."""
        return np.concatenate([c.features, np.full(len(SPLIT_FEATURES), np.nan, np.float32)])

    def _fill_split(self, rows: np.ndarray, thresholds, class_iou, pair_rate) -> np.ndarray:
        """SPLIT_FEATURES of each row, from the split's numbers (the given labels')."""
        g = rows[:, LOCAL_FEATURES.index("given")].astype(np.int64)
        s = rows[:, LOCAL_FEATURES.index("suggested")].astype(np.int64)
        void = g >= self.k
        gi = np.where(void, 0, g)
        iou = np.nan_to_num(np.asarray(class_iou, np.float64), nan=0.0) if class_iou is not None else np.zeros(self.k)
        thr = np.asarray(thresholds, np.float64)
        out = rows.copy()
        base = len(LOCAL_FEATURES)
        out[:, base + 0] = np.where(void, np.nan, iou[gi])
        out[:, base + 1] = iou[s]
        out[:, base + 2] = np.where(void, np.nan, thr[gi])
        out[:, base + 3] = rows[:, LOCAL_FEATURES.index("p_given_mean")] / np.maximum(thr[gi], 1e-6)
        out[:, base + 4] = pair_rate[np.where(void, pair_rate.shape[0] - 1, g), s]
        return out

    def finish(self, thresholds, class_iou, pair_rate, *, camera: Callable[[str], np.ndarray | None] | None = None,
               reviewed: Callable[[str], list[IssueRegion]] | None = None) -> tuple[dict[str, list[IssueRegion]], RegionFit]:
        """name -> its regions, each with its learned probability, most probable first (after
        dropping regions a person reviewed, unlabelled ones in the camera's own void and the less
        probable of two overlapping ones), and what the fit found. With too little to fit on,
        ({}, a RegionFit that says why) and the caller keeps its uncertainty ranking."""
        for item in self.images:
            cam = camera(item.name) if camera is not None else None
            old = reviewed(item.name) if reviewed is not None else []
            keep = []
            for c in item.candidates:
                r = c.region
                if any(same_region(r, o) for o in old):
                    continue
                if cam is not None and r.unlabelled:
                    x0, y0, x1, y1 = r.bbox
                    if cam[y0:y1, x0:x1][r.stencil].mean() > 0.5:
                        continue
                keep.append(c)
            item.candidates = keep
        n_img = len(self.images)
        planted = sum(m for it in self.images for _, m, _ in it.planted)
        given = sum(len(it.candidates) for it in self.images)
        if n_img < MIN_IMAGES:
            return {}, RegionFit(False, f"{n_img} images: the region scorer needs at least {MIN_IMAGES} "
                                        "to fit; ranked by the uncertainty score instead", planted, given)
        folds = np.empty(n_img, np.int64)
        folds[self.rng.permutation(n_img)] = np.arange(n_img) % FOLDS
        real = [np.stack([self._split_row(c) for c in it.candidates]) if it.candidates
                else np.zeros((0, len(FEATURES)), np.float32) for it in self.images]
        real = [self._fill_split(r, thresholds, class_iou, pair_rate) for r in real]
        plant = [self._fill_split(np.stack([f for f, _, _ in it.planted]), thresholds, class_iou, pair_rate)
                 if it.planted else np.zeros((0, len(FEATURES)), np.float32) for it in self.images]
        plant_y = [np.array([m for _, m, _ in it.planted], bool) for it in self.images]
        probs: list[np.ndarray] = [np.zeros(0)] * n_img
        held_scores, held_y = [], []
        for f in range(FOLDS):
            fit_on = [i for i in range(n_img) if folds[i] != f]
            x = np.concatenate([real[i] for i in fit_on] + [plant[i] for i in fit_on])
            y = np.concatenate([np.zeros(len(real[i]), bool) for i in fit_on] + [plant_y[i] for i in fit_on])
            if int(y.sum()) < MIN_PLANTED or int((~y).sum()) < MIN_PLANTED:
                return {}, RegionFit(False, f"{int(y.sum())} planted label errors matched a candidate region in a "
                                            f"fit (at least {MIN_PLANTED} needed); ranked by the uncertainty "
                                            "score instead", planted, given)
            model = fit_scorer(x, y, self.seed + f)
            scored = [i for i in range(n_img) if folds[i] == f]
            rows = np.concatenate([real[i] for i in scored] + [plant[i] for i in scored])
            p = predict(model, rows)  # one call: per-call overhead dominates at this size
            at = 0
            for i in scored:
                probs[i] = p[at:at + len(real[i])]
                at += len(real[i])
            held_scores.append(p)
            held_y.append(np.concatenate([np.zeros(len(real[i]), bool) for i in scored]
                                         + [plant_y[i] for i in scored]))
        out = {}
        for item, p in zip(self.images, probs):
            scored = [replace(c.region, probability=float(v)) for c, v in zip(item.candidates, p)]
            out[item.name] = suppress_overlaps(scored)
        hs, hy = np.concatenate(held_scores), np.concatenate(held_y)
        ap = average_precision(hs, hy) if hy.any() else None
        return out, RegionFit(True, f"learned region scores: fitted on {planted} planted label errors and "
                                    f"{given} candidate regions of the given labels, {FOLDS}-fold",
                              planted, given, ap)


def suppress_overlaps(regions: list[IssueRegion], iou: float = NMS_IOU) -> list[IssueRegion]:
    """Most probable first; a region overlapping a more probable kept one by `iou` is dropped."""
    kept: list[IssueRegion] = []
    for r in sorted(regions, key=lambda r: -(r.probability or 0.0)):
        if all(pixel_iou(r, k) < iou for k in kept):
            kept.append(r)
    return kept


def fit_scorer(x: np.ndarray, y: np.ndarray, seed: int = 0):
    """A gradient-boosted classifier of candidate rows (FEATURES) into planted (True) or not.
    One OpenMP thread: at a few thousand rows more threads save little, and beside a training
    run (the app's usual case) their spin-waits made fitting and predicting ten times slower."""
    from sklearn.ensemble import HistGradientBoostingClassifier
    from threadpoolctl import threadpool_limits

    cat = [FEATURES.index(c) for c in CATEGORICAL]
    model = HistGradientBoostingClassifier(learning_rate=0.1, max_iter=150, max_leaf_nodes=15,
                                           min_samples_leaf=20, l2_regularization=1.0,
                                           categorical_features=cat, random_state=seed)
    with threadpool_limits(1, "openmp"):
        return model.fit(x, y)


def predict(model, rows: np.ndarray) -> np.ndarray:
    """The fitted model's probability that each row is a label error (one OpenMP thread)."""
    from threadpoolctl import threadpool_limits

    if not len(rows):
        return np.zeros(0)
    with threadpool_limits(1, "openmp"):
        return model.predict_proba(rows)[:, 1]


def average_precision(scores: np.ndarray, positive: np.ndarray) -> float:
    """AP of ranking the positives first (ties: negatives first)."""
    order = np.lexsort((positive, -np.asarray(scores)))
    hits = np.asarray(positive, bool)[order]
    if not hits.any():
        return float("nan")
    prec = np.cumsum(hits) / np.arange(1, len(hits) + 1)
    return float(prec[hits].mean())


def image_score(regions: Sequence[IssueRegion]) -> float:
    """An image's learned score: its most probable region's probability (0 without one)."""
    return max((r.probability or 0.0 for r in regions), default=0.0)

