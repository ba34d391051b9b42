"""PredictionBrowser with a fake predictor on 360x480 pictures: worst-first list, class filter,
key walking, per-image mIoU, error-map modes with the exact colours, prefetching neighbours and
switching fast once predicted."""
from __future__ import annotations

import time
from types import SimpleNamespace

import numpy as np
import pytest
from PySide6.QtCore import Qt

from core.classes import get_schema
from guiapp.widgets.error_map import CORRECT, FALSE_NEG, FALSE_POS, TRUE_POS, WRONG
from guiapp.widgets.prediction_browser import ERRORS, GT, IMAGE, PRED, PredictionBrowser

H, W = 360, 480
SCHEMA = get_schema("camvid11")
NAMES = ["img_a", "img_b", "img_c", "img_d", "img_e"]
MIOU = [0.6, 0.2, 0.9, 0.4, float("nan")]


def gt_of(k: int) -> np.ndarray:
    gt = np.zeros((H, W), np.uint8)          # class 0 on the left
    gt[:, W // 2:] = 3                       # class 3 on the right
    gt[:20] = 255                            # void band on top
    if k == 2:
        gt[100:150, 10:60] = 8               # only img_c has class 8
    return gt


class FakePredictor:
    """Predicts class 3 in the middle columns 200..299 and 0 elsewhere (so: FP of 3 in 200..239,
    FN of 3 in 300..479, right in 240..299)."""

    def predict(self, image):
        pred = np.zeros(image.shape[:2], np.uint8)
        pred[:, 200:300] = 3
        ent = np.linspace(0, 2.4, image.shape[0] * image.shape[1], dtype=np.float32)
        return SimpleNamespace(mask=pred, entropy=ent.reshape(image.shape[:2]))


def load(name: str):
    k = NAMES.index(name)
    img = np.full((H, W, 3), 40 * k, np.uint8)
    return img, gt_of(k)


@pytest.fixture
def browser(qtbot):
    b = PredictionBrowser()
    qtbot.addWidget(b)
    b.resize(1200, 800)
    b.show()
    present = [np.bincount(gt_of(k)[gt_of(k) != 255], minlength=11) > 0 for k in range(5)]
    with qtbot.waitSignal(b.image_shown, timeout=10_000):
        b.set_images(NAMES, MIOU, present, SCHEMA, FakePredictor, load)
    yield b
    b.shutdown()


def test_worst_first_and_per_image_miou(browser, qtbot):
    assert browser.visible_names() == ["img_e", "img_b", "img_d", "img_a", "img_c"]
    assert browser.shown == "img_e" and "image mIoU –" in browser.info.text()
    browser.step(1)
    qtbot.waitUntil(lambda: browser.shown == "img_b", timeout=5000)
    assert "image mIoU 0.200" in browser.info.text()


def test_keys_walk_the_list(browser, qtbot):
    qtbot.keyClick(browser.table, Qt.Key.Key_Down)
    assert browser.current == "img_b"
    qtbot.keyClick(browser.panels, Qt.Key.Key_Right)       # panels forward arrow keys
    assert browser.current == "img_d"
    qtbot.keyClick(browser.panels, Qt.Key.Key_PageDown)    # a page (10) clamps at the end
    assert browser.current == "img_c"
    qtbot.keyClick(browser.panels, Qt.Key.Key_Up)
    assert browser.current == "img_a"
    qtbot.keyClick(browser.table, Qt.Key.Key_Left)         # the table steps on left/right too
    assert browser.current == "img_d"
    qtbot.keyClick(browser.table, Qt.Key.Key_PageUp)
    assert browser.current == "img_e"
    qtbot.waitUntil(lambda: browser.shown == "img_e", timeout=5000)


def test_panels_show_image_gt_and_prediction(browser, qtbot):
    browser.select_name("img_b")
    qtbot.waitUntil(lambda: browser.shown == "img_b", timeout=5000)
    img, gt = load("img_b")
    np.testing.assert_array_equal(browser.panels.image_data(IMAGE), img)
    np.testing.assert_array_equal(browser.panels.image_data(GT), SCHEMA.colorize(gt))
    pred = FakePredictor().predict(img).mask
    np.testing.assert_array_equal(browser.panels.image_data(PRED), SCHEMA.colorize(pred))


def test_error_map_modes(browser, qtbot):
    browser.select_name("img_b")
    qtbot.waitUntil(lambda: browser.shown == "img_b", timeout=5000)
    err = browser.panels.image_data(ERRORS)
    assert tuple(err[100, 100]) == CORRECT            # gt 0, pred 0
    assert tuple(err[100, 220]) == WRONG              # gt 0, pred 3
    assert tuple(err[100, 400]) == WRONG              # gt 3, pred 0
    assert tuple(err[5, 100]) not in (CORRECT, WRONG)  # void: unmarked
    browser.set_error_class(3)
    assert browser.error_mode.currentIndex() == 4
    err = browser.panels.image_data(ERRORS)
    assert tuple(err[100, 220]) == FALSE_POS          # predicted 3, truth 0
    assert tuple(err[100, 400]) == FALSE_NEG          # truth 3, predicted 0
    assert tuple(err[100, 260]) == TRUE_POS
    assert tuple(err[100, 100]) not in (FALSE_POS, FALSE_NEG, TRUE_POS)
    fp = (err == FALSE_POS).all(axis=2)
    fn = (err == FALSE_NEG).all(axis=2)
    assert fp.sum() == (H - 20) * 40 and fn.sum() == (H - 20) * 180
    browser.error_mode.setCurrentIndex(1)             # class 0 via the combo
    err = browser.panels.image_data(ERRORS)
    assert tuple(err[100, 220]) == FALSE_NEG and tuple(err[100, 400]) == FALSE_POS
    browser.error_mode.setCurrentIndex(0)
    assert tuple(browser.panels.image_data(ERRORS)[100, 100]) == CORRECT


def test_class_filter(browser):
    browser.class_filter.setCurrentIndex(8 + 1)       # "Car" (train id 8)
    assert browser.visible_names() == ["img_c"]
    assert browser.current == "img_c"                 # the shown image was filtered out
    assert browser.count_label.text() == "1 of 5 images"
    browser.class_filter.setCurrentIndex(0)
    assert len(browser.visible_names()) == 5


def test_prefetch_and_fast_switch(browser, qtbot):
    qtbot.waitUntil(lambda: len(browser.cache) >= 4, timeout=10_000)   # neighbours predicted
    browser.step(1)
    qtbot.waitUntil(lambda: len(browser.cache) == 5, timeout=10_000)
    times = []
    for delta in (1, 1, -1, -1, 1, -1):
        t = time.perf_counter()
        browser.step(delta)
        times.append(time.perf_counter() - t)
        assert browser.shown == browser.current            # drawn synchronously from cache
    # target is 50 ms at 360x480; the bound is loose because CI machines are shared
    print(f"switch times (ms): {[round(1000 * t, 1) for t in times]}")
    assert np.median(times) < 0.15, times


def test_hover_names_classes(browser, qtbot):
    browser.select_name("img_b")
    qtbot.waitUntil(lambda: browser.shown == "img_b", timeout=5000)
    browser._hover(220, 100)
    text = browser.hover_label.text()
    assert "ground truth: Sky" in text and "predicted: Road" in text
    browser._hover(-1, -1)
    assert browser.hover_label.text() == ""


def test_prediction_failure_is_shown(qtbot):
    class Broken:
        def predict(self, image):
            raise ValueError("model exploded")

    b = PredictionBrowser()
    qtbot.addWidget(b)
    present = [np.ones(11, bool)] * 5
    b.set_images(NAMES, MIOU, present, SCHEMA, Broken, load)
    qtbot.waitUntil(lambda: "prediction failed" in b.info.text(), timeout=5000)
    assert "model exploded" in b.info.text()
    b.shutdown()
