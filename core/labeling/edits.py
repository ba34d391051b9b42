"""Pure-numpy mask edits for the label editor: brush strokes, flood fill, polygon fill.

Every operation works in two steps — compute *where* (a Rect plus a boolean stencil covering only
that rect), then `apply_stencil` writes a class id (or another mask's values, for "take the
prediction here") into it. Keeping the work inside the rect is what makes a brush stroke on a
2048x1024 mask cost the same as on a 360x480 one, and the rect is exactly what the undo history
and the on-screen overlay need to refresh.
"""
from __future__ import annotations

from functools import lru_cache
from typing import NamedTuple

import cv2
import numpy as np


class Rect(NamedTuple):
    """Half-open pixel rectangle [x0, x1) x [y0, y1)."""

    x0: int
    y0: int
    x1: int
    y1: int

    @property
    def width(self) -> int:
        return self.x1 - self.x0

    @property
    def height(self) -> int:
        return self.y1 - self.y0

    @property
    def empty(self) -> bool:
        return self.x1 <= self.x0 or self.y1 <= self.y0

    @property
    def slices(self) -> tuple[slice, slice]:
        """(rows, cols) for indexing an HxW array."""
        return slice(self.y0, self.y1), slice(self.x0, self.x1)

    def clip(self, shape: tuple[int, ...]) -> Rect:
        h, w = shape[:2]
        return Rect(max(0, self.x0), max(0, self.y0), min(w, self.x1), min(h, self.y1))

    def union(self, other: Rect | None) -> Rect:
        if other is None or other.empty:
            return self
        if self.empty:
            return other
        return Rect(min(self.x0, other.x0), min(self.y0, other.y0),
                    max(self.x1, other.x1), max(self.y1, other.y1))


def full_rect(shape: tuple[int, ...]) -> Rect:
    return Rect(0, 0, shape[1], shape[0])


def brush_radius(size: int) -> int:
    """How far (in whole pixels) a dab of diameter `size` reaches from its centre pixel."""
    return max(0, int(size) // 2)


@lru_cache(maxsize=64)
def disk(size: int) -> np.ndarray:
    """Boolean dab of diameter `size`: pixels whose centre lies within size/2 of the centre pixel
    (size 1 is one pixel, size 3 a full 3x3 square, larger sizes round)."""
    r = brush_radius(size)
    yy, xx = np.mgrid[-r:r + 1, -r:r + 1]
    out = (xx * xx + yy * yy) <= (max(1, int(size)) / 2.0) ** 2
    out.setflags(write=False)
    return out


def stroke_stencil(p0: tuple[float, float], p1: tuple[float, float], size: int,
                   shape: tuple[int, ...]) -> tuple[Rect, np.ndarray] | None:
    """Dabs of diameter `size` from p0 to p1, spaced so consecutive dabs overlap.

    Points are (x, y) in image pixels. Returns (rect, bool stencil of the rect's size) clipped to
    `shape`, or None when the segment lies entirely outside the image.
    """
    (xa, ya), (xb, yb) = p0, p1
    r = brush_radius(size)
    dab = disk(size)
    rect = Rect(int(np.floor(min(xa, xb))) - r, int(np.floor(min(ya, yb))) - r,
                int(np.floor(max(xa, xb))) + r + 1, int(np.floor(max(ya, yb))) + r + 1).clip(shape)
    if rect.empty:
        return None
    stencil = np.zeros((rect.height, rect.width), bool)
    dist = float(np.hypot(xb - xa, yb - ya))
    spacing = max(1.0, r / 2.0)
    n = int(np.ceil(dist / spacing)) if dist > 0 else 0
    for k in range(n + 1):
        t = k / n if n else 0.0
        # dab's top-left in stencil coordinates, then clip the dab to the stencil
        x0 = int(np.floor(xa + (xb - xa) * t)) - r - rect.x0
        y0 = int(np.floor(ya + (yb - ya) * t)) - r - rect.y0
        sx0, sy0 = max(0, -x0), max(0, -y0)
        sx1 = min(dab.shape[1], rect.width - x0)
        sy1 = min(dab.shape[0], rect.height - y0)
        if sx1 > sx0 and sy1 > sy0:
            stencil[y0 + sy0:y0 + sy1, x0 + sx0:x0 + sx1] |= dab[sy0:sy1, sx0:sx1]
    return rect, stencil


def polygon_stencil(points: list[tuple[float, float]],
                    shape: tuple[int, ...]) -> tuple[Rect, np.ndarray] | None:
    """Filled polygon (cv2.fillPoly) through (x, y) vertices, clipped to `shape`; None if empty."""
    if len(points) < 3:
        return None
    pts = np.round(np.asarray(points, np.float64)).astype(np.int32)
    rect = Rect(int(pts[:, 0].min()), int(pts[:, 1].min()),
                int(pts[:, 0].max()) + 1, int(pts[:, 1].max()) + 1).clip(shape)
    if rect.empty:
        return None
    stencil = np.zeros((rect.height, rect.width), np.uint8)
    cv2.fillPoly(stencil, [pts - np.array([rect.x0, rect.y0], np.int32)], 1)
    if not stencil.any():
        return None
    return rect, stencil.astype(bool)


def region_stencil(region: np.ndarray, allowed: np.ndarray | None = None) -> tuple[Rect, np.ndarray] | None:
    """A whole-image boolean region (a click-to-segment proposal) as the rect around it and its
    stencil, limited to `allowed` pixels when given; None when nothing is left."""
    if allowed is not None:
        region = region & allowed
    ys, xs = np.nonzero(region)
    if not len(ys):
        return None
    rect = Rect(int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1)
    return rect, region[rect.slices].copy()


def flood_stencil(mask: np.ndarray, x: int, y: int) -> tuple[Rect, np.ndarray] | None:
    """The 4-connected region of the class at (x, y) (cv2.floodFill in mask-only mode)."""
    h, w = mask.shape
    if not (0 <= x < w and 0 <= y < h):
        return None
    region = np.zeros((h + 2, w + 2), np.uint8)
    flags = 4 | cv2.FLOODFILL_MASK_ONLY | cv2.FLOODFILL_FIXED_RANGE | (1 << 8)
    _, _, _, (rx, ry, rw, rh) = cv2.floodFill(mask, region, (int(x), int(y)), 0, 0, 0, flags)
    rect = Rect(rx, ry, rx + rw, ry + rh)
    return rect, region[1 + rect.y0:1 + rect.y1, 1 + rect.x0:1 + rect.x1].astype(bool)


def apply_stencil(mask: np.ndarray, rect: Rect, stencil: np.ndarray,
                  value: int | None = None, source: np.ndarray | None = None) -> None:
    """Write `value`, or `source`'s pixels (same shape as mask), where the stencil is set."""
    region = mask[rect.slices]
    if source is not None:
        region[stencil] = source[rect.slices][stencil]
    else:
        region[stencil] = np.uint8(value)


def changed_rect(before: np.ndarray, after: np.ndarray, within: Rect | None = None) -> Rect | None:
    """Bounding box of the pixels that differ (searched only inside `within`); None if none do."""
    within = within or full_rect(after.shape)
    diff = before[within.slices] != after[within.slices]
    rows, cols = np.flatnonzero(diff.any(1)), np.flatnonzero(diff.any(0))
    if rows.size == 0:
        return None
    return Rect(within.x0 + int(cols[0]), within.y0 + int(rows[0]),
                within.x0 + int(cols[-1]) + 1, within.y0 + int(rows[-1]) + 1)
