import numpy as np

from core.labeling.edits import Rect
from core.labeling.history import EditHistory


def _edit(h, m, rect, value):
    before = m[rect.slices].copy()
    m[rect.slices] = value
    h.record(rect, before, m[rect.slices].copy())


def test_undo_redo_restore_exact_pixels():
    rng = np.random.default_rng(0)
    m = rng.integers(0, 11, (64, 96), dtype=np.uint8)
    states = [m.copy()]
    h = EditHistory()
    for i in range(5):
        _edit(h, m, Rect(i * 5, i * 3, i * 5 + 20, i * 3 + 10), i + 1)
        states.append(m.copy())
    for i in range(5, 0, -1):
        assert h.undo(m) is not None
        assert np.array_equal(m, states[i - 1])
    assert h.undo(m) is None
    for i in range(1, 6):
        h.redo(m)
        assert np.array_equal(m, states[i])
    assert h.redo(m) is None


def test_new_edit_drops_redo_and_state_ids():
    m = np.zeros((10, 10), np.uint8)
    h = EditHistory()
    assert h.state_id == 0
    _edit(h, m, Rect(0, 0, 3, 3), 1)
    saved = h.state_id
    h.undo(m)
    assert h.can_redo and h.state_id == 0
    _edit(h, m, Rect(5, 5, 8, 8), 2)
    assert not h.can_redo and h.state_id not in (0, saved)


def test_hundred_steps_on_a_large_mask_stay_small():
    m = np.zeros((1024, 2048), np.uint8)
    h = EditHistory(max_steps=150)
    for i in range(120):
        _edit(h, m, Rect(i * 10, i * 5, i * 10 + 300, i * 5 + 200), i % 11)
    _edit(h, m, Rect(0, 0, 2048, 1024), 3)  # a whole-image flood fill
    assert len(h) == 121
    assert h.nbytes < 2_000_000  # far less than one uncompressed full mask per step
    for _ in range(121):
        h.undo(m)
    assert not m.any()


def test_max_steps_trims_oldest_and_keeps_state_ids_distinct():
    m = np.zeros((4, 4), np.uint8)
    h = EditHistory(max_steps=3)
    for v in range(1, 6):
        _edit(h, m, Rect(0, 0, 1, 1), v)
    assert len(h) == 3
    while h.can_undo:
        h.undo(m)
    assert m[0, 0] == 2 and h.state_id != 0  # the trimmed steps cannot come back
