"""Class pixel statistics of a split and the class weights derived from them.

Road scenes are badly imbalanced (road and sky cover most pixels, bicyclists a fraction of a
percent), so weighted losses need per-class weights. Four are offered:

- inverse:  w_c = N / (C * n_c)               (N labelled pixels, C classes in the schema)
- median:   median-frequency balancing (Eigen & Fergus 2015, used by SegNet):
            freq_c = n_c / P_c, P_c = labelled pixels of the images that contain c;
            w_c = median(freq) / freq_c
- enet:     w_c = 1 / ln(1.02 + p_c), p_c = n_c / N   (Paszke et al., ENet 2016)
- sqrt-median: the square root of the median weights, a milder balance (CamVid: 7.7x from
            Road to Bicyclist instead of 59x) that lifts rare classes with less damage to the
            common ones than full median balancing.

Each is registered once (`register_weighting`); `roadseg train --class-weights` and the Train
view list the registry. Classes that never occur get weight 0 in every method: they are never a target, and a large
finite number would only mislead a chart.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from core.classes import IGNORE_INDEX
from core.errors import ConfigError


@dataclass(frozen=True)
class WeightingSpec:
    """A class weighting by name: how to compute it and a help line."""

    name: str
    build: Callable[[ClassStats, np.ndarray], np.ndarray]  # (stats, present) -> w[present]
    help: str


_WEIGHTINGS: dict[str, WeightingSpec] = {}


def register_weighting(name: str, help: str):
    """Decorator: `build(stats, present) -> weights of the present classes` under `name`
    (`present`: bool [C], classes with pixels; absent classes get 0 whatever the method)."""
    def deco(build):
        _WEIGHTINGS[name] = WeightingSpec(name, build, help)
        return build
    return deco


def weighting_specs() -> dict[str, WeightingSpec]:
    return dict(_WEIGHTINGS)


@register_weighting("inverse", "inverse frequency N / (C n_c)")
def _inverse(stats: ClassStats, present: np.ndarray) -> np.ndarray:
    n = stats.pixel_counts.astype(np.float64)
    return n.sum() / (stats.num_classes * n[present])


@register_weighting("median", "median-frequency balancing (SegNet)")
def _median(stats: ClassStats, present: np.ndarray) -> np.ndarray:
    freq = stats.pixel_counts[present].astype(np.float64) / stats.present_pixels[present]
    return np.median(freq) / freq


@register_weighting("enet", "ENet's 1 / ln(1.02 + p_c)")
def _enet(stats: ClassStats, present: np.ndarray) -> np.ndarray:
    n = stats.pixel_counts.astype(np.float64)
    return 1.0 / np.log(1.02 + n[present] / n.sum())


@register_weighting("sqrt-median", "square root of the median weights (milder)")
def _sqrt_median(stats: ClassStats, present: np.ndarray) -> np.ndarray:
    return np.sqrt(_median(stats, present))


WEIGHT_METHODS = tuple(_WEIGHTINGS)


@dataclass
class ClassStats:
    class_names: list[str]
    pixel_counts: np.ndarray    # [C] int64 pixels of each class
    image_counts: np.ndarray    # [C] int64 images containing each class
    present_pixels: np.ndarray  # [C] int64 labelled pixels of the images containing each class
    total_pixels: int           # all pixels, void included
    void_pixels: int
    num_images: int

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    @property
    def labelled_pixels(self) -> int:
        return int(self.pixel_counts.sum())

    @property
    def fractions(self) -> np.ndarray:
        """Share of each class among labelled (non-void) pixels; zeros if nothing is labelled."""
        n = self.labelled_pixels
        return self.pixel_counts / n if n else np.zeros(self.num_classes)

    def weights(self, method: str) -> np.ndarray:
        """float32 [C] class weights by one of WEIGHT_METHODS."""
        spec = _WEIGHTINGS.get(method)
        if spec is None:
            choices = ", ".join(("none", *_WEIGHTINGS))
            raise ConfigError(f"unknown class weighting {method!r} (choose from {choices})")
        present = self.pixel_counts > 0
        w = np.zeros(self.num_classes)
        w[present] = spec.build(self, present)
        return w.astype(np.float32)

    def rare_classes(self) -> list[int]:
        """Classes rarer than the median class (median-frequency weight above 1); absent ones
        are left out. On CamVid: Pole, SignSymbol, Fence, Pedestrian, Bicyclist."""
        w = self.weights("median")
        return [int(c) for c in np.flatnonzero(w > 1.0)]

    def to_dict(self) -> dict[str, Any]:
        return {
            "class_names": list(self.class_names),
            "pixel_counts": self.pixel_counts.tolist(),
            "image_counts": self.image_counts.tolist(),
            "present_pixels": self.present_pixels.tolist(),
            "fractions": self.fractions.tolist(),
            "total_pixels": int(self.total_pixels),
            "void_pixels": int(self.void_pixels),
            "num_images": int(self.num_images),
        }


def stats_from_masks(masks: Iterable[np.ndarray], class_names: list[str] | tuple[str, ...],
                     progress: Callable[[int, int], None] | None = None,
                     total: int = 0) -> ClassStats:
    """Accumulate exact counts over train-id masks (255 void; other out-of-range ids rejected)."""
    counts = (np.bincount(np.asarray(mask, np.uint8).ravel(), minlength=256) for mask in masks)
    return stats_from_counts(counts, class_names, progress, total)


def stats_from_counts(counts: Iterable[np.ndarray], class_names: list[str] | tuple[str, ...],
                      progress: Callable[[int, int], None] | None = None,
                      total: int = 0) -> ClassStats:
    """The statistics of masks given as their per-id pixel counts ([256] each, one per mask;
    core.data.decoded counts them while decoding)."""
    c = len(class_names)
    pixels, images, present = (np.zeros(c, np.int64) for _ in range(3))
    total_px = void_px = n_img = 0
    for counts_of_one in counts:
        counts_of_one = np.asarray(counts_of_one, np.int64)
        if counts_of_one[c:IGNORE_INDEX].any():
            bad = (np.flatnonzero(counts_of_one[c:IGNORE_INDEX]) + c).tolist()
            raise ValueError(f"mask holds ids {bad} outside 0..{c - 1} and {IGNORE_INDEX}")
        own = counts_of_one[:c]
        has = own > 0
        pixels += own
        images += has
        present[has] += own.sum()
        total_px += int(counts_of_one.sum())
        void_px += int(counts_of_one[IGNORE_INDEX])
        n_img += 1
        if progress is not None:
            progress(n_img, total)
    return ClassStats(list(class_names), pixels, images, present, total_px, void_px, n_img)


def compute_stats(source, split: str,
                  progress: Callable[[int, int], None] | None = None) -> ClassStats:
    """Exact class statistics of one split of a DataSource (reads every mask once)."""
    samples = source.samples(split)
    masks = (source.read_mask(s) for s in samples)
    return stats_from_masks(masks, source.schema.names, progress, total=len(samples))


def class_weights(stats: ClassStats, method: str) -> np.ndarray | None:
    """Weights for a weighted loss; "none" (or None) means unweighted and returns None."""
    if method in (None, "none"):
        return None
    return stats.weights(method)
