"""Candidate label-error regions and the numbers that describe each, for the learned region
scorer (core.labeling.region_scorer).

Following Rottmann & Reese (WACV 2023), the unit is a region, not a pixel or an image: a label
error is an object (or a strip of one) that is labelled wrong, so a scorer that sees the whole
patch (how big, how sure the model is over all of it, whether it is a whole labelled object,
what is labelled around it) can tell a wrong object from the model's own ragged disagreement
along boundaries, which a per-pixel doubt cannot. Candidates come from three places:

  disagree    8-connected patches of labelled pixels where the model's top class is one other
              class (one class at a time, so a wrong pole next to a wrong sign is two regions)
  unlabelled  the same for void the model gives one class at least `void_confidence`
  object      whole components of one given class, at most `max_object_share` of the image, whose
              pixels the model gives that class on average under `object_doubt` (a labelled
              object the model does not believe, even where its top class is split), and whole
              void components of that size where its top class averages at least `object_doubt`
              (an object left unlabelled, even where the model is unsure which class it is)

Each candidate's LOCAL_FEATURES need only this image's probabilities and labels; the split's
numbers (class IoU, thresholds, how often the model says this for that) are added when the whole
split has been seen (region_scorer.split_features).
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from core.classes import IGNORE_INDEX
from core.labeling.issue_regions import IssueRegion, label_edges, region_digest

SOURCES = ("disagree", "unlabelled", "object")
RING_PX = 3  # the surroundings of a region: pixels within this distance outside it
MAX_OBJECT_SHARE = 0.02  # larger components of one class are stuff (road, sky), not objects
OBJECT_DOUBT = 0.5  # an object candidate: the model's mean probability of its given class below this
LOCAL_FEATURES = (
    "log_area", "fill", "aspect",
    "p_given_mean", "p_given_min", "p_given_q10", "p_given_q50", "p_given_q90",
    "p_sugg_mean", "p_sugg_q50", "p_sugg_max", "entropy_mean", "top_mean", "margin_mean",
    "edge_share", "ring_given", "ring_sugg_label", "ring_void", "ring_pred_sugg", "ring_agree",
    "given", "suggested", "source",
)
CATEGORICAL = ("given", "suggested", "source")


@dataclass
class PixelMaps:
    """What a candidate's features read that depends on the probabilities only (computed once an
    image, shared by its given labels and every planted copy of them)."""

    pred: np.ndarray  # uint8 HxW argmax
    top: np.ndarray  # float32 HxW probability of the argmax
    entropy: np.ndarray  # float32 HxW entropy over log(C): 0 sure, 1 uniform


def pixel_maps(probs: np.ndarray) -> PixelMaps:
    p = np.asarray(probs, np.float32)
    ent = -(p * np.log(np.maximum(p, 1e-8))).sum(0) / np.float32(np.log(max(2, p.shape[0])))
    return PixelMaps(p.argmax(0).astype(np.uint8), p.max(0), ent.astype(np.float32))


@dataclass
class Candidate:
    region: IssueRegion
    source: str
    features: np.ndarray  # float32, LOCAL_FEATURES


def _majority(values: np.ndarray, exclude: int | None = None) -> int:
    counts = np.bincount(values.ravel(), minlength=256)
    if exclude is not None and exclude < 256:
        counts[exclude] = 0
    return int(counts.argmax())


_KERNEL = cv2.getStructuringElement(cv2.MORPH_RECT, (2 * RING_PX + 1, 2 * RING_PX + 1))


def describe(probs: np.ndarray, labels: np.ndarray, maps: PixelMaps, edges: np.ndarray,
             stencil: np.ndarray, bbox: tuple[int, int, int, int], given: int, suggested: int,
             source: str, image_area: int) -> np.ndarray:
    """LOCAL_FEATURES of one region (`stencil` over `bbox`, in the arrays' coordinates)."""
    x0, y0, x1, y1 = bbox
    h, w = labels.shape
    s = stencil
    n = int(s.sum())
    f = dict.fromkeys(LOCAL_FEATURES, np.nan)
    f["log_area"] = np.log(n / image_area)
    f["fill"] = n / ((x1 - x0) * (y1 - y0))
    f["aspect"] = np.log((y1 - y0) / (x1 - x0))
    box = (slice(y0, y1), slice(x0, x1))
    ps = probs[suggested][box][s]
    if given != IGNORE_INDEX:
        pg = probs[given][box][s]
        f["margin_mean"] = float(ps.mean() - pg.mean())
        pg = np.sort(pg)
        f["p_given_mean"], f["p_given_min"] = float(pg.mean()), float(pg[0])
        f["p_given_q10"], f["p_given_q50"], f["p_given_q90"] = (float(pg[int(q * (n - 1))]) for q in (0.1, 0.5, 0.9))
    ps = np.sort(ps)
    f["p_sugg_mean"], f["p_sugg_q50"], f["p_sugg_max"] = float(ps.mean()), float(ps[(n - 1) // 2]), float(ps[-1])
    f["entropy_mean"] = float(maps.entropy[box][s].mean())
    f["top_mean"] = float(maps.top[box][s].mean())
    f["edge_share"] = float(edges[box][s].mean())
    # the surroundings: a ring RING_PX wide outside the region (clipped at the arrays' border)
    ry0, ry1, rx0, rx1 = max(0, y0 - RING_PX), min(h, y1 + RING_PX), max(0, x0 - RING_PX), min(w, x1 + RING_PX)
    inner = np.zeros((ry1 - ry0, rx1 - rx0), np.uint8)
    inner[y0 - ry0:y1 - ry0, x0 - rx0:x1 - rx0] = s
    ring = cv2.dilate(inner, _KERNEL).astype(bool) & ~inner.astype(bool)
    if ring.any():
        lab = labels[ry0:ry1, rx0:rx1][ring]
        pred = maps.pred[ry0:ry1, rx0:rx1][ring]
        f["ring_given"] = float((lab == given).mean())
        f["ring_sugg_label"] = float((lab == suggested).mean())
        f["ring_void"] = float((lab == IGNORE_INDEX).mean())
        f["ring_pred_sugg"] = float((pred == suggested).mean())
        f["ring_agree"] = float((pred == lab).mean())
    f["given"] = float(min(given, probs.shape[0]))  # void: C
    f["suggested"] = float(suggested)
    f["source"] = float(SOURCES.index(source))
    return np.array([f[k] for k in LOCAL_FEATURES], np.float32)


def _components(mask: np.ndarray, min_pixels: int, max_pixels: int | None = None):
    """(stencil, bbox) of each 8-connected component of `mask` within the size bounds."""
    n, cc, stats, _ = cv2.connectedComponentsWithStatsWithAlgorithm(mask.astype(np.uint8), 8, cv2.CV_32S,
                                                                     cv2.CCL_SAUF)
    for k in range(1, n):
        x, y, w, h, area = (int(v) for v in stats[k])
        if area < min_pixels or (max_pixels is not None and area > max_pixels):
            continue
        yield cc[y:y + h, x:x + w] == k, (x, y, x + w, y + h)


def find_candidates(probs: np.ndarray, labels: np.ndarray, maps: PixelMaps | None = None, *,
                    min_pixels: int = 20, void_confidence: float = 0.9,
                    max_object_share: float = MAX_OBJECT_SHARE, object_doubt: float = OBJECT_DOUBT,
                    touching: np.ndarray | None = None) -> list[Candidate]:
    """Every candidate region of an image (see the module docstring), each with its features;
    with `touching` (bool HxW), only those that share a pixel with it (a planted copy differs
    from the given labels only there, so only those candidates are new). OpenCV runs
    single-threaded meanwhile: on masks this size its threads cost more than they give."""
    threads = cv2.getNumThreads()
    cv2.setNumThreads(1)
    try:
        return _find(np.asarray(probs), labels, maps or pixel_maps(probs), min_pixels, void_confidence,
                     max_object_share, object_doubt, touching)
    finally:
        cv2.setNumThreads(threads)


def _find(p, lab, m, min_pixels, void_confidence, max_object_share, object_doubt, touching):
    edges = label_edges(lab)
    void = lab == IGNORE_INDEX
    area = lab.size
    found = []

    def add(stencil, bb, given, sugg, source):
        feats = describe(p, lab, m, edges, stencil, bb, given, sugg, source, area)
        found.append(Candidate(IssueRegion(given, sugg, int(stencil.sum()), bb, region_digest(stencil, bb), stencil),
                               source, feats))

    def parts(mask, largest=None):
        for stencil, bb in _components(mask, min_pixels, largest):
            sub = (slice(bb[1], bb[3]), slice(bb[0], bb[2]))
            if touching is None or (touching[sub] & stencil).any():
                yield stencil, bb, sub

    labelled_wrong = ~void & (m.pred != lab)
    sure_void = void & (m.top >= void_confidence) if void_confidence > 0 else np.zeros_like(void)
    for c in np.unique(m.pred[labelled_wrong | sure_void]):  # one class the model says at a time
        said = m.pred == c
        for stencil, bb, sub in parts(labelled_wrong & said):
            add(stencil, bb, _majority(lab[sub][stencil]), int(c), "disagree")
        for stencil, bb, sub in parts(sure_void & said):
            add(stencil, bb, IGNORE_INDEX, int(c), "unlabelled")
    largest = int(max_object_share * area)
    for c in np.unique(lab if touching is None else lab[touching]):
        if c >= p.shape[0] and c != IGNORE_INDEX:
            continue
        for stencil, bb, sub in parts(lab == c, largest):
            means = p[:, sub[0], sub[1]][:, stencil].mean(1)
            if c == IGNORE_INDEX:  # an unlabelled object: void the model sees some class in
                if float(m.top[sub][stencil].mean()) < object_doubt:
                    continue
            else:
                if float(means[c]) >= object_doubt:
                    continue
                means[c] = -1.0
            add(stencil, bb, int(c), int(means.argmax()), "object")
    return found
