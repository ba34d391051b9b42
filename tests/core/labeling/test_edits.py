import numpy as np

from core.labeling import edits
from core.labeling.edits import Rect


def test_stroke_stencil_is_a_disk_and_stays_in_its_rect():
    rect, st = edits.stroke_stencil((10, 10), (10, 10), 7, (40, 50))
    assert rect == Rect(7, 7, 14, 14)
    assert st.shape == (7, 7) and st[3, 3] and st[0, 3] and not st[0, 0]
    assert edits.disk(1).sum() == 1 and edits.disk(3).all()


def test_stroke_interpolates_between_points():
    m = np.zeros((30, 100), np.uint8)
    rect, st = edits.stroke_stencil((5, 15), (90, 15), 5, m.shape)
    edits.apply_stencil(m, rect, st, 4)
    assert (m[15, 5:91] == 4).all()  # no gaps along the segment
    assert m[15, 0] == 0 and m[15, 95] == 0


def test_stroke_clipped_and_outside():
    rect, st = edits.stroke_stencil((-2, -2), (1, 1), 7, (10, 10))
    assert rect.x0 == 0 and rect.y0 == 0 and st.shape == (rect.height, rect.width)
    assert edits.stroke_stencil((-50, -50), (-40, -40), 7, (10, 10)) is None


def test_brush_radius():
    assert edits.brush_radius(1) == 0 and edits.brush_radius(3) == 1 and edits.brush_radius(20) == 10


def test_flood_stencil_takes_only_the_connected_region():
    m = np.zeros((10, 10), np.uint8)
    m[:, 5] = 1          # wall splitting the zeros in two
    rect, st = edits.flood_stencil(m, 1, 1)
    assert rect == Rect(0, 0, 5, 10) and st.all()
    edits.apply_stencil(m, rect, st, 3)
    assert (m[:, :5] == 3).all() and (m[:, 6:] == 0).all() and (m[:, 5] == 1).all()


def test_polygon_stencil_and_take_from_source():
    m = np.zeros((20, 20), np.uint8)
    src = np.full((20, 20), 7, np.uint8)
    rect, st = edits.polygon_stencil([(2, 2), (12, 2), (12, 12), (2, 12)], m.shape)
    assert rect == Rect(2, 2, 13, 13) and st.all()
    edits.apply_stencil(m, rect, st, source=src)
    assert (m[2:13, 2:13] == 7).all() and m.sum() == 7 * 121
    assert edits.polygon_stencil([(1, 1), (2, 2)], m.shape) is None


def test_changed_rect():
    a = np.zeros((8, 8), np.uint8)
    b = a.copy()
    assert edits.changed_rect(a, b) is None
    b[2, 3] = 1
    b[5, 6] = 1
    assert edits.changed_rect(a, b) == Rect(3, 2, 7, 6)
    assert edits.changed_rect(a, b, Rect(0, 0, 4, 4)) == Rect(3, 2, 4, 3)


def test_rect_union_and_clip():
    assert Rect(0, 0, 2, 2).union(Rect(5, 5, 6, 7)) == Rect(0, 0, 6, 7)
    assert Rect(0, 0, 2, 2).union(None) == Rect(0, 0, 2, 2)
    assert Rect(-3, -3, 50, 50).clip((10, 20)) == Rect(0, 0, 20, 10)
