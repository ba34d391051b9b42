"""Class statistics and the three weighting recipes, checked against numbers worked by hand."""
import json

import numpy as np
import pytest

from core.data.source import open_dataset
from core.data.stats import WEIGHT_METHODS, class_weights, compute_stats, stats_from_counts, stats_from_masks
from core.data.synth import generate_synthetic
from core.errors import ConfigError

NAMES = ["a", "b", "c"]
# image 1: a a b / void a c  -> a=3 b=1 c=1, 5 labelled
# image 2: b b / b void      -> b=3, 3 labelled
M1 = np.array([[0, 0, 1], [255, 0, 2]], np.uint8)
M2 = np.array([[1, 1], [1, 255]], np.uint8)


@pytest.fixture
def stats():
    return stats_from_masks([M1, M2], NAMES)


def test_counts(stats):
    assert stats.pixel_counts.tolist() == [3, 4, 1]
    assert stats.image_counts.tolist() == [1, 2, 1]
    assert stats.present_pixels.tolist() == [5, 8, 5]
    assert (stats.total_pixels, stats.void_pixels, stats.num_images) == (10, 2, 2)
    np.testing.assert_allclose(stats.fractions, [3 / 8, 4 / 8, 1 / 8])


def test_counts_per_mask_give_the_same_statistics():
    counts = [np.bincount(m.ravel(), minlength=256) for m in (M1, M2)]
    got = stats_from_counts(counts, NAMES)
    assert got.to_dict() == stats_from_masks([M1, M2], NAMES).to_dict()
    bad = np.zeros(256, np.int64)
    bad[[0, 7]] = 1
    with pytest.raises(ValueError, match=r"ids \[7\] outside 0..2"):
        stats_from_counts([bad], NAMES)


def test_inverse_frequency(stats):
    # N / (C * n_c) = 8 / (3 * [3, 4, 1])
    np.testing.assert_allclose(stats.weights("inverse"), [0.888889, 0.666667, 2.666667], rtol=1e-5)


def test_median_frequency(stats):
    # freq = [3/5, 4/8, 1/5] = [0.6, 0.5, 0.2]; median 0.5
    np.testing.assert_allclose(stats.weights("median"), [0.833333, 1.0, 2.5], rtol=1e-5)


def test_enet(stats):
    # 1 / ln(1.02 + [0.375, 0.5, 0.125]) = 1 / [0.332894, 0.418710, 0.135405]
    np.testing.assert_allclose(stats.weights("enet"), [3.00396, 2.38829, 7.38523], rtol=1e-4)


def test_sqrt_median(stats):
    # sqrt([0.833333, 1.0, 2.5])
    np.testing.assert_allclose(stats.weights("sqrt-median"), [0.912871, 1.0, 1.581139], rtol=1e-5)


def test_rare_classes_are_those_rarer_than_the_median_class(stats):
    assert stats.rare_classes() == [2]  # median weights [0.83, 1.0, 2.5]: only class 2 is above 1
    s = stats_from_masks([M1, M2], NAMES + ["d"])  # an absent class is not "rare"
    assert s.rare_classes() == [2]


def test_absent_class_gets_zero_weight():
    s = stats_from_masks([M1, M2], NAMES + ["d"])
    w = {m: s.weights(m) for m in WEIGHT_METHODS}
    assert all(v[3] == 0 and v.dtype == np.float32 for v in w.values())
    np.testing.assert_allclose(w["inverse"][:3], [8 / 12, 8 / 16, 8 / 4], rtol=1e-6)  # C = 4
    np.testing.assert_allclose(w["median"][:3], [0.833333, 1.0, 2.5], rtol=1e-5)
    assert s.image_counts[3] == 0 and s.fractions[3] == 0


def test_class_weights_front_door(stats):
    assert class_weights(stats, "none") is None
    np.testing.assert_array_equal(class_weights(stats, "median"), stats.weights("median"))
    with pytest.raises(ConfigError, match="inverse"):
        class_weights(stats, "sqrt")


def test_out_of_range_ids_are_refused():
    with pytest.raises(ValueError, match=r"\[3, 7\]"):
        stats_from_masks([np.array([[0, 3, 7, 255]], np.uint8)], NAMES)


def test_empty_and_to_dict(stats):
    empty = stats_from_masks([], NAMES)
    assert empty.num_images == 0 and empty.fractions.tolist() == [0, 0, 0]
    assert empty.weights("enet").tolist() == [0, 0, 0]
    d = json.loads(json.dumps(stats.to_dict()))
    assert d["pixel_counts"] == [3, 4, 1] and d["class_names"] == NAMES


def test_compute_stats_over_a_source(tmp_path):
    root = generate_synthetic(tmp_path / "s", count=3, size=(24, 32), seed=2, val_fraction=0)
    ds = open_dataset(root)
    calls = []
    s = compute_stats(ds, "train", progress=lambda d, t: calls.append((d, t)))
    masks = [ds.read_mask(x) for x in ds.samples("train")]
    ref = stats_from_masks(masks, ds.schema.names)
    assert s.pixel_counts.tolist() == ref.pixel_counts.tolist() and s.num_images == 3
    assert s.total_pixels == 3 * 24 * 32 == s.pixel_counts.sum() + s.void_pixels
    assert calls[-1] == (3, 3)
