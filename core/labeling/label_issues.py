"""Find labels that are probably wrong: pixels whose given class the model, which never trained
on that image, finds unlikely, grouped into regions a person can accept or dismiss.

The definitions are cleanlab's (confident learning, Northcutt et al. 2021, and its segmentation
module): a pixel's *self-confidence* is the predicted probability of the class it is labelled
with; a class's *confident threshold* is the mean self-confidence of the pixels labelled with it
over the split. A pixel is suspect when the model's top class differs from its label and
either (rule "threshold") its self-confidence is below its class's threshold, or (rule "margin")
the top class beats the given one by at least `margin`. An image's label quality is cleanlab's
softmin of its self-confidences (temperature 0.1). Images are ranked by default by that softmin
taken over each pixel's self-confidence *relative to its class's threshold* (capped at 1,
"relative"): a class the model is unsure of everywhere (Pole, SignSymbol) then stops making every
image that shows it look doubtful, and on corrupted CamVid val and on the synthetic set it put
corrupted images first better than the plain softmin and share / doubt / rare with every model
tried (benchmarks/bench_label_issues.py, numbers in benchmarks/RESULTS.md). The pixels on the
given labels' own edges are left out of the image scores (`skip_edges`, on by default): every
annotator and model hesitates there, so whole wrong objects stand out more (and a boundary drawn
a few pixels off a little less); regions are found on every pixel either way. The callers
predict each image averaged with its mirror image (`IssueOptions.flip`, `tta()`), which ranked
better with every model tried.

A wrong label stands out only as far as the model knows its class: on corrupted CamVid val
(benchmarks/RESULTS.md) erased bicyclists, a class the camvid-fast model knows well, ranked near
the top, and erased signs and pedestrians and dropped poles, which it does not, mostly near
chance. So a report also carries the model's IoU with the given labels per class on the scored
split, and names the classes under WEAK_CLASS_IOU, where its misses and false detections
outnumber its hits.

Void (unlabelled) pixels carry no label to doubt, which is why cleanlab leaves them out; but an
object nobody labelled is a label error too. Where the model gives a void pixel one class with
at least `void_confidence` probability, the pixel joins an "unlabelled" region (given: void,
suggested: that class) and counts in the image score with self-confidence 1 - p; void that sits
at the same place in most of the split's images (an ego vehicle, a border) is part of the camera,
not a missed object, and is left out.

A few numpy lines rather than cleanlab itself: cleanlab needs every probability map of the
split in memory at once (N x C x H x W float32: 732 MiB for CamVid val) and has no void label;
on that split its confident-learning pass took 11.5 s against 2.1 s for these functions
(2026-12-04, 2-core AMD EPYC, predictions cached). The tests check these functions against
cleanlab's on small arrays.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from core.classes import IGNORE_INDEX
from core.errors import ConfigError, DataError
from core.labeling.issue_options import IMAGE_SCORES, RULES, IssueOptions
from core.labeling.issue_regions import IssueRegion, find_regions, label_edges, same_region
from core.labeling.pending_store import IN_MEMORY, PendingStore
from core.labeling.region_features import pixel_maps
from core.labeling.region_scorer import RegionCollector, RegionFit, image_score
from core.metrics import iou_per_class

HIST_BINS = 256  # self-confidence bins of the pixels the model agrees with (the relative score)
SOFTMIN_TEMPERATURE = 0.1  # cleanlab's default
CAMERA_VOID_IMAGES = 3  # void in most of at least this many same-size masks is the camera's
WEAK_CLASS_IOU = 0.5  # below it, the model's misses + false detections of a class outnumber its hits


# --- per pixel -------------------------------------------------------------------------------
def self_confidence(probs: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """p[given] per pixel (HxW float32) from CxHxW probabilities; NaN where the label is void."""
    labels = np.asarray(labels)
    valid = labels != IGNORE_INDEX
    idx = np.where(valid, labels, 0).astype(np.intp)
    sc = np.take_along_axis(np.asarray(probs), idx[None], axis=0)[0].astype(np.float32)
    sc[~valid] = np.nan
    return sc


def softmin(scores: np.ndarray, temperature: float = SOFTMIN_TEMPERATURE) -> float:
    """cleanlab's softmin: sum(s * softmax((1 - s) / T)) over the non-NaN scores (1.0 if none)."""
    return softmin_of(softmin_sums(scores, temperature))


