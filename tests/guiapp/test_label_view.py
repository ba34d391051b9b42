"""LabelView driven like a person would: QTest mouse events on the canvas viewport and key clicks,
then mask pixels checked in memory and on disk (re-read through DataSource.read_mask)."""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt

from core.classes import IGNORE_INDEX
from core.data import io
from core.labeling import backup
from core.labeling.edits import flood_stencil
from tests.guiapp.labeling.label_helpers import (click, dataset, errors, key, stroke,  # noqa: F401
                                                 view)

K = Qt.Key
CTRL = Qt.KeyboardModifier.ControlModifier
SHIFT = Qt.KeyboardModifier.ShiftModifier


def _mask(view):
    return view.editor.session.mask


def test_opens_first_image_of_the_dataset(view, dataset):
    first = dataset.samples("train")[0]
    assert view.current_name() == first.name
    assert np.array_equal(_mask(view), dataset.read_mask(first))
    assert view.image_list.names() == [s.name for s in dataset.samples("train")]


def test_brush_stroke_paints_current_class(qtbot, view):
    key(qtbot, view, K.Key_4)  # class index 3 (Road)
    assert view.editor.current_class == 3 and view.palette.checked_index() == 3
    key(qtbot, view, K.Key_B)
    view.editor.set_brush_size(3)
    stroke(view, [(10, 20), (25, 20), (40, 20)])
    m = _mask(view)
    assert (m[19:22, 10:41] == 3).all()  # a 3-pixel-wide line with no gaps between mouse events
    assert len(view.editor.session.history) == 1 and view.editor.session.dirty
    assert view.image_list.mark(view.current_name()) == "unsaved"


def test_eraser_paints_void(qtbot, view):
    key(qtbot, view, K.Key_E)
    view.editor.set_brush_size(5)
    stroke(view, [(30, 30), (50, 30)])
    assert (_mask(view)[30, 30:51] == IGNORE_INDEX).all()


def test_brush_size_keys(qtbot, view):
    size = view.editor.brush_size
    key(qtbot, view, K.Key_BracketRight)
    assert view.editor.brush_size > size
    assert view.tool_bar.size_slider.value() == view.editor.brush_size
    key(qtbot, view, K.Key_BracketLeft)
    key(qtbot, view, K.Key_BracketLeft)
    assert view.editor.brush_size < size


def test_flood_fill_fills_connected_region(qtbot, view):
    m0 = _mask(view).copy()
    x, y = 48, 60  # the road, bottom middle
    rect, region = flood_stencil(m0, x, y)
    target = 6 if m0[y, x] != 6 else 7
    view.editor.set_class(target)
    key(qtbot, view, K.Key_F)
    click(view, x, y)
    m = _mask(view)
    expected = m0.copy()
    expected[rect.slices][region] = target
    assert np.array_equal(m, expected) and (m != m0).any()


def test_polygon_closed_by_first_vertex_enter_and_double_click(qtbot, view):
    view.editor.set_class(8)
    key(qtbot, view, K.Key_L)
    for p in [(5, 5), (30, 5), (30, 25), (5, 25)]:
        click(view, *p)
    assert (_mask(view)[5:26, 5:31] != 8).any()  # not closed yet
    click(view, 5, 5)  # the first vertex closes it
    assert (_mask(view)[5:26, 5:31] == 8).all()

    view.editor.set_class(1)
    for p in [(60, 5), (90, 5), (90, 30)]:
        click(view, *p)
    key(qtbot, view, K.Key_Return)
    assert _mask(view)[10, 85] == 1 and _mask(view)[28, 89] == 1

    view.editor.set_class(2)
    from PySide6.QtTest import QTest

    from tests.guiapp.labeling.label_helpers import LEFT, NOMOD, vp_pos
    for p in [(40, 40), (70, 40)]:
        click(view, *p)
    QTest.mouseClick(view.canvas.viewport(), LEFT, NOMOD, vp_pos(view, 55, 60))
    QTest.mouseDClick(view.canvas.viewport(), LEFT, NOMOD, vp_pos(view, 55, 60))
    assert _mask(view)[45, 55] == 2
    assert view.canvas.tools["polygon"].points == []
    assert len(view.editor.session.history) == 3


def test_undo_redo_keys(qtbot, view):
    orig = _mask(view).copy()
    view.editor.set_class(4)
    view.editor.set_brush_size(7)
    stroke(view, [(10, 10), (60, 10)])
    after_one = _mask(view).copy()
    stroke(view, [(10, 40), (60, 40)])
    after_two = _mask(view).copy()
    key(qtbot, view, K.Key_Z, CTRL)
    assert np.array_equal(_mask(view), after_one)
    key(qtbot, view, K.Key_Z, CTRL)
    assert np.array_equal(_mask(view), orig) and not view.editor.session.dirty
    key(qtbot, view, K.Key_Z, CTRL | SHIFT)
    key(qtbot, view, K.Key_Z, CTRL | SHIFT)
    assert np.array_equal(_mask(view), after_two)
    # the overlay shows what the mask holds after undo/redo (recoloured from the mask)
    lut = view.canvas.mask_layer._lut
    assert np.array_equal(view.canvas.mask_layer.buffer, lut[_mask(view)])


