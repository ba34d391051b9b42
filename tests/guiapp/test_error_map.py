"""error_map: right/wrong and per-class FP/FN colours, void unmarked, background reuse."""
import numpy as np
import pytest

from guiapp.widgets.error_map import (CORRECT, FALSE_NEG, FALSE_POS, TRUE_POS, WRONG, colorize,
                                      dim_gray, error_map, legend_for)

GT = np.array([[0, 0, 1, 1], [2, 2, 255, 1]], np.uint8)
PRED = np.array([[0, 1, 1, 0], [2, 1, 1, 1]], np.uint8)
IMG = np.full((2, 4, 3), 150, np.uint8)


def px(m, y, x):
    return tuple(int(v) for v in m[y, x])


def test_right_wrong():
    m = error_map(IMG, GT, PRED)
    assert [px(m, 0, x) for x in range(4)] == [CORRECT, WRONG, CORRECT, WRONG]
    assert px(m, 1, 2) == (60, 60, 60)            # void: dim grey photo (40% of 150)


def test_class_mode():
    m = error_map(IMG, GT, PRED, cls=1)
    assert px(m, 0, 1) == FALSE_POS and px(m, 1, 1) == FALSE_POS      # predicted 1, truth 0/2
    assert px(m, 0, 3) == FALSE_NEG                                   # truth 1, predicted 0
    assert px(m, 0, 2) == TRUE_POS and px(m, 1, 3) == TRUE_POS
    assert px(m, 1, 2) == (60, 60, 60)          # void predicted as 1 is not a false positive
    assert px(m, 0, 0) == (60, 60, 60)


def test_background_reuse_and_shape_check():
    bg = dim_gray(IMG)
    np.testing.assert_array_equal(error_map(None, GT, PRED, 2, background=bg),
                                  error_map(IMG, GT, PRED, 2))
    assert (bg == 60).all()
    with pytest.raises(ValueError):
        error_map(IMG, GT, PRED[:, :3])


def test_colorize_and_legend():
    pal = np.zeros((256, 3), np.uint8)
    pal[1] = (1, 2, 3)
    assert px(colorize(pal, GT), 0, 2) == (1, 2, 3)
    assert [n for n, _ in legend_for(None)] == ["correct", "wrong"]
    assert len(legend_for("Road")) == 3
