"""ConfusionHeatmap: row-normalised picture, hover text with count and row %, clicks select a
cell, class names on both axes."""
import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt

from guiapp.widgets.confusion_heatmap import ConfusionHeatmap, row_normalise

M = np.array([[80, 20, 0], [5, 5, 0], [0, 0, 0]], np.int64)
NAMES = ["Road", "Sidewalk", "Bicyclist"]


@pytest.fixture
def hm(qtbot):
    h = ConfusionHeatmap()
    qtbot.addWidget(h)
    h.resize(500, 450)
    h.show()
    h.set_matrix(M, NAMES)
    return h


def test_row_normalise():
    n = row_normalise(M)
    np.testing.assert_allclose(n[0], [0.8, 0.2, 0])
    np.testing.assert_allclose(n[1], [0.5, 0.5, 0])
    assert (n[2] == 0).all()                        # empty row stays 0, no NaN


def test_image_and_axes(hm):
    np.testing.assert_allclose(hm.image.image, row_normalise(M))
    left = hm.getAxis("left")._tickLevels[0]
    assert [t for _, t in left] == NAMES
    assert hm.getAxis("bottom").names == NAMES
    assert len(hm._texts) == 4                      # the non-zero cells carry their %


def test_hover_text(hm):
    assert hm.cell_text(0, 1) == ("ground truth Road → predicted Sidewalk\n"
                                  "20 pixels = 20.0% of Road pixels")
    assert "0.0%" in hm.cell_text(2, 2)


def test_click_and_hover_through_the_mouse(hm, qtbot):
    pos = hm.mapFromScene(hm.plotItem.vb.mapViewToScene(QPointF(1.5, 0.5)))
    with qtbot.waitSignal(hm.cell_clicked) as sig:
        qtbot.mouseClick(hm.viewport(), Qt.MouseButton.LeftButton, pos=pos)
    assert sig.args == [0, 1] and hm._sel.isVisible()
    hm._on_move(hm.plotItem.vb.mapViewToScene(QPointF(0.5, 1.5)))
    assert hm.toolTip().startswith("ground truth Sidewalk → predicted Road")
    hm._on_move(hm.plotItem.vb.mapViewToScene(QPointF(-5, -5)))
    assert hm.toolTip() == ""
