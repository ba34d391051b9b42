"""EvaluateView on a really trained tiny run: Evaluate runs the worker to completion, the IoU bars
equal the EvalResult scores, the heatmap is the row-normalised matrix and a click on a cell lists
the images sorted by that confusion, and the prediction browser walks the split by keyboard with
the right per-image mIoU and error-map pixels."""
from __future__ import annotations

import math

import numpy as np
import pytest
from PySide6.QtCore import QPointF, QSettings, Qt
from PySide6.QtWidgets import QMessageBox

from core.data.source import open_dataset
from guiapp.app_state import AppState
from guiapp.views.evaluate_view import EvaluateView, worst_images
from guiapp.widgets.error_map import FALSE_NEG, FALSE_POS
from guiapp.widgets.prediction_browser import ERRORS
from tests.guiapp.tiny_runs import tiny_runs


def wait_until(cond, timeout_s: float) -> bool:
    """Spin an event loop until ``cond()``. (QTest.qWait would hold the GIL in PySide6 and starve
    the evaluation thread; a QEventLoop releases it.)"""
    import time

    from PySide6.QtCore import QEventLoop, QTimer

    end = time.monotonic() + timeout_s
    while not cond():
        if time.monotonic() > end:
            return False
        loop = QEventLoop()
        QTimer.singleShot(20, loop.quit)
        loop.exec()
    return True


@pytest.fixture(scope="module")
def evaluated(qapp, tmp_path_factory, synth_data):
    """One view, evaluated once for the module (evaluation is the slow part)."""
    from PySide6.QtTest import QTest

    runs = tiny_runs(tmp_path_factory, synth_data)
    ini = tmp_path_factory.mktemp("settings") / "s.ini"
    state = AppState(QSettings(str(ini), QSettings.Format.IniFormat), runs_root=runs)
    state.set_source(open_dataset(synth_data))
    view = EvaluateView(state)
    view.resize(1400, 900)
    view.show()
    results = []
    state.eval_done.connect(results.append)
    assert view.run_combo.count() == 1 and view.split_combo.currentText() == "val"
    QTest.mouseClick(view.eval_btn, Qt.MouseButton.LeftButton)
    wait_until(lambda: results and not view.runner.is_running(), 120)
    assert results, f"evaluation did not finish: {view.summary.text()}"
    wait_until(lambda: view.browser.shown, 60)     # first image predicted and drawn
    yield view, results[0]
    view.shutdown()
    view.close()
    view.deleteLater()


def test_worker_ran_to_completion(evaluated):
    view, result = evaluated
    n = len(result.names)
    assert n == len(view.state.source.samples("val"))
    assert view.progress.value() == view.progress.maximum() == n
    assert view.eval_btn.isEnabled() and not view.cancel_btn.isEnabled()
    assert f"mIoU {result.scores.miou:.3f}" in view.summary.text()


def test_iou_bars_equal_scores(evaluated):
    view, result = evaluated
    np.testing.assert_array_equal(np.isnan(view.bars.values), np.isnan(result.scores.iou))
    ok = ~np.isnan(view.bars.values)
    np.testing.assert_allclose(view.bars.values[ok], np.asarray(result.scores.iou)[ok])


def test_heatmap_is_row_normalised_matrix(evaluated):
    view, result = evaluated
    np.testing.assert_array_equal(view.heatmap.matrix, result.matrix)
    rows = result.matrix.sum(axis=1)
    for i in np.flatnonzero(rows):
        assert view.heatmap.normalised[i].sum() == pytest.approx(1.0)
    i, j = np.unravel_index(np.argmax(result.matrix), result.matrix.shape)
    text = view.heatmap.cell_text(i, j)
    assert f"{int(result.matrix[i, j]):,} pixels" in text
    assert f"{100 * result.matrix[i, j] / rows[i]:.1f}%" in text


def biggest_confusion(result):
    m = result.matrix.copy()
    np.fill_diagonal(m, 0)
    return np.unravel_index(np.argmax(m), m.shape)


def test_cell_click_lists_images_sorted_by_that_confusion(evaluated, qtbot):
    view, result = evaluated
    i, j = biggest_confusion(result)
    hm = view.heatmap
    scene_pt = hm.plotItem.vb.mapViewToScene(QPointF(j + 0.5, i + 0.5))
    with qtbot.waitSignal(hm.cell_clicked) as sig:
        qtbot.mouseClick(hm.viewport(), Qt.MouseButton.LeftButton,
                         pos=hm.mapFromScene(scene_pt))
    assert sig.args == [i, j]
    counts = result.per_image_matrices[:, i, j]
    expected = [result.names[k] for k in np.argsort(-counts, kind="stable") if counts[k] > 0]
    listed = [view.confusion_list.item(r).data(Qt.ItemDataRole.UserRole)[0]
              for r in range(view.confusion_list.count())]
    assert listed == expected == [r[0] for r in worst_images(result, i, j)]
    shown_counts = [int(view.confusion_list.item(r).text().split()[1].replace(",", ""))
                    for r in range(view.confusion_list.count())]
    assert shown_counts == sorted(shown_counts, reverse=True)
    # choosing a listed image shows it with the errors of the ground-truth class
    view.confusion_list.setCurrentRow(0)
    qtbot.waitUntil(lambda: view.browser.shown == expected[0], timeout=20_000)
    assert view.browser.error_class == i


