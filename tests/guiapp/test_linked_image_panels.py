"""LinkedImagePanels: zoom/pan in one panel moves all, pictures fit, grid picks the columns that
make pictures largest."""
import numpy as np
import pyqtgraph as pg
import pytest

from guiapp.widgets.linked_image_panels import LinkedImagePanels


@pytest.fixture
def panels(qtbot):
    p = LinkedImagePanels(list("abcdef"), columns=3)
    qtbot.addWidget(p)
    p.resize(800, 800)
    p.show()
    for i in range(5):
        p.set_image(i, np.full((36, 48, 3), 30 * i, np.uint8))
    p.set_scalar(5, np.random.rand(36, 48).astype(np.float32), (0, 1),
                 pg.colormap.get("inferno").getLookupTable(nPts=16))
    return p


def test_zoom_is_shared(panels, qtbot):
    panels.views[3].setRange(xRange=(10, 20), yRange=(5, 15), padding=0)
    for vb in panels.views:
        (x0, x1), (y0, y1) = vb.viewRange()
        assert x0 <= 10 and x1 >= 20 and y0 <= 5 and y1 >= 15 and x1 - x0 < 30
    assert panels.views[0].viewRange() == panels.views[5].viewRange()


def test_layout_and_fit(panels, qtbot):
    assert panels.columns == 2                       # tall area, landscape pictures
    assert panels.best_columns(1800, 300) == 6
    panels.reset_zoom()
    qtbot.wait(50)
    (x0, x1), (y0, y1) = panels.views[0].viewRange()
    assert x0 <= 0 and x1 >= 48 and y0 <= 0 and y1 >= 36
    np.testing.assert_array_equal(panels.image_data(2), np.full((36, 48, 3), 60, np.uint8))
    panels.set_image(2, None)
    assert panels.image_data(2) is None


def test_hover_reports_pixels(panels, qtbot):
    got = []
    panels.hovered.connect(lambda x, y: got.append((x, y)))
    vb = panels.views[1]
    panels._on_move(vb.mapViewToScene(pg.Point(10.5, 20.5)))
    panels._on_move(vb.mapViewToScene(pg.Point(-100, -100)))
    assert got == [(10, 20), (-1, -1)]