def softmin_sums(scores: np.ndarray, temperature: float = SOFTMIN_TEMPERATURE) -> np.ndarray:
    """(sum w, sum s * w) with w = exp((1 - s) / T) over the non-NaN scores: sums of parts add
    up, so an image's softmin is kept as two numbers while its pixels are scored. Scores lie in
    [0, 1], so w <= exp(1 / T) and needs no shift for T down to ~0.002."""
    s = np.asarray(scores, np.float64).ravel()
    s = s[~np.isnan(s)]
    w = np.exp((1.0 - s) / temperature)
    return np.array([w.sum(), np.dot(s, w)])


def softmin_of(sums: np.ndarray) -> float:
    return float(sums[1] / sums[0]) if sums[0] > 0 else 1.0


def relative_confidence(sc: np.ndarray, labels: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """Self-confidence over the given class's threshold, capped at 1 (NaN stays NaN)."""
    t = np.maximum(np.asarray(thresholds, np.float32), 1e-6)[np.where(labels == IGNORE_INDEX, 0, labels)]
    return np.minimum(np.float32(1.0), np.asarray(sc, np.float32) / t)


def confidence_histogram(sc: np.ndarray, labels: np.ndarray, num_classes: int) -> np.ndarray:
    """(num_classes, HIST_BINS) int32 counts of the given pixels' self-confidences by class."""
    b = np.minimum((np.asarray(sc, np.float32) * HIST_BINS).astype(np.int64), HIST_BINS - 1)
    idx = labels.astype(np.int64) * HIST_BINS + b
    return np.bincount(idx, minlength=num_classes * HIST_BINS)[:num_classes * HIST_BINS].reshape(
        num_classes, HIST_BINS).astype(np.int32)


def histogram_relative_sums(hist: np.ndarray, thresholds: np.ndarray,
                            temperature: float = SOFTMIN_TEMPERATURE) -> np.ndarray:
    """softmin_sums of relative confidences, each bin's pixels taken at the bin's centre."""
    centre = (np.arange(HIST_BINS) + 0.5) / HIST_BINS
    rel = np.minimum(1.0, centre[None] / np.maximum(np.asarray(thresholds, np.float64), 1e-6)[:, None])
    w = np.exp((1.0 - rel) / temperature) * hist
    return np.array([w.sum(), (rel * w).sum()])


class ClassThresholds:
    """Mean self-confidence per given class, accumulated image by image over a split."""

    def __init__(self, num_classes: int):
        self.sums = np.zeros(num_classes, np.float64)
        self.counts = np.zeros(num_classes, np.int64)

    def add(self, sc: np.ndarray, labels: np.ndarray) -> None:
        valid = labels != IGNORE_INDEX
        n = len(self.sums)
        self.sums += np.bincount(labels[valid], weights=sc[valid], minlength=n)[:n]
        self.counts += np.bincount(labels[valid], minlength=n)[:n]

    def values(self) -> np.ndarray:
        """Per-class thresholds; 1.0 for classes no pixel is labelled with (never used)."""
        with np.errstate(invalid="ignore", divide="ignore"):
            t = self.sums / self.counts
        return np.where(self.counts > 0, t, 1.0)


def suspect_pixels(sc: np.ndarray, pred: np.ndarray, labels: np.ndarray, *, rule: str = "threshold",
                   thresholds: np.ndarray | None = None, margin: float = 0.5,
                   top: np.ndarray | None = None) -> np.ndarray:
    """Boolean HxW: labelled pixels whose label the model doubts (see the module docstring).
    `top` is the probability of the predicted class (the margin rule needs it)."""
    valid = (labels != IGNORE_INDEX) & (pred != labels)
    if rule == "threshold":
        if thresholds is None:
            raise ValueError("the threshold rule needs the per-class thresholds")
        idx = np.where(labels != IGNORE_INDEX, labels, 0)
        return valid & (sc < np.asarray(thresholds, np.float32)[idx])
    if rule == "margin":
        if top is None:
            raise ValueError("the margin rule needs the predicted class's probability")
        return valid & ((top - sc) >= margin)
    raise ConfigError(f"unknown suspect rule {rule!r} (choose from {', '.join(RULES)})")


# --- per image -------------------------------------------------------------------------------
@dataclass
class ImageIssues:
    name: str
    quality: float  # cleanlab softmin of self-confidences, 0..1, lower = worse
    share: float  # fraction of the scored pixels inside suspect regions
    scored: int  # labelled pixels, plus the void pixels of unlabelled regions
    regions: list[IssueRegion] = field(default_factory=list)
    in_sample: bool = False  # the model trained on this image: its doubts are weaker evidence
    model: str = ""  # which checkpoint scored it (folds: a different one per image)
    relative: float | None = None  # softmin of the relative confidences (None: a report without it)
    learned: float | None = None  # its most probable region's learned probability (None: not fitted)

    def score(self, method: str) -> float:
        """Higher = more likely to hold wrong labels: share of labelled pixels in suspect regions,
        that share weighted by each pixel's doubt (1 - self-confidence) or by how rarely the
        model says this instead of that on the whole split (-log P(predicted | given)), or
        1 - cleanlab's softmin quality, of the self-confidences or of the relative ones, or
        1 - (1 - p)(1 - r) of the learned probability p of its most likely wrong region and the
        relative score r (r alone if nothing was fitted): a wrong object or diffuse doubt."""
        if method == "regions" and self.learned is not None:  # the learned region, or diffuse doubt
            relative = 1.0 - (self.quality if self.relative is None else self.relative)
            return 1.0 - (1.0 - self.learned) * (1.0 - relative)
        if method == "share":
            return self.share
        if method == "softmin":
            return 1.0 - self.quality
        if method in ("relative", "regions"):
            return 1.0 - (self.quality if self.relative is None else self.relative)
        if method in ("doubt", "rare"):
            if not self.scored:
                return 0.0
            return sum(r.doubt if method == "doubt" else r.rarity for r in self.regions) / self.scored
        raise ConfigError(f"unknown image score {method!r} (choose from {', '.join(IMAGE_SCORES)})")

    def summary(self, names: Sequence[str], void: str = "void") -> str:
        """One line for a person: the regions, the unlabelled objects among them, the largest."""
        if not self.regions:
            return "no suspect region"
        n = len(self.regions)
        unlabelled = sum(r.unlabelled for r in self.regions)
        given, suggested = self.regions[0].class_names(names, void)  # largest (or most probable) first
        if self.learned is not None:
            return (f"most likely wrong: {given} → {suggested}, {self.regions[0].pixels} px, probability "
                    f"{self.learned:.2f}; {n} candidate region{'s' if n > 1 else ''}"
                    + ("; the model trained on this image" if self.in_sample else ""))
        return (f"{n} suspect region{'s' if n > 1 else ''}"
                + (f" ({unlabelled} unlabelled)" if unlabelled else "")
                + f"; largest: {given} → {suggested}, {self.regions[0].pixels} px"
                + ("; the model trained on this image" if self.in_sample else ""))

    def to_dict(self, names: Sequence[str] | None, method: str, with_pixels: bool = False) -> dict:
        return {"name": self.name, "score": self.score(method), "quality": self.quality,
                "relative_quality": self.relative, "suspect_share": self.share, "scored_pixels": self.scored,
                "in_sample": self.in_sample, "model": self.model, "learned": self.learned,
                "regions": [r.to_dict(names, with_pixels) for r in self.regions]}

    @classmethod
    def from_dict(cls, d: dict) -> "ImageIssues":
        return cls(str(d["name"]), float(d["quality"]), float(d["suspect_share"]), int(d["scored_pixels"]),
                   [IssueRegion.from_dict(r) for r in d["regions"]], bool(d["in_sample"]), str(d["model"]),
                   None if d.get("relative_quality") is None else float(d["relative_quality"]),
                   None if d.get("learned") is None else float(d["learned"]))


@dataclass
class _Pending:
    """What scoring keeps of one image until the split's thresholds are known: the pixels that
    can still turn out suspect (labelled ones the model disagrees with, void it is sure is a
    class), 8 bytes each (10 with the margin rule, 9 skipping edges), the image's softmin sums,
    and for the relative score, which needs the split's thresholds, a per-class histogram of the
    other labelled pixels' self-confidence (11 KB for CamVid's 11 classes): with camvid-fast on
    CamVid val 0.85 bytes a pixel (0.76 scoring the edges; dense maps took 4), so Cityscapes
    train at 1024x2048 needs ~5.3 GB rather than 25."""
    name: str
    shape: tuple[int, int]
    at: np.ndarray  # int32 flat indices of the candidate pixels
    sc: np.ndarray  # float16 self-confidence there (void: 1 - p of the class the model is sure of)
    pred: np.ndarray  # uint8 argmax there
    labels: np.ndarray  # uint8 given there (IGNORE_INDEX: void)
    top: np.ndarray | None  # float16 probability of the argmax there (margin rule only)
    sums: np.ndarray  # softmin_sums over the image's labelled pixels (off their edges with skip_edges)
    hist: np.ndarray  # confidence_histogram of the labelled pixels that are not candidates (nor edges)
    edge: np.ndarray | None  # bool: the candidate sits on its label's edge (skip_edges only)
    labelled: int
    in_sample: bool
    model: str


@dataclass
class IssueReport:
    images: list[ImageIssues]
    thresholds: np.ndarray | None
    options: IssueOptions
    cancelled: bool = False
    class_iou: np.ndarray | None = None  # the model's IoU with the given labels per class on the split
    region_fit: RegionFit | None = None  # the learned region scorer's fit (method "regions")

    def weak_classes(self, names: Sequence[str], below: float = WEAK_CLASS_IOU) -> list[tuple[str, float]]:
        """(class, IoU) of the classes the model agrees with the labels on too little for their
        wrong labels to be found reliably, weakest first."""
        if self.class_iou is None:
            return []
        weak = [(n, float(v)) for n, v in zip(names, self.class_iou) if not np.isnan(v) and v < below]
        return sorted(weak, key=lambda t: t[1])

    def weak_note(self, names: Sequence[str]) -> str:
        """One sentence for a person, "" when every class is known well enough."""
        weak = self.weak_classes(names)
        if not weak:
            return ""
        listed = ", ".join(f"{n} ({v:.2f})" for n, v in weak)
        return (f"wrong labels of {listed} are hard to find: the model's IoU with these classes' labels "
                f"here is under {WEAK_CLASS_IOU:g}, its misses and false detections outnumber its hits")

    def ranked(self) -> list[ImageIssues]:
        """Worst first; ties (e.g. no suspect region) by softmin quality, then by name."""
        m = self.options.method
        return sorted(self.images, key=lambda it: (-it.score(m), it.quality, it.name))

    def order(self) -> list[str]:
        return [it.name for it in self.ranked()]

    def by_name(self) -> dict[str, ImageIssues]:
        return {it.name: it for it in self.images}

    def to_dict(self, names: Sequence[str] | None = None, with_pixels: bool = False) -> dict:
        def per_class(values):  # {class name: value}, None for a class without one (NaN)
            if values is None:
                return None
            keys = names if names is not None else [str(i) for i in range(len(values))]
            return {k: None if np.isnan(v) else float(v) for k, v in zip(keys, values)}

        thr, iou = per_class(self.thresholds), per_class(self.class_iou)
        return {"rule": self.options.rule, "margin": self.options.margin,
                "min_pixels": self.options.min_pixels, "image_score": self.options.method,
                "void_confidence": self.options.void_confidence, "skip_edges": self.options.skip_edges,
                "flip": self.options.flip, "region_threshold": self.options.region_threshold,
                "region_fit": None if self.region_fit is None else self.region_fit.to_dict(),
                "thresholds": thr, "class_iou": iou, "cancelled": self.cancelled,
                "in_sample_images": sum(it.in_sample for it in self.images),
                "images": [it.to_dict(names, self.options.method, with_pixels) for it in self.ranked()]}

    @classmethod
    def from_dict(cls, d: dict) -> "IssueReport":
        """A report written by to_dict (`roadseg label-issues --json`); ConfigError when it is not one."""
        try:
            options = IssueOptions(rule=d["rule"], margin=float(d["margin"]), min_pixels=d["min_pixels"],
                                   method=d["image_score"], void_confidence=float(d.get("void_confidence", 0.0)),
                                   skip_edges=bool(d.get("skip_edges", False)), flip=bool(d.get("flip", False)),
                                   region_threshold=float(d.get("region_threshold", IssueOptions.region_threshold)))
            thr, iou = d.get("thresholds"), d.get("class_iou")
            fit = d.get("region_fit")
            return cls([ImageIssues.from_dict(it) for it in d["images"]],
                       None if thr is None else np.array(list(thr.values()), np.float64),
                       options, bool(d.get("cancelled", False)),
                       None if iou is None else np.array([np.nan if v is None else v for v in iou.values()],
                                                         np.float64),
                       None if fit is None else RegionFit(**fit))
        except (KeyError, TypeError, ValueError, AttributeError) as e:
            raise ConfigError(f"not a label-issues report ({type(e).__name__}: {e})") from None

    @classmethod
    def read(cls, path, reviewed: Callable[[str], list[IssueRegion]] | None = None) -> "IssueReport":
        """The report in a `roadseg label-issues --json` file, without the regions a person has
        marked reviewed since (`reviewed(name)`, as in scoring)."""
        import json
        from pathlib import Path

        try:
            report = cls.from_dict(json.loads(Path(path).read_text()))
        except OSError as e:
            raise DataError(f"{path}: cannot read ({e.strerror or e})") from None
        except (ValueError, ConfigError) as e:
            raise DataError(f"{path}: {e}") from None
        if reviewed is not None:
            for it in report.images:
                old = reviewed(it.name)
                it.regions = [r for r in it.regions if not any(same_region(r, o) for o in old)]
        return report


def _dense(p: _Pending, values: np.ndarray, fill) -> np.ndarray:
    out = np.full(p.shape[0] * p.shape[1], fill, values.dtype)
    out[p.at] = values
    return out.reshape(p.shape)


def _finish(p: _Pending, opts: IssueOptions, thresholds, reviewed, pair_rate, camera_void) -> ImageIssues:
    sc, void = p.sc.astype(np.float32), p.labels == IGNORE_INDEX
    suspect = suspect_pixels(sc, p.pred, p.labels, rule=opts.rule, thresholds=thresholds, margin=opts.margin,
                             top=None if p.top is None else p.top.astype(np.float32))
    unlabelled = void.copy()  # void the model is sure about (score_label_issues)
    if camera_void is not None:
        unlabelled &= ~camera_void.ravel()[p.at]
    rarity = -np.log(np.maximum(pair_rate[np.where(void, pair_rate.shape[0] - 1, p.labels), p.pred], 1e-6))
    labels, pred, sc_map = _dense(p, p.labels, IGNORE_INDEX), _dense(p, p.pred, 0), _dense(p, sc, np.nan)
    min_pixels = opts.min_region(p.shape)
    doubted, index_d = find_regions(_dense(p, suspect, False), labels, pred, min_pixels, sc_map,
                                    _dense(p, np.where(suspect, rarity, 0.0), 0.0))
    missed, index_m = find_regions(_dense(p, unlabelled, False), labels, pred, min_pixels, sc_map,
                                   _dense(p, np.where(unlabelled, rarity, 0.0), 0.0))
    regions = doubted + missed
    index = np.where(index_m >= 0, index_m + len(doubted), index_d).ravel()[p.at]  # at the candidates
    counted = ~void if p.edge is None else ~void & ~p.edge  # labelled candidates in the image scores
    sums = p.sums
    dropped = [i for i, r in enumerate(regions) if any(same_region(r, old) for old in reviewed or ())]
    if dropped:
        gone = np.isin(index, dropped)  # a reviewed region no longer counts against the image
        sums = sums - softmin_sums(np.where(gone & counted, sc, np.nan))
        counted &= ~gone
        index[gone] = -1
        regions = [r for i, r in enumerate(regions) if i not in set(dropped)]
    found = void & (index >= 0)  # void in a kept unlabelled region: scored with 1 - p
    found_sums = softmin_sums(np.where(found, sc, np.nan))
    sums = sums + found_sums
    relative = (histogram_relative_sums(p.hist, thresholds) + found_sums
                + softmin_sums(np.where(counted, relative_confidence(sc, p.labels, thresholds), np.nan)))
    regions.sort(key=lambda r: -r.pixels)  # largest first (a stable sort: labelled before unlabelled)
    scored = p.labelled + int(found.sum())
    in_regions = int((index >= 0).sum())
    return ImageIssues(p.name, softmin_of(sums), in_regions / scored if scored else 0.0, scored,
                       regions, p.in_sample, p.model, softmin_of(relative))


def score_label_issues(samples: Iterable, probs_for: Callable, read_mask: Callable,
                       num_classes: int, options: IssueOptions | None = None, *,
                       in_sample: Callable[[object], bool] | None = None,
                       model_name: Callable[[object], str] | None = None,
                       reviewed: Callable[[str], list[IssueRegion]] | None = None,
                       progress: Callable[[int, int], None] | None = None,
                       cancelled: Callable[[], bool] | None = None,
                       in_memory: int = IN_MEMORY) -> IssueReport:
    """Score every sample. `probs_for(sample)` -> CxHxW softmax probabilities at the mask's size
    from a model that (ideally) never trained on it; `read_mask(sample)` -> the current labels;
    `reviewed(name)` -> regions a person already dismissed (they are dropped, see same_region).
    The thresholds are the split's, so images are finished after the last one is predicted; what
    waits for them beyond `in_memory` bytes waits on disk (core.labeling.pending_store)."""
    opts = options or IssueOptions()
    samples = list(samples)
    acc = ClassThresholds(num_classes)
    k = num_classes
    pairs = np.zeros((k + 1) * k, np.float64)  # (given, predicted) pixel counts; given k: void
    void_seen: dict[tuple[int, int], np.ndarray] = {}  # mask size -> per-pixel count of void
    pending = PendingStore(in_memory)  # beyond `in_memory` bytes on disk: bounded for any split
    collector = RegionCollector(k, opts.min_region, opts.void_confidence) if opts.method == "regions" else None
    stopped = False
    for i, sample in enumerate(samples):
        if cancelled is not None and cancelled():
            stopped = True
            break
        probs = np.asarray(probs_for(sample), np.float32)
        labels = np.asarray(read_mask(sample), np.uint8)
        if probs.shape[1:] != labels.shape:
            raise ConfigError(f"{sample.name}: probabilities {probs.shape[1:]} != mask {labels.shape}")
        sc = self_confidence(probs, labels)
        acc.add(sc, labels)
        maps = pixel_maps(probs) if collector is not None else None  # argmax and max once for both
        pred, top = (maps.pred, maps.top) if maps is not None else (probs.argmax(0).astype(np.uint8), probs.max(0))
        if collector is not None:
            collector.add(sample.name, probs, labels, maps)
        if opts.void_confidence > 0:
            sure = (labels == IGNORE_INDEX) & (top >= np.float32(opts.void_confidence))
            sc[sure] = 1.0 - top[sure]  # how surely the model says this void is a class
        void = labels == IGNORE_INDEX
        given = np.where(void, k, labels).astype(np.int64)
        pairs += np.bincount((given * k + pred).ravel(), minlength=(k + 1) * k)[:(k + 1) * k]
        void_seen.setdefault(labels.shape, np.zeros(labels.shape, np.int32))[...] += void
        sc = sc.astype(np.float16)  # what is kept; the sums see the same values
        at = np.flatnonzero((~void & (pred != labels)) | (void & ~np.isnan(sc))).astype(np.int32)
        flat = (a.ravel()[at] for a in (sc, pred, labels))
        edge = label_edges(labels) if opts.skip_edges else None
        counted = ~void if edge is None else ~void & ~edge
        agreed = counted & (pred == labels)  # never a candidate: kept as a histogram
        pending.append(_Pending(sample.name, labels.shape, at, *flat,
                                top.ravel()[at].astype(np.float16) if opts.rule == "margin" else None,
                                softmin_sums(np.where(counted, sc, np.nan)),
                                confidence_histogram(sc[agreed], labels[agreed], k),
                                None if edge is None else edge.ravel()[at], int((~void).sum()),
                                bool(in_sample(sample)) if in_sample else False,
                                model_name(sample) if model_name else ""))
        if progress is not None:
            progress(i + 1, len(samples))
    thresholds = acc.values()
    pairs = pairs.reshape(k + 1, k)
    with np.errstate(invalid="ignore", divide="ignore"):
        pair_rate = np.nan_to_num(pairs / pairs.sum(1, keepdims=True))  # P(predicted | given)
    sizes = Counter(pending.shapes)
    camera = {shape: seen * 2 > sizes[shape] if sizes[shape] >= CAMERA_VOID_IMAGES else None
              for shape, seen in void_seen.items()}
    try:
        images = [_finish(p, opts, thresholds, reviewed(p.name) if reviewed else None, pair_rate,
                          camera[p.shape]) for p in pending]
    finally:
        pending.close()
    class_iou = iou_per_class(pairs[:k])  # rows: given (void's row left out)
    fit = None
    if collector is not None:
        shape_of = {it.name: shape for it, shape in zip(images, pending.shapes)}
        learned, fit = collector.finish(thresholds, class_iou, pair_rate, camera=lambda n: camera[shape_of[n]],
                                        reviewed=reviewed)
        for it in images:
            if it.name in learned:
                it.regions = learned[it.name]
                it.learned = image_score(it.regions)
    return IssueReport(images, thresholds if opts.rule == "threshold" else None, opts, stopped, class_iou, fit)


# --- which images a checkpoint trained on -----------------------------------------------------
def trained_on(config, split: str) -> Callable[[object], bool]:
    """sample -> True when a run with this TrainConfig trained on it: the scored split is its
    training split and the sample is not in its hold-out (file-name prefixes)."""
    if config is None or split != getattr(config, "train_split", "train"):
        return lambda _s: False
    prefixes = tuple(p.strip() for p in (getattr(config, "holdout", "") or "").split(",") if p.strip())
    return lambda s: not (prefixes and s.name.startswith(prefixes))


def kfold_names(names: Sequence[str], k: int, seed: int = 0) -> list[list[str]]:
    """Split names into k shuffled folds of near-equal size (each held out by one model)."""
    if k < 2:
        raise ConfigError(f"--folds needs at least 2 folds, got {k}")
    if len(names) < k:
        raise ConfigError(f"{k} folds need at least {k} images, the split has {len(names)}")
    order = np.random.default_rng(seed).permutation(len(names))
    return [sorted(names[j] for j in order[f::k]) for f in range(k)]
