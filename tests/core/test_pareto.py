"""pareto_front: the max-score-for-at-most-this-cost staircase."""
import math

from core.pareto import pareto_front


def test_hand_made_front():
    pts = [(10.0, 0.50), (2.0, 0.40), (5.0, 0.45), (4.0, 0.30), (20.0, 0.48), (1.0, 0.20)]
    assert pareto_front(pts) == [5, 1, 2, 0]


def test_ties_and_duplicates():
    # same cost: only the better one; same score at higher cost: dominated; duplicates: first
    pts = [(1.0, 0.5), (1.0, 0.6), (2.0, 0.6), (3.0, 0.7), (3.0, 0.7)]
    assert pareto_front(pts) == [1, 3]


def test_invalid_points_skipped():
    pts = [(None, 0.9), (math.nan, 0.8), (2.0, math.inf), (1.0, 0.1), ("x", 1.0)]
    assert pareto_front(pts) == [3]


def test_empty_and_single():
    assert pareto_front([]) == []
    assert pareto_front([(3.0, 0.2)]) == [0]


def test_front_is_monotone_and_undominated():
    import random

    rng = random.Random(0)
    pts = [(rng.uniform(0.1, 50), rng.random()) for _ in range(200)]
    front = pareto_front(pts)
    xs = [pts[i][0] for i in front]
    ys = [pts[i][1] for i in front]
    assert xs == sorted(xs) and ys == sorted(ys)
    for i in front:
        assert not any(p[0] <= pts[i][0] and p[1] > pts[i][1] for p in pts)
    for j, p in enumerate(pts):
        if j not in front:
            assert any(pts[i][0] <= p[0] and pts[i][1] >= p[1] for i in front)
