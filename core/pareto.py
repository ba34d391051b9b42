"""Pareto front of (cost, score) points — the report's accuracy/compute trade-off.

A run is on the front when no other run reaches at least its mIoU for at most its GFLOPs.
Kept apart from the GUI so the CLI and tests can use the same answer.
"""
from __future__ import annotations

import math
from typing import Iterable, Sequence


def pareto_front(points: Iterable[Sequence[float]]) -> list[int]:
    """Indices of the non-dominated points, ordered by cost ascending.

    ``points`` are ``(cost, score)`` pairs (e.g. GFLOPs, mIoU); lower cost and higher score are
    better. A point is kept when its score is strictly above every point of lower or equal cost
    (for exact duplicates only the first is kept). Points with a missing or non-finite value are
    ignored.
    """
    valid = []
    for i, p in enumerate(points):
        try:
            x, y = float(p[0]), float(p[1])
        except (TypeError, ValueError, IndexError):
            continue
        if math.isfinite(x) and math.isfinite(y):
            valid.append((x, -y, i))
    valid.sort()  # cost ascending, then score descending, then original order
    front: list[int] = []
    best = -math.inf
    for x, neg_y, i in valid:
        if -neg_y > best:
            front.append(i)
            best = -neg_y
    return front