def test_browser_walks_worst_first_with_per_image_miou(evaluated, qtbot):
    view, result = evaluated
    b = view.browser
    b.class_filter.setCurrentIndex(0)
    per = dict(zip(result.names, result.per_image_miou))
    order = b.visible_names()
    vals = [per[n] for n in order]
    assert vals == sorted(vals, key=lambda v: -1 if math.isnan(v) else v)
    b.select_name(order[0])
    qtbot.waitUntil(lambda: b.shown == order[0], timeout=20_000)
    b.table.setFocus()
    for k in range(1, len(order)):
        qtbot.keyClick(b.table, Qt.Key.Key_Down)
        qtbot.waitUntil(lambda k=k: b.shown == order[k], timeout=20_000)
        assert f"image mIoU {per[order[k]]:.3f}" in b.info.text()
    qtbot.keyClick(b.panels, Qt.Key.Key_PageUp)
    qtbot.waitUntil(lambda: b.shown == order[0], timeout=20_000)


def test_error_map_for_a_class_marks_its_fp_and_fn(evaluated, qtbot):
    view, result = evaluated
    b = view.browser
    name = b.visible_names()[0]
    b.select_name(name)
    qtbot.waitUntil(lambda: b.shown == name, timeout=20_000)
    item = b.cache.get(name)
    gt, pred = item.gt, item.pred
    # the class with the most wrong pixels in this image
    cls = int(np.bincount(gt[(gt != pred) & (gt != 255)], minlength=11).argmax())
    b.set_error_class(cls)
    err = b.panels.image_data(ERRORS)
    fp = (pred == cls) & (gt != cls) & (gt != 255)
    fn = (gt == cls) & (pred != cls)
    np.testing.assert_array_equal((err == FALSE_POS).all(axis=2), fp)
    np.testing.assert_array_equal((err == FALSE_NEG).all(axis=2), fn)
    assert fn.any()
    b.set_error_class(None)
    assert not (b.panels.image_data(ERRORS) == FALSE_NEG).all(axis=2).any()


def test_prediction_matches_eval_confusion(evaluated, qtbot):
    """The browser's prediction for an image reproduces that image's confusion matrix."""
    view, result = evaluated
    b = view.browser
    name = b.visible_names()[-1]
    b.select_name(name)
    qtbot.waitUntil(lambda: b.shown == name, timeout=20_000)
    item = b.cache.get(name)
    k = result.names.index(name)
    valid = item.gt != 255
    c = len(result.class_names)
    m = np.bincount(item.gt[valid].astype(int) * c + item.pred[valid], minlength=c * c)
    np.testing.assert_array_equal(m.reshape(c, c), result.per_image_matrices[k])


def test_class_filter_lists_images_with_the_class(evaluated):
    view, result = evaluated
    b = view.browser
    gt_counts = result.per_image_matrices.sum(axis=2)
    cls = int(np.argmin(gt_counts.astype(bool).sum(axis=0) + (gt_counts.sum(0) == 0) * 99))
    b.class_filter.setCurrentIndex(cls + 1)
    expected = {n for n, row in zip(result.names, gt_counts) if row[cls] > 0}
    assert set(b.visible_names()) == expected
    b.class_filter.setCurrentIndex(0)


def test_failure_shows_dialog_not_crash(qtbot, tmp_path, synth_data, monkeypatch,
                                        tmp_path_factory):
    shown = []
    monkeypatch.setattr(QMessageBox, "open", lambda self: shown.append(self.text()))
    runs = tmp_path / "runs"
    import shutil

    shutil.copytree(tiny_runs(tmp_path_factory, synth_data) / "base-adam", runs / "broken")
    (runs / "broken" / "best.pt").write_bytes(b"not a checkpoint")
    state = AppState(QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat),
                     runs_root=runs)
    state.set_source(open_dataset(synth_data))
    view = EvaluateView(state)
    qtbot.addWidget(view)
    assert view.start()
    qtbot.waitUntil(lambda: view.eval_btn.isEnabled() and bool(shown), timeout=60_000)
    assert "best.pt" in shown[0] and view.summary.text() == "evaluation failed"
    assert not view.runner.is_running() and not view.cancel_btn.isEnabled()
    view.shutdown()


def test_runs_list_follows_runs_root(qtbot, tmp_path, synth_data, tmp_path_factory):
    state = AppState(QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat),
                     runs_root=tmp_path / "none")
    view = EvaluateView(state)
    qtbot.addWidget(view)
    assert view.run_combo.count() == 0 and not view.eval_btn.isEnabled()
    state.set_runs_root(tiny_runs(tmp_path_factory, synth_data))
    assert view.run_combo.count() == 1
    # no dataset open: the run's own training data is offered
    assert view.data_combo.currentText().startswith("run's data")
    assert view.split_combo.currentText() == "val" and view.eval_btn.isEnabled()
    view.shutdown()
