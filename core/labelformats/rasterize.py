"""Fill labelme-style shapes into an index mask with OpenCV.

Convention (labelme's own labelme2voc, which draws with PIL): vertices are pixel coordinates,
rounded to the nearest pixel, and the pixels on the outline belong to the shape. A vertex beyond
the image's border (x outside 0..W or y outside 0..H) is bad input, not something to clip quietly:
the annotation was made on another image size or is corrupt.
"""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np

from core.errors import DataError


def check_inside(points: np.ndarray, hw: tuple[int, int], path: Path, what: str) -> None:
    """DataError naming the file and the shape when a vertex lies outside the HxW image."""
    h, w = hw
    outside = (points[:, 0] < 0) | (points[:, 0] > w) | (points[:, 1] < 0) | (points[:, 1] > h)
    if outside.any():
        x, y = points[outside][0]
        raise DataError(f"{path}: {what}: polygon outside the image (point ({x:g}, {y:g}) is "
                        f"beyond the {w}x{h} image, WxH)")


def as_points(raw: Sequence, path: Path, what: str, at_least: int) -> np.ndarray:
    """[[x, y], ...] -> float [N, 2]; DataError for anything else or too few points."""
    try:
        pts = np.asarray(raw, np.float64)
    except (TypeError, ValueError):
        pts = np.empty(0)
    if pts.ndim != 2 or pts.shape[1] != 2 or not np.isfinite(pts).all():
        raise DataError(f"{path}: {what}: points must be a list of [x, y] numbers")
    if len(pts) < at_least:
        raise DataError(f"{path}: {what}: needs at least {at_least} points, has {len(pts)}")
    return pts


def _pixels(points: np.ndarray, hw: tuple[int, int]) -> np.ndarray:
    h, w = hw
    xy = np.rint(points).astype(np.int64)
    xy[:, 0] = np.clip(xy[:, 0], 0, w - 1)  # a vertex on the right/bottom border: last pixel
    xy[:, 1] = np.clip(xy[:, 1], 0, h - 1)
    return xy.astype(np.int32)


def fill_polygon(mask: np.ndarray, points: np.ndarray, value: int) -> None:
    cv2.fillPoly(mask, [_pixels(points, mask.shape)], int(value), lineType=cv2.LINE_8)


def fill_rectangle(mask: np.ndarray, points: np.ndarray, value: int) -> None:
    """Two opposite corners; both corners' pixels included."""
    xy = _pixels(points[:2], mask.shape)
    x0, x1 = sorted(xy[:, 0])
    y0, y1 = sorted(xy[:, 1])
    mask[y0:y1 + 1, x0:x1 + 1] = value


def fill_circle(mask: np.ndarray, points: np.ndarray, value: int) -> None:
    """Centre and one point on the circle (labelme's circle)."""
    centre = np.rint(points[0]).astype(int)
    radius = int(np.rint(np.hypot(*(points[1] - points[0]))))
    cv2.circle(mask, (int(centre[0]), int(centre[1])), radius, int(value), thickness=-1)
