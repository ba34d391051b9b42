"""ClassIoUBars: one bar per class in its colour, NaN classes drawn as n/a, mIoU in the title."""
import math

import numpy as np

from guiapp.widgets.class_iou_bars import ClassIoUBars


def test_bars(qtbot):
    w = ClassIoUBars()
    qtbot.addWidget(w)
    w.set_scores(["a", "b", "c"], [0.5, float("nan"), None], [(255, 0, 0), (0, 255, 0),
                                                               (0, 0, 255)], 0.5)
    assert w.values[0] == 0.5 and math.isnan(w.values[1]) and math.isnan(w.values[2])
    bars = w._items[0]
    np.testing.assert_allclose(bars.opts["width"], [0.5, 0, 0])
    assert [b.color().getRgb()[:3] for b in bars.opts["brushes"]] == [(255, 0, 0), (0, 255, 0),
                                                                      (0, 0, 255)]
    texts = [it.textItem.toPlainText() for it in w._items[1:4]]
    assert texts == ["0.500", "n/a", "n/a"]
    assert "mIoU 0.500" in w.plotItem.titleLabel.text
    w.set_scores(["a"], [0.1], [(1, 2, 3)])
    assert len(w._items) == 2 and "mIoU" not in w.plotItem.titleLabel.text
