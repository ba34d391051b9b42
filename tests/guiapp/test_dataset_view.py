"""DatasetView on the tiny synthetic set: thumbnails, overlay, hover, histogram vs core stats,
split filter, augmentation preview."""
from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPointF

from core.data.stats import WEIGHT_METHODS, compute_stats
from guiapp.views.dataset_view import DatasetView


@pytest.fixture
def view(qtbot, app_state):
    v = DatasetView(app_state)
    qtbot.addWidget(v)
    v.resize(1200, 800)
    v.show()
    qtbot.waitUntil(lambda: v.stats_for("train") is not None, timeout=10000)
    yield v
    v.shutdown()


def test_lists_split_and_shows_overlay(qtbot, view):
    src = view.state.source
    train = src.samples("train")
    assert view.current_split() == "train"
    assert view.model.rowCount() == len(train)
    qtbot.waitUntil(lambda: view.model.loaded_count() > 0, timeout=5000)  # lazy thumbnails
    image, mask = src.read_pair(train[0])
    assert np.array_equal(view.viewer.image_item.image, image)
    assert view.viewer.mask_item.isVisible()
    # void is transparent in the overlay, classes opaque
    alpha = view.viewer.mask_item.image[..., 3]
    assert np.array_equal(alpha == 0, mask == 255)
    view.opacity.setValue(80)
    assert view.viewer.opacity() == pytest.approx(0.8)
    present = {src.schema.names[i] for i in np.unique(mask) if i != 255}
    assert set(view.legend.present_names()) == present


def test_hover_names_class_under_cursor(qtbot, view):
    mask = view.viewer._mask
    y, x = np.argwhere(mask != 255)[0]
    got = []
    view.viewer.hovered.connect(got.append)
    scene_pos = view.viewer.vb.mapViewToScene(QPointF(x + 0.5, y + 0.5))
    view.viewer._on_move(scene_pos)
    assert got and got[-1].startswith(view.state.source.schema.names[mask[y, x]])
    assert view.hover_label.text() == got[-1]


def test_histogram_matches_core_stats(view):
    src = view.state.source
    expected = compute_stats(src, "train")
    assert np.allclose(view.histogram.bar_heights(), expected.fractions)
    widths = view.histogram.bars.opts["width"]
    assert np.allclose(widths, 100 * expected.fractions)  # linear bars: the shares in percent
    table = view.histogram.table
    assert table.rowCount() == src.schema.num_classes
    for col, method in enumerate(WEIGHT_METHODS, start=3):
        assert float(table.item(1, col).text()) == pytest.approx(
            float(expected.weights(method)[1]), abs=1e-3)
    view.histogram.log_box.setChecked(True)
    assert view.histogram.is_log()
    assert np.allclose(view.histogram.bar_heights(), expected.fractions)


def test_split_filter_switches_list_and_stats(qtbot, view):
    view.split_box.setCurrentText("val")
    src = view.state.source
    assert view.model.rowCount() == len(src.samples("val"))
    qtbot.waitUntil(lambda: view.stats_for("val") is not None, timeout=10000)
    qtbot.waitUntil(lambda: np.allclose(view.histogram.bar_heights(),
                                        compute_stats(src, "val").fractions), timeout=5000)


def test_augmentation_preview_draws(qtbot, view):
    view.side_tabs.setCurrentIndex(1)
    view.augment.preset.setCurrentText("strong")
    draws = view.augment.draws()
    assert len(draws) == len(view.augment.tiles)
    h, w = draws[0].shape[:2]
    assert draws[0].dtype == np.uint8 and draws[0].shape[2] == 3 and h % 8 == 0 and w % 8 == 0
    view.augment.preset.setCurrentText("none")
    a, b = view.augment.draws()[:2]
    assert np.array_equal(a, b)  # no augmentation: every draw is the same picture


def test_unreadable_image_becomes_a_red_tile(qtbot, tmp_path):
    """A broken file in the list shows an error tile and tooltip; the others still load."""
    from PySide6.QtCore import Qt

    from core.data.source import Sample
    from core.errors import DataError
    from guiapp.widgets.thumbnail_model import ThumbnailModel

    class Source:
        def read_image(self, sample):
            if sample.name == "bad":
                raise DataError(f"{sample.image}: not an image")
            return np.full((30, 40, 3), 120, np.uint8)

    samples = [Sample(n, tmp_path / f"{n}.png", None, "train") for n in ("bad", "good")]
    model = ThumbnailModel()
    model.set_samples(Source(), samples)
    for row in (0, 1):
        model.data(model.index(row), Qt.ItemDataRole.DecorationRole)  # what a view's paint asks
    qtbot.waitUntil(lambda: model.loaded_count() == 1 and bool(model._errors), timeout=5000)
    assert "not an image" in model.data(model.index(0), Qt.ItemDataRole.ToolTipRole)
    model.shutdown()