def test_save_writes_file_backs_up_once_and_restores(qtbot, view, dataset):
    sample = dataset.samples("train")[0]
    original = sample.mask.read_bytes()
    view.editor.set_class(5)
    view.editor.set_brush_size(9)
    stroke(view, [(10, 10), (50, 30)])
    key(qtbot, view, K.Key_S, CTRL)
    assert not view.editor.session.dirty
    assert np.array_equal(dataset.read_mask(sample), _mask(view))
    bpath = backup.backup_path(dataset.root, sample.mask)
    assert bpath.read_bytes() == original
    assert view.image_list.mark(sample.name) == "edited"
    stroke(view, [(70, 50), (80, 50)])
    key(qtbot, view, K.Key_S, CTRL)
    assert bpath.read_bytes() == original  # written once: still the very first version
    assert np.array_equal(dataset.read_mask(sample), _mask(view))
    assert view.restore_button.isEnabled()
    view.restore_button.click()
    assert sample.mask.read_bytes() == original
    assert np.array_equal(_mask(view), dataset.read_mask(sample))
    assert view.image_list.mark(sample.name) == "" and not view.restore_button.isEnabled()


def test_failed_save_keeps_old_file_and_edit_and_shows_error(qtbot, view, dataset, errors,
                                                           monkeypatch):
    sample = dataset.samples("train")[0]
    view.editor.set_class(2)
    stroke(view, [(10, 10), (60, 40)])
    key(qtbot, view, K.Key_S, CTRL)  # a good save first: the backup exists, the next write is the mask's
    before = sample.mask.read_bytes()
    backup_bytes = backup.backup_path(dataset.root, sample.mask).read_bytes()
    view.editor.set_class(7)
    stroke(view, [(10, 50), (80, 50)])
    edited = _mask(view).copy()
    real_fdopen = io.os.fdopen
    writes = []

    class HalfWriter:
        """Writes half of the encoded PNG into the temporary file, then the disk is 'full'."""

        def __init__(self, f):
            self.f = f

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.f.close()

        def write(self, data):
            writes.append(len(data))
            self.f.write(data[: len(data) // 2])
            self.f.flush()
            raise OSError(28, "No space left on device")

    monkeypatch.setattr(io.os, "fdopen", lambda fd, mode: HalfWriter(real_fdopen(fd, mode)))
    key(qtbot, view, K.Key_S, CTRL)
    assert writes, "the mask write was attempted"
    assert errors and "No space left" in errors[-1] and sample.name in errors[-1]
    assert sample.mask.read_bytes() == before  # the old file is intact
    assert backup.backup_path(dataset.root, sample.mask).read_bytes() == backup_bytes
    assert not [p for p in sample.mask.parent.iterdir() if p.name.endswith(".tmp")]
    assert np.array_equal(_mask(view), edited) and view.editor.session.dirty
    assert view.image_list.mark(sample.name) == "unsaved"
    # moving on must not drop the edit either: the editor stays on this image
    key(qtbot, view, K.Key_N)
    assert view.current_name() == sample.name and len(errors) == 2
    monkeypatch.setattr(io.os, "fdopen", real_fdopen)
    key(qtbot, view, K.Key_S, CTRL)
    assert np.array_equal(dataset.read_mask(sample), edited) and not view.editor.session.dirty


def test_moving_on_saves_and_history_survives(qtbot, view, dataset):
    first, second = dataset.samples("train")[:2]
    view.editor.set_class(9)
    stroke(view, [(20, 20), (40, 20)])
    painted = _mask(view).copy()
    key(qtbot, view, K.Key_PageDown)
    assert view.current_name() == second.name
    assert np.array_equal(dataset.read_mask(first), painted)
    assert view.image_list.mark(first.name) == "edited"
    key(qtbot, view, K.Key_P)
    assert view.current_name() == first.name and np.array_equal(_mask(view), painted)
    key(qtbot, view, K.Key_Z, CTRL)  # undo still knows the stroke made before leaving
    assert not np.array_equal(_mask(view), painted)


def test_toggles_and_opacity(qtbot, view):
    assert view.canvas.mask_layer.isVisible()
    key(qtbot, view, K.Key_M)
    assert not view.canvas.mask_layer.isVisible()
    key(qtbot, view, K.Key_M)
    assert view.canvas.mask_layer.isVisible()
    view.tool_bar.opacity_slider.setValue(80)
    assert abs(view.canvas.mask_layer.opacity() - 0.8) < 1e-6
    key(qtbot, view, K.Key_M, SHIFT)
    assert view.canvas.pred_layer.isVisible()


def test_status_names_class_under_mouse(qtbot, view):
    from PySide6.QtTest import QTest

    from tests.guiapp.labeling.label_helpers import vp_pos
    QTest.mouseMove(view.canvas.viewport(), vp_pos(view, 48, 60))
    name = view.editor.session.source.schema.names[int(_mask(view)[60, 48])]
    assert f"x 48, y 60: {name}" in view.status.text()


def test_palette_click_picks_the_class_and_shows_it(qtbot, view):
    button = view.palette.group.button(5)
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert view.editor.current_class == 5 and button.isChecked()
    assert view.palette.current.text() == f"Painting: {view.source.schema.names[5]}"
    key(qtbot, view, K.Key_E)
    assert "Erasing" in view.palette.current.text()
    key(qtbot, view, K.Key_0)  # the tenth class; picking a class leaves the eraser
    assert view.editor.current_class == 9 and view.editor.tool == "brush"


def test_more_than_a_hundred_undo_steps(qtbot, view):
    orig = _mask(view).copy()
    view.editor.set_brush_size(3)
    for i in range(110):
        view.editor.set_class(i % 11)
        stroke(view, [(i % 90, (i * 7) % 60), (i % 90 + 5, (i * 7) % 60)])
    steps = len(view.editor.session.history)
    assert steps >= 100  # a stroke that changes no pixel is not a step
    for _ in range(steps):
        key(qtbot, view, K.Key_Z, CTRL)
    assert np.array_equal(_mask(view), orig)
