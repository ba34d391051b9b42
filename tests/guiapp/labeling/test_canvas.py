"""Canvas navigation (wheel zoom about the cursor, middle-button and Space+drag pan), the brush
size ring, and the overlay staying equal to the colourised mask after partial refreshes."""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from tests.guiapp.labeling.label_helpers import (NOMOD, dataset, errors, stroke,  # noqa: F401
                                                 view, vp_pos)


def _wheel(view, pos: QPoint, steps: int) -> None:
    vp = view.canvas.viewport()
    ev = QWheelEvent(QPointF(pos), QPointF(vp.mapToGlobal(pos)), QPoint(0, 0), QPoint(0, 120 * steps),
                     Qt.MouseButton.NoButton, NOMOD, Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(vp, ev)


def test_wheel_zooms_about_the_cursor(view):
    c = view.canvas
    pos = vp_pos(view, 70, 20)
    under = c.mapToScene(pos)
    z0 = c.zoom()
    _wheel(view, pos, 2)
    assert c.zoom() > z0 * 1.5
    after = c.mapToScene(pos)
    assert abs(after.x() - under.x()) < 1 and abs(after.y() - under.y()) < 1
    _wheel(view, pos, -30)  # zooming out stops at a quarter of "fit"
    assert c.zoom() > 0
    c.fit()
    assert abs(c.zoom() - z0) < 1e-6


def test_middle_drag_and_space_drag_pan_without_painting(qtbot, view):
    c, vp = view.canvas, view.canvas.viewport()
    _wheel(view, vp_pos(view, 48, 32), 3)  # zoom in so there is room to pan
    before_mask = view.editor.session.mask.copy()
    a, b = QPoint(300, 300), QPoint(200, 250)
    under_a = c.mapToScene(a)
    QTest.mousePress(vp, Qt.MouseButton.MiddleButton, NOMOD, a)
    QTest.mouseMove(vp, b)
    QTest.mouseRelease(vp, Qt.MouseButton.MiddleButton, NOMOD, b)
    moved = c.mapToScene(b)
    assert abs(moved.x() - under_a.x()) < 1 and abs(moved.y() - under_a.y()) < 1

    under_b = c.mapToScene(b)
    QTest.keyPress(c, Qt.Key.Key_Space)
    QTest.mousePress(vp, Qt.MouseButton.LeftButton, NOMOD, b)
    QTest.mouseMove(vp, a)
    QTest.mouseRelease(vp, Qt.MouseButton.LeftButton, NOMOD, a)
    QTest.keyRelease(c, Qt.Key.Key_Space)
    back = c.mapToScene(a)
    assert abs(back.x() - under_b.x()) < 1 and abs(back.y() - under_b.y()) < 1
    assert np.array_equal(view.editor.session.mask, before_mask)  # panning never paints
    assert len(view.editor.session.history) == 0


def test_brush_ring_shows_brush_size(view):
    view.editor.set_brush_size(11)
    QTest.mouseMove(view.canvas.viewport(), vp_pos(view, 40, 30))
    ring = view.canvas.brush_ring
    assert ring.isVisible()
    r = ring.rect()
    assert r.width() == 11 and abs(r.center().x() - 40.5) < 1e-6 and abs(r.center().y() - 30.5) < 1e-6
    view.editor.set_tool("fill")
    assert not ring.isVisible()


def test_overlay_matches_mask_after_strokes(view):
    view.editor.set_class(2)
    view.editor.set_brush_size(9)
    stroke(view, [(5, 5), (90, 60), (10, 60)])
    layer = view.canvas.mask_layer
    assert np.array_equal(layer.buffer, layer._lut[view.editor.session.mask])
    assert layer.buffer[5, 5, 3] == 255  # painted pixels are opaque in the overlay
