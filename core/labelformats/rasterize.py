"""Fill labelme-style shapes into an index mask exactly as labelme2voc does: with Pillow's
ImageDraw, painted in file order into one image.

Convention (labelme's utils.shape_to_mask): vertices are pixel-centre coordinates, the pixels on
the outline belong to the shape, and what lies beyond the image is clipped. Pixel i spans
i - 0.5 .. i + 0.5, so the image covers -0.5 .. W - 0.5; a vertex past that was traced off the
edge and the shape is counted as clipped. A shape whose every vertex lies a pixel or more beyond
one side, or a polygon with fewer than 3 distinct vertices, covers nothing and is skipped.
"""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from core.classes import IGNORE_INDEX
from core.errors import DataError


def as_points(raw: Sequence, path: Path, what: str) -> np.ndarray:
    """[[x, y], ...] -> float [N, 2]; DataError for anything that is not a list of number pairs."""
    bad = DataError(f"{path}: {what}: points must be a list of [x, y] numbers")
    try:
        pts = np.asarray(raw if raw is not None else [], np.float64)
    except (TypeError, ValueError):
        raise bad from None
    if pts.size == 0:
        return np.empty((0, 2))
    if pts.ndim != 2 or pts.shape[1] != 2 or not np.isfinite(pts).all():
        raise bad
    return pts


def why_skipped(points: np.ndarray, hw: tuple[int, int], kind: str) -> str | None:
    """Why the shape covers no pixel of the HxW image (then it is skipped), or None."""
    needed = 3 if kind == "polygon" else 2
    distinct = len(np.unique(points, axis=0)) if len(points) else 0
    if kind == "polygon" and distinct < needed:
        return f"{distinct} distinct point{'s' * (distinct != 1)}, a polygon needs 3"
    if len(points) < needed:
        return f"{len(points)} point{'s' * (len(points) != 1)}, a {kind} needs {needed}"
    h, w = hw
    lo, hi = extent(points, kind)
    if hi[0] <= -1 or hi[1] <= -1 or lo[0] >= w or lo[1] >= h:
        return "outside the image"
    return None


def extent(points: np.ndarray, kind: str) -> tuple[np.ndarray, np.ndarray]:
    """(min x, min y), (max x, max y) of what the shape covers; a circle is its centre +- radius."""
    if kind == "circle":
        r = float(np.hypot(*(points[1] - points[0])))
        return points[0] - r, points[0] + r
    return points.min(0), points.max(0)


def crosses_border(points: np.ndarray, hw: tuple[int, int], kind: str) -> bool:
    """True when part of the shape lies beyond the image's pixels (-0.5 .. W - 0.5)."""
    lo, hi = extent(points, kind)
    return bool((lo < -0.5).any() or hi[0] > hw[1] - 0.5 or hi[1] > hw[0] - 0.5)


class ShapePainter:
    """An HxW canvas starting as `fill` (void); each call paints one shape over what is there."""

    def __init__(self, hw: tuple[int, int], fill: int = IGNORE_INDEX):
        self.image = Image.new("L", (hw[1], hw[0]), int(fill))
        self.draw = ImageDraw.Draw(self.image)

    def polygon(self, points: np.ndarray, value: int) -> None:
        self.draw.polygon([tuple(p) for p in points.tolist()], fill=int(value), outline=int(value))

    def rectangle(self, points: np.ndarray, value: int) -> None:
        """Two opposite corners; both corners' pixels included."""
        (x0, y0), (x1, y1) = points[:2].tolist()
        self.draw.rectangle(((min(x0, x1), min(y0, y1)), (max(x0, x1), max(y0, y1))),
                            fill=int(value), outline=int(value))

    def circle(self, points: np.ndarray, value: int) -> None:
        """Centre and one point on the circle (labelme's circle)."""
        (cx, cy), (px, py) = points[:2].tolist()
        r = float(np.hypot(px - cx, py - cy))
        self.draw.ellipse(((cx - r, cy - r), (cx + r, cy + r)), fill=int(value), outline=int(value))

    def paste(self, part: np.ndarray, x0: int, y0: int, value: int) -> bool:
        """A boolean part whose top-left pixel is (x0, y0), clipped; True when it had to be clipped."""
        w, h = self.image.size
        ph, pw = part.shape
        cx0, cy0 = max(x0, 0), max(y0, 0)
        cx1, cy1 = min(x0 + pw, w), min(y0 + ph, h)
        if cx1 > cx0 and cy1 > cy0:
            inside = part[cy0 - y0:cy1 - y0, cx0 - x0:cx1 - x0]
            region = np.asarray(self.image.crop((cx0, cy0, cx1, cy1))).copy()
            region[inside] = value
            self.image.paste(Image.fromarray(region), (cx0, cy0))
        return (cx0, cy0, cx1, cy1) != (x0, y0, x0 + pw, y0 + ph)

    def mask(self) -> np.ndarray:
        return np.asarray(self.image, np.uint8).copy()
