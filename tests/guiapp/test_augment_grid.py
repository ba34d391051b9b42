"""The Dataset view's augmentation preview runs the trainer's own batched augmentation."""
import numpy as np

from core.classes import CAMVID11
from guiapp.widgets.augment_grid import AugmentGrid, preview_size


def test_grid_shows_one_draw_per_tile_and_none_is_the_image(qtbot):
    grid = AugmentGrid(draws=4)
    qtbot.addWidget(grid)
    image = np.random.default_rng(1).integers(0, 256, (90, 120, 3), dtype=np.uint8)
    mask = np.zeros((90, 120), np.uint8)
    grid.show_mask.setChecked(False)
    grid.preset.setCurrentText("none")
    grid.set_sample(image, mask, CAMVID11)
    grid.refresh()
    draws = grid.draws()
    h, w = preview_size(90, 120)
    assert len(draws) == 4 and all(d.shape == (h, w, 3) for d in draws)
    assert all(np.array_equal(d, draws[0]) for d in draws)  # no augmentation: four equal tiles
    grid.preset.setCurrentText("strong")
    grid.refresh()
    strong = grid.draws()
    assert len(strong) == 4 and not all(np.array_equal(d, strong[0]) for d in strong)
    assert grid.status.text().startswith("4 random draws")
