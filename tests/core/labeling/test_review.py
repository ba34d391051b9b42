import math

import numpy as np

from core.evaluate import Prediction
from core.labeling import review
from core.labeling.review import ReviewItem


class _FakePredictor:
    """Predicts class 0 everywhere with an entropy that depends on the image's mean value."""

    def predict(self, image):
        h, w = image.shape[:2]
        return Prediction(np.zeros((h, w), np.uint8), np.full((h, w), image.mean() / 255, np.float32))


def test_image_error_and_uncertainty():
    pred = np.zeros((4, 4), np.uint8)
    assert review.image_error(pred, np.zeros((4, 4), np.uint8), 3) == 0.0
    half = np.zeros((4, 4), np.uint8)
    half[:, 2:] = 1
    assert 0.5 < review.image_error(pred, half, 3) < 1.0
    assert math.isnan(review.image_error(pred, np.full((4, 4), 255, np.uint8), 3))
    assert review.image_uncertainty(np.array([[0.0, 1.0]])) == 0.5


def test_score_and_order():
    images = {"a": 10, "b": 200, "c": 100}
    masks = {"a": np.ones((4, 4), np.uint8), "b": np.zeros((4, 4), np.uint8),
             "c": np.full((4, 4), 255, np.uint8)}
    seen, steps = [], []

    class S:
        def __init__(self, name):
            self.name = name

    items = review.score_images(
        _FakePredictor(), [S(n) for n in images],
        read_image=lambda s: np.full((4, 4, 3), images[s.name], np.uint8),
        read_mask=lambda s: masks[s.name], num_classes=3,
        progress=lambda d, t: steps.append((d, t)), on_prediction=lambda s, p: seen.append(s.name))
    assert seen == ["a", "b", "c"] and steps[-1] == (3, 3)
    assert review.review_order(items, "uncertainty") == ["b", "c", "a"]
    assert review.review_order(items, "error") == ["a", "b", "c"]  # c is all void: last


def test_cancel_stops_early():
    calls = []
    items = review.score_images(_FakePredictor(), [type("S", (), {"name": str(i)}) for i in range(5)],
                                read_image=lambda s: np.zeros((2, 2, 3), np.uint8), read_mask=None,
                                num_classes=2, cancelled=lambda: len(calls) >= 2,
                                progress=lambda d, t: calls.append(d))
    assert len(items) == 2 and all(math.isnan(i.error) for i in items)


def test_unknown_mode():
    import pytest

    with pytest.raises(ValueError):
        ReviewItem("a", 0.1, 0.2).score("bogus")
