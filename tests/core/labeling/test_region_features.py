"""Candidate regions and their features on hand-made masks and probabilities, each number
worked out by hand."""
import numpy as np
import pytest

from core.classes import IGNORE_INDEX
from core.labeling.region_features import LOCAL_FEATURES, SOURCES, find_candidates, pixel_maps


def _probs(pred: np.ndarray, k: int, conf: float) -> np.ndarray:
    p = np.full((k, *pred.shape), (1 - conf) / (k - 1), np.float32)
    np.put_along_axis(p, pred[None].astype(np.intp), conf, axis=0)
    return p


def _feat(c, name):
    return float(c.features[LOCAL_FEATURES.index(name)])


def _road_with_a_car():
    """60x80 road (0); a car (1) labelled at rows 10-17, cols 20-29 (8x10) that the model calls road."""
    labels = np.zeros((60, 80), np.uint8)
    labels[10:18, 20:30] = 1
    return labels, _probs(np.zeros_like(labels), 11, 0.9)


def test_a_labelled_object_the_model_calls_its_surroundings_is_a_disagree_and_an_object_candidate():
    labels, probs = _road_with_a_car()
    found = find_candidates(probs, labels, min_pixels=20)
    assert sorted(c.source for c in found) == ["disagree", "object"]
    for c in found:
        r = c.region
        assert (r.given, r.suggested, r.pixels, r.bbox) == (1, 0, 80, (20, 10, 30, 18))
        assert r.stencil.all() and r.stencil.shape == (8, 10)
        assert _feat(c, "log_area") == pytest.approx(np.log(80 / 4800))
        assert _feat(c, "fill") == 1.0
        assert _feat(c, "aspect") == pytest.approx(np.log(8 / 10))
        assert _feat(c, "p_given_mean") == pytest.approx(0.01)
        assert _feat(c, "p_given_q90") == pytest.approx(0.01)
        assert _feat(c, "p_sugg_mean") == pytest.approx(0.9)
        assert _feat(c, "margin_mean") == pytest.approx(0.89)
        assert _feat(c, "top_mean") == pytest.approx(0.9)
        entropy = -(0.9 * np.log(0.9) + 10 * 0.01 * np.log(0.01)) / np.log(11)
        assert _feat(c, "entropy_mean") == pytest.approx(entropy, rel=1e-5)
        assert _feat(c, "edge_share") == pytest.approx((80 - 6 * 8) / 80)  # the block's outer pixels
        assert _feat(c, "ring_given") == 0.0  # nothing around it is labelled car: a whole object
        assert _feat(c, "ring_sugg_label") == 1.0 and _feat(c, "ring_pred_sugg") == 1.0
        assert _feat(c, "ring_void") == 0.0 and _feat(c, "ring_agree") == 1.0
        assert (_feat(c, "given"), _feat(c, "suggested")) == (1.0, 0.0)
        assert _feat(c, "source") == SOURCES.index(c.source)


def test_void_the_model_is_sure_of_is_an_unlabelled_candidate_without_a_given_probability():
    labels = np.zeros((30, 30), np.uint8)
    labels[5:10, 5:15] = IGNORE_INDEX  # 50 px nobody labelled
    pred = np.zeros_like(labels)
    pred[5:10, 5:15] = 3
    found = find_candidates(_probs(pred, 5, 0.95), labels, min_pixels=20, void_confidence=0.9)
    assert [c.source for c in found] == ["unlabelled"]
    c = found[0]
    assert (c.region.given, c.region.suggested, c.region.pixels) == (IGNORE_INDEX, 3, 50)
    assert _feat(c, "given") == 5.0  # void is the class count
    assert np.isnan(_feat(c, "p_given_mean")) and np.isnan(_feat(c, "margin_mean"))
    assert _feat(c, "p_sugg_mean") == pytest.approx(0.95)
    assert find_candidates(_probs(pred, 5, 0.85), labels, min_pixels=20, void_confidence=0.9) == []


def test_an_object_the_model_believes_is_no_candidate_and_small_parts_are_dropped():
    labels, _ = _road_with_a_car()
    probs = _probs(labels, 11, 0.9)  # the model agrees everywhere
    assert find_candidates(probs, labels, min_pixels=20) == []
    wrong = labels.copy()
    wrong[0:3, 0:5] = 2  # 15 px the model calls road: under min_pixels
    assert find_candidates(probs, wrong, min_pixels=20) == []
    assert [c.region.pixels for c in find_candidates(probs, wrong, min_pixels=10)] == [15, 15]


def test_stuff_larger_than_the_object_share_is_no_object_candidate():
    labels = np.zeros((40, 60), np.uint8)
    labels[:, 30:] = 1  # half the image: stuff, not an object
    probs = _probs(np.zeros_like(labels), 3, 0.9)
    assert [c.source for c in find_candidates(probs, labels, min_pixels=20)] == ["disagree"]


def test_an_object_candidate_suggests_the_class_the_model_prefers_inside_it():
    labels = np.zeros((40, 40), np.uint8)
    labels[5:10, 5:10] = 1
    pred = labels.copy()
    probs = _probs(pred, 4, 0.4)  # the model agrees, but unsure (0.4 < OBJECT_DOUBT)
    probs[2, 5:10, 5:10] = 0.35
    probs[3, 5:10, 5:10] = 0.05
    probs[0, 5:10, 5:10] = 0.2
    found = find_candidates(probs, labels, min_pixels=10)
    objects = [c for c in found if c.source == "object"]
    assert [(c.region.given, c.region.suggested) for c in objects] == [(1, 2)]


def test_touching_keeps_only_the_candidates_that_share_a_pixel_with_it():
    labels, probs = _road_with_a_car()
    labels[30:36, 40:50] = 2  # a second object the model calls road
    touching = np.zeros(labels.shape, bool)
    touching[32, 45] = True
    found = find_candidates(probs, labels, min_pixels=20, touching=touching)
    assert {c.region.bbox for c in found} == {(40, 30, 50, 36)}
    everything = find_candidates(probs, labels, min_pixels=20)
    assert len(everything) == 4


def test_pixel_maps_entropy_is_zero_when_sure_and_one_when_uniform():
    p = np.zeros((4, 1, 2), np.float32)
    p[2, 0, 0] = 1.0
    p[:, 0, 1] = 0.25
    m = pixel_maps(p)
    assert m.pred.tolist() == [[2, 0]] and m.top.tolist() == [[1.0, 0.25]]
    assert m.entropy[0, 0] == pytest.approx(0.0, abs=1e-6) and m.entropy[0, 1] == pytest.approx(1.0)
