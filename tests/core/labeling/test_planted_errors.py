"""Planted label errors on a hand-made CamVid mask: each corruption changes exactly what it says,
and `plant` corrupts the asked share, one type each, the same way for the same seed."""
import numpy as np
import pytest

from core.classes import CAMVID11, IGNORE_INDEX
from core.labeling.planted_errors import GROW_PX, SHIFT_PX, TYPES, corrupt, plant

NAMES = list(CAMVID11.names)
BUILDING, POLE, ROAD, CAR = (NAMES.index(n) for n in ("Building", "Pole", "Road", "Car"))


def _mask() -> np.ndarray:
    """60x80: Building on the left half, Road on the right; a 20x20 car on the road (rows
    30-49, cols 50-69) and a 2x30 pole on the building (rows 10-39, cols 10-11)."""
    m = np.full((60, 80), BUILDING, np.uint8)
    m[:, 40:] = ROAD
    m[30:50, 50:70] = CAR
    m[10:40, 10:12] = POLE
    return m


def _rng():
    return np.random.default_rng(0)


def test_erasing_the_car_to_void_or_to_its_surroundings():
    m = _mask()
    car = m == CAR
    void = corrupt("erase-void", m, NAMES, _rng())
    assert (void[car] == IGNORE_INDEX).all() and np.array_equal(void[~car], m[~car])
    filled = corrupt("erase-neighbour", m, NAMES, _rng())
    assert (filled[car] == ROAD).all() and np.array_equal(filled[~car], m[~car])


def test_the_largest_car_becomes_road():
    m = _mask()
    out = corrupt("car-to-road", m, NAMES, _rng())
    assert (out[m == CAR] == ROAD).all() and (out != m).sum() == 400


def test_dropped_poles_take_the_class_around_them():
    m = _mask()
    out = corrupt("drop-poles", m, NAMES, _rng())
    assert (out[m == POLE] == BUILDING).all() and (out != m).sum() == 60


def test_the_longest_boundary_is_pushed_out_by_the_shift():
    m = _mask()
    out = corrupt("boundary-shift", m, NAMES, _rng())
    changed = out != m
    assert changed.any() and len(np.unique(out[changed])) == 1  # one class grew
    grown = int(np.unique(out[changed])[0])
    ys, xs = np.nonzero(changed)
    gy, gx = np.nonzero(m == grown)
    nearest = np.hypot(ys[:, None] - gy[None], xs[:, None] - gx[None]).min(axis=1)
    assert nearest.max() <= SHIFT_PX  # every changed pixel within the shift of the class that grew


def test_a_look_alike_swap_relabels_the_whole_car_as_a_pedestrian():
    m = _mask()
    out = corrupt("swap-lookalike", m, NAMES, _rng())
    assert (out[m == CAR] == NAMES.index("Pedestrian")).all() and (out != m).sum() == 400


def test_a_grown_mask_paints_the_car_over_a_ring_of_its_surroundings():
    m = _mask()
    out = corrupt("grow", m, NAMES, _rng())
    changed = out != m
    assert (out[changed] == CAR).all() and (out[m == CAR] == CAR).all()
    ys, xs = np.nonzero(changed)
    dy = np.maximum(np.maximum(30 - ys, ys - 49), 0)
    dx = np.maximum(np.maximum(50 - xs, xs - 69), 0)
    assert np.hypot(dx, dy).max() <= GROW_PX + 0.5  # within the grow distance (OpenCV's raster disk)
    assert changed[30:50, 50 - GROW_PX:50].all() and not changed[30:50, :50 - GROW_PX].any()  # a full band on its left


def test_nothing_to_corrupt_is_none():
    m = np.full((60, 80), ROAD, np.uint8)
    assert corrupt("car-to-road", m, NAMES, _rng()) is None
    assert corrupt("drop-poles", m, NAMES, _rng()) is None
    assert corrupt("erase-void", m, NAMES, _rng()) is None
    with pytest.raises(ValueError):
        corrupt("smudge", m, NAMES, _rng())


def test_plant_corrupts_the_share_one_type_each_and_repeats_for_a_seed():
    clean = {f"img{i:02d}": _mask() for i in range(20)}
    names = sorted(clean)
    labels, kind_of = plant(clean, NAMES, names, 0.7, seed=1)
    assert len(kind_of) == 14 and sorted(set(kind_of.values())) == sorted(TYPES)  # 2 of each
    for n in names:
        assert (labels[n] != clean[n]).any() == (n in kind_of)
        assert np.array_equal(clean[n], _mask())  # the clean masks are not changed
    again, kinds_again = plant(clean, NAMES, names, 0.7, seed=1)
    assert kinds_again == kind_of and all(np.array_equal(again[n], labels[n]) for n in names)
    assert plant(clean, NAMES, names, 0.7, seed=2)[1] != kind_of
