"""Suspect regions: connected patches of pixels whose label the model doubts (or void it is
sure is a class), what is labelled there and what the model says instead, found again in a
later scoring, and accepted as one undoable edit. Scoring them is core.labeling.label_issues."""
from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import cv2
import numpy as np

from core.classes import IGNORE_INDEX
from core.labeling.edits import Rect, apply_stencil


@dataclass(frozen=True)
class IssueRegion:
    """A connected patch of suspect pixels: what it is labelled, what the model says instead."""

    given: int  # majority given class
    suggested: int  # majority predicted class
    pixels: int
    bbox: tuple[int, int, int, int]  # x0, y0, x1, y1 (half-open)
    digest: str  # hash of the region's pixels (bbox + stencil): finds the same region again
    stencil: np.ndarray | None = field(default=None, compare=False, repr=False)  # bool, bbox-sized
    doubt: float = field(default=0.0, compare=False)  # sum over its pixels of 1 - self-confidence
    rarity: float = field(default=0.0, compare=False)  # sum of -log P(model says this | given) on the split
    probability: float | None = field(default=None, compare=False)  # learned: it is a label error (region_scorer)

    def contains(self, x: int, y: int) -> bool:
        x0, y0, x1, y1 = self.bbox
        if not (x0 <= x < x1 and y0 <= y < y1):
            return False
        return self.stencil is None or bool(self.stencil[y - y0, x - x0])

    @property
    def unlabelled(self) -> bool:
        """Void the model is sure is a class: an object nobody labelled, not a doubted label."""
        return self.given == IGNORE_INDEX

    def class_names(self, names: Sequence[str], void: str = "void") -> tuple[str, str]:
        """(given, suggested) as class names; `void` for an unlabelled region's given class."""
        return class_name(names, self.given, void), class_name(names, self.suggested, void)

    def to_dict(self, names: Sequence[str] | None = None, with_pixels: bool = False) -> dict:
        """Plain values; `with_pixels` adds the stencil (bits of the box, row by row, base64), so
        a report read back can still outline and accept the region."""
        d = {"given": self.given, "suggested": self.suggested, "pixels": self.pixels,
             "bbox": list(self.bbox), "digest": self.digest, "doubt": round(self.doubt, 3),
             "rarity": round(self.rarity, 3), "unlabelled": self.unlabelled}
        if self.probability is not None:
            d["probability"] = round(self.probability, 4)
        if names is not None:
            d["given_name"], d["suggested_name"] = self.class_names(names)
        if with_pixels and self.stencil is not None:
            d["stencil"] = base64.b64encode(np.packbits(np.ascontiguousarray(self.stencil, bool))).decode()
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "IssueRegion":
        bbox = tuple(int(v) for v in d["bbox"])
        stencil = None
        if "stencil" in d:
            h, w = bbox[3] - bbox[1], bbox[2] - bbox[0]
            bits = np.unpackbits(np.frombuffer(base64.b64decode(d["stencil"]), np.uint8), count=h * w)
            stencil = bits.astype(bool).reshape(h, w)
        return cls(int(d["given"]), int(d["suggested"]), int(d["pixels"]), bbox, str(d.get("digest", "")),
                   stencil, doubt=float(d.get("doubt", 0.0)), rarity=float(d.get("rarity", 0.0)),
                   probability=None if d.get("probability") is None else float(d["probability"]))


def class_name(names: Sequence[str], i: int, void: str = "void") -> str:
    return names[i] if 0 <= i < len(names) else void


def region_digest(stencil: np.ndarray, bbox: tuple[int, int, int, int]) -> str:
    packed = np.packbits(np.ascontiguousarray(stencil, bool))
    return hashlib.sha1(repr(tuple(bbox)).encode() + packed.tobytes()).hexdigest()[:16]


def label_edges(labels: np.ndarray) -> np.ndarray:
    """Boolean HxW: pixels with a 4-neighbour of another given label (void included)."""
    edge = np.zeros(labels.shape, bool)
    dx, dy = labels[:, 1:] != labels[:, :-1], labels[1:] != labels[:-1]
    edge[:, 1:] |= dx
    edge[:, :-1] |= dx
    edge[1:] |= dy
    edge[:-1] |= dy
    return edge


def find_regions(suspect: np.ndarray, labels: np.ndarray, pred: np.ndarray,
                 min_pixels: int = 1, sc: np.ndarray | None = None,
                 rarity: np.ndarray | None = None) -> tuple[list[IssueRegion], np.ndarray]:
    """8-connected components of `suspect` with at least `min_pixels` pixels, largest first, and
    the HxW int32 map of region indices (-1 outside any kept region). With the self-confidence
    `sc`, each region's doubt is the sum of 1 - sc over its pixels; with a per-pixel `rarity`
    map, its rarity is that map's sum over the region."""
    n, cc, stats, _ = cv2.connectedComponentsWithStats(suspect.astype(np.uint8), connectivity=8)
    index = np.full(suspect.shape, -1, np.int32)
    if n <= 1:
        return [], index
    inside = cc > 0
    comp = cc[inside].astype(np.int64)
    given = np.bincount(comp * 256 + labels[inside], minlength=n * 256).reshape(n, 256).argmax(1)
    sugg = np.bincount(comp * 256 + pred[inside], minlength=n * 256).reshape(n, 256).argmax(1)
    doubt = (np.bincount(comp, weights=1.0 - sc[inside].astype(np.float64), minlength=n)
             if sc is not None else np.zeros(n))
    rare = (np.bincount(comp, weights=rarity[inside].astype(np.float64), minlength=n)
            if rarity is not None else np.zeros(n))
    keep = [k for k in range(1, n) if stats[k, cv2.CC_STAT_AREA] >= min_pixels]
    keep.sort(key=lambda k: (-int(stats[k, cv2.CC_STAT_AREA]), k))
    regions = []
    for i, k in enumerate(keep):
        x, y, w, h, area = (int(v) for v in stats[k])
        bbox = (x, y, x + w, y + h)
        stencil = cc[y:y + h, x:x + w] == k
        index[y:y + h, x:x + w][stencil] = i
        regions.append(IssueRegion(int(given[k]), int(sugg[k]), area, bbox, region_digest(stencil, bbox),
                                   stencil, float(doubt[k]), float(rare[k])))
    return regions, index


def bbox_iou(a: Sequence[int], b: Sequence[int]) -> float:
    ix = max(0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def same_region(a: IssueRegion, b: IssueRegion, min_iou: float = 0.5) -> bool:
    """The same issue seen again: identical pixels, or the same class pair on an overlapping box
    (a retrained model draws the region a few pixels differently)."""
    if a.digest and a.digest == b.digest:
        return True
    return a.given == b.given and a.suggested == b.suggested and bbox_iou(a.bbox, b.bbox) >= min_iou


def region_at(regions: Iterable[IssueRegion], x: int, y: int) -> IssueRegion | None:
    """The region holding pixel (x, y), if any."""
    return next((r for r in regions if r.contains(x, y)), None)


def accept_region(session, region: IssueRegion) -> Rect | None:
    """Give the region's pixels the suggested class in a LabelSession, as one undoable step;
    the rect that changed (None: nothing did)."""
    if region.stencil is None:
        raise ValueError("this region carries no pixels (read back from a file?)")
    new = session.mask.copy()
    apply_stencil(new, Rect(*region.bbox), region.stencil, region.suggested)
    return session.replace_mask(new, f"accept suggestion ({region.pixels} px)")
