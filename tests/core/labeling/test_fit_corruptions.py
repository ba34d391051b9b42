"""The label errors the region scorer plants for its fit, on a hand-made mask."""
import numpy as np
import pytest

from core.classes import IGNORE_INDEX
from core.labeling.fit_corruptions import KINDS, corrupt, objects, plant_copies


def _scene():
    """60x80: sky (3) rows 0-19, road (0) below; two cars (1) 6x8 and 5x6, a pole (2) 20x2."""
    m = np.zeros((60, 80), np.uint8)
    m[:20] = 3
    m[30:36, 10:18] = 1
    m[40:45, 50:56] = 1
    m[10:30, 70:72] = 2
    return m


def test_objects_are_components_between_the_smallest_region_and_two_percent_of_the_image():
    found = objects(_scene(), min_pixels=30)
    assert sorted((c, int(o.sum())) for c, o in found) == [(1, 30), (1, 48), (2, 40)]
    assert sorted(int(o.sum()) for _, o in objects(_scene(), min_pixels=35)) == [40, 48]


@pytest.mark.parametrize("seed", range(4))
def test_each_kind_changes_one_object_the_way_a_labeller_would(seed):
    m = _scene()
    objs = objects(m, 30)
    rng = np.random.default_rng(seed)
    void = corrupt("erase-void", m, objs, rng)
    changed = void != m
    assert (void[changed] == IGNORE_INDEX).all() and int(changed.sum()) in (30, 40, 48)
    hidden = corrupt("erase-neighbour", m, objs, rng)
    changed = hidden != m
    assert int(changed.sum()) in (30, 40, 48) and set(np.unique(hidden[changed])) <= {0, 3}
    swapped = corrupt("swap", m, objs, rng)
    changed = swapped != m
    (old,), (new,) = np.unique(m[changed]), np.unique(swapped[changed])
    assert old != new and new in (0, 1, 2, 3) and int(changed.sum()) in (30, 40, 48)
    grown = corrupt("grow", m, objs, rng)
    changed = grown != m
    assert changed.any() and len(np.unique(grown[changed])) == 1
    cls = int(grown[changed][0])
    assert (m[changed] != cls).all()  # only the surroundings were painted
    dropped = corrupt("drop-class", m, objs, rng)
    changed = dropped != m
    assert len(np.unique(m[changed])) == 1  # every object of one class
    if m[changed][0] == 1:
        assert int(changed.sum()) == 78


def test_boundary_shift_pushes_one_class_over_a_neighbour_by_a_few_pixels():
    m = np.zeros((40, 40), np.uint8)
    m[:20] = 1
    out = corrupt("boundary-shift", m, [], np.random.default_rng(0))
    changed = out != m
    rows = np.nonzero(changed.any(1))[0]
    assert 3 <= len(rows) <= 8 and changed[rows].all()  # a full-width band, 3-8 px deep
    assert corrupt("boundary-shift", np.zeros((10, 10), np.uint8), [], np.random.default_rng(0)) is None


def test_plant_copies_takes_different_kinds_and_leaves_the_mask_alone():
    m = _scene()
    before = m.copy()
    copies = plant_copies(m, 4, np.random.default_rng(1), 30)
    assert len(copies) == 4 and len({k for k, _ in copies}) == 4 and {k for k, _ in copies} <= set(KINDS)
    assert all((bad != m).any() for _, bad in copies)
    assert (m == before).all()
    assert plant_copies(np.zeros((10, 10), np.uint8), 4, np.random.default_rng(1), 30) == []
