"""The Label view's Segment tool driven like a person would, with a tiny SAM 2 of the real
architecture: clicks -> an outlined proposal -> Enter writes it with the current class -> undo;
negative clicks and a dragged box reach the model; another image drops the proposal and uses its
own embedding; a model that cannot load is one line in the view."""
from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from tests.core.labeling.conftest import tiny_sam2  # noqa: F401
from tests.guiapp.labeling.label_helpers import (LEFT, NOMOD, click, dataset, errors, key,  # noqa: F401
                                                 make_view, stroke, vp_pos)

K = Qt.Key


@pytest.fixture
def sview(qtbot, tmp_path, dataset, errors, tiny_sam2, monkeypatch):  # noqa: F811
    monkeypatch.setenv("ROADSEG_SEGMENT_MODEL", str(tiny_sam2))
    v = make_view(qtbot, tmp_path, dataset)
    calls = []  # (image key, points, labels, box) of every prompt the model answered
    v.segment_assistant.calls = calls
    real = v.segment_assistant.segmenter

    def segmenter():
        seg = real()
        if not getattr(seg, "spied", False):
            answer = seg.segment

            def spy(emb, points=(), labels=(), box=None):
                calls.append((emb.key, list(points), list(labels), box))
                return answer(emb, points, labels, box)

            seg.segment, seg.spied = spy, True
        return seg

    v.segment_assistant.segmenter = segmenter
    yield v
    v.segment_assistant.shutdown()


def _points(call):
    """The prompt's points (to a tenth of a pixel: screen positions map back to image ones)."""
    return [(round(x, 1), round(y, 1)) for x, y in call[1]], call[2]


def _ready(qtbot, view):
    name = view.current_name()
    qtbot.waitUntil(lambda: view.segment_assistant.embedding(name) is not None, timeout=30000)


def test_click_proposal_enter_writes_the_class_and_undo_restores(qtbot, sview):
    view = sview
    key(qtbot, view, K.Key_S)
    assert view.editor.tool == "segment" and view.tool_bar.tool_buttons["segment"].isChecked()
    _ready(qtbot, view)
    assert "Segment: ready" in view.note.text()
    before = view.editor.session.mask.copy()
    view.editor.set_class(8)
    click(view, 40, 30)
    tool = view.canvas.tools["segment"]
    points, labels = _points(view.segment_assistant.calls[-1])
    assert labels == [1] and np.allclose(points, [(40.5, 30.5)], atol=0.1)
    assert tool.mask is not None and tool.mask.shape == before.shape
    assert tool.mask.any() and not view.canvas.segment_item.path().isEmpty()  # outlined (seeded weights)
    assert not view.canvas.segment_marks.path().isEmpty()  # the click's "+"
    proposal = tool.mask.copy()
    key(qtbot, view, K.Key_Return)
    m = view.editor.session.mask
    assert (m[proposal] == 8).all() and (m[~proposal] == before[~proposal]).all()
    assert tool.mask is None and view.canvas.segment_item.path().isEmpty()
    assert len(view.editor.session.history) == 1
    key(qtbot, view, K.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert np.array_equal(view.editor.session.mask, before)


def test_picking_a_class_writes_the_proposal_with_it(qtbot, sview):
    view = sview
    view.editor.set_tool("segment")
    _ready(qtbot, view)
    click(view, 40, 30)
    proposal = view.canvas.tools["segment"].mask.copy()
    assert proposal.any()
    key(qtbot, view, K.Key_3)  # class 3 of the palette: index 2
    assert (view.editor.session.mask[proposal] == 2).all()
    assert view.canvas.tools["segment"].mask is None and len(view.editor.session.history) == 1
    key(qtbot, view, K.Key_5)  # no proposal now: only the class changes
    assert view.editor.current_class == 4 and len(view.editor.session.history) == 1


def test_negative_points_and_a_box_reach_the_model_and_esc_drops(qtbot, sview):
    view = sview
    view.editor.set_tool("segment")
    _ready(qtbot, view)
    click(view, 40, 30)
    QTest.mouseClick(view.canvas.viewport(), Qt.MouseButton.RightButton, NOMOD, vp_pos(view, 60, 30))
    QTest.mouseClick(view.canvas.viewport(), LEFT, Qt.KeyboardModifier.ShiftModifier, vp_pos(view, 70, 10))
    points, labels = _points(view.segment_assistant.calls[-1])
    assert labels == [1, 0, 0]
    assert np.allclose(points, [(40.5, 30.5), (60.5, 30.5), (70.5, 10.5)], atol=0.1)
    stroke(view, [(10, 10), (30, 25), (50, 40)])  # a drag: a box
    box = view.segment_assistant.calls[-1][3]
    assert box == pytest.approx((10.5, 10.5, 50.5, 40.5), abs=0.1)
    key(qtbot, view, K.Key_Escape)
    tool = view.canvas.tools["segment"]
    assert tool.mask is None and tool.points == [] and tool.box is None
    assert view.canvas.segment_item.path().isEmpty() and view.canvas.segment_marks.path().isEmpty()
    assert len(view.editor.session.history) == 0


def test_another_image_drops_the_proposal_and_uses_its_own_embedding(qtbot, sview):
    view = sview
    view.editor.set_tool("segment")
    _ready(qtbot, view)
    first = view.current_name()
    upcoming = view.image_list.neighbour(first, +1)
    # the next image is embedded in the background after the open one
    qtbot.waitUntil(lambda: view.segment_assistant.embedding(upcoming) is not None, timeout=30000)
    click(view, 40, 30)
    assert view.canvas.tools["segment"].points
    key(qtbot, view, K.Key_N)  # next image
    second = view.current_name()
    assert second == upcoming and "Segment: ready" in view.note.text()  # no wait: embedded already
    assert second != first and view.canvas.tools["segment"].points == []
    assert view.canvas.segment_item.path().isEmpty()
    _ready(qtbot, view)
    click(view, 20, 20)
    assert view.segment_assistant.calls[-1][0] == second
    assert view.segment_assistant.embedding(first) is not None  # kept for walking back


def test_a_model_that_cannot_load_is_one_line_in_the_view(qtbot, tmp_path, dataset, errors,  # noqa: F811
                                                          monkeypatch):
    monkeypatch.setenv("ROADSEG_SEGMENT_MODEL", str(tmp_path / "no-model-here"))
    (tmp_path / "no-model-here").mkdir()
    view = make_view(qtbot, tmp_path, dataset)
    try:
        key(qtbot, view, K.Key_S)
        qtbot.waitUntil(lambda: view.segment_assistant.error is not None, timeout=20000)
        assert view.note.text().startswith("Segment: segment model") and "no config.json" in view.note.text()
        assert "\n" not in view.note.text() and not errors
        click(view, 40, 30)  # a click after that says it again, and nothing breaks
        assert view.note.text().startswith("Segment: segment model")
        assert len(view.editor.session.history) == 0
    finally:
        view.segment_assistant.shutdown()
