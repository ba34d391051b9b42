"""The Label view's "likely label errors" order, the outline of suspect regions, and the keys that
accept the model's class (A, undoable) or mark a region reviewed (R, into the sidecar); the
Evaluate tab's button that opens it."""
from __future__ import annotations

import json

import numpy as np
import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtTest import QTest

from core.classes import IGNORE_INDEX
from core.evaluate import Predictor
from core.labeling.issue_options import IMAGE_SCORES, IssueOptions
from core.labeling.label_issues import score_label_issues, trained_on
from core.labeling.reviewed_issues import sidecar_path
from tests.guiapp.labeling.label_helpers import (dataset, errors, key, make_view, mview, runs,  # noqa: F401
                                                 view, vp_pos)


def test_issue_order_ranks_the_split_with_the_chosen_model(qtbot, mview, runs, dataset):
    ckpt = str(runs / "base-adam" / "best.pt")
    mview.picker.combo.setCurrentIndex(mview.picker.combo.findData(ckpt))
    mview.review.show_issues()
    assert mview.review.running and mview.review.progress.isVisible()
    assert mview.review.rank_button.text() == "Stop"
    qtbot.waitUntil(lambda: mview.review.report is not None and not mview.review.running, timeout=60000)
    assert not mview.review.progress.isVisible()
    pred = Predictor.from_checkpoint(ckpt, device="cpu", tta=IssueOptions().tta())  # mirror-averaged
    samples = dataset.samples("train")
    expected = score_label_issues(
        samples, lambda s: pred.predict(dataset.read_image(s), with_probs=True).probs,
        dataset.read_mask, dataset.schema.num_classes, IssueOptions(),
        in_sample=trained_on(pred.config, "train"))
    assert mview.image_list.names() == expected.order()
    assert mview.image_list.headerItem().text(1) == "Suspect"
    method = IssueOptions().method  # the column says which score ranks, in core's words
    assert IMAGE_SCORES[method] in mview.image_list.headerItem().toolTip(1)
    assert IMAGE_SCORES[method] in mview.review.mode.toolTip()
    assert all(it.in_sample for it in mview.review.report.images)  # the run trained on train
    assert "trained on 12" in mview.note.text()


def _planted_report(source, sample):
    """A model (one-hot probabilities) that agrees with the labels except on two blocks, where it
    says another class: two suspect regions with known pixels and classes."""
    mask = source.read_mask(sample)
    truth = mask.copy()
    blocks = {}
    for (y0, y1, x0, x1) in ((4, 16, 8, 30), (40, 56, 55, 80)):
        present = set(np.unique(mask[y0:y1, x0:x1]).tolist())
        cls = next(c for c in range(source.schema.num_classes) if c not in present)
        truth[y0:y1, x0:x1] = cls
        region = np.zeros(mask.shape, bool)
        region[y0:y1, x0:x1] = mask[y0:y1, x0:x1] != IGNORE_INDEX
        blocks[(y0, x0)] = (cls, region)
    k = source.schema.num_classes
    probs = np.full((k, *mask.shape), 0.01, np.float32)
    np.put_along_axis(probs, np.where(truth == IGNORE_INDEX, 0, truth)[None].astype(np.intp), 0.9, axis=0)
    report = score_label_issues([sample], lambda s: probs, source.read_mask, k, IssueOptions(min_pixels=20))
    return report, blocks


def test_outline_then_accept_and_mark_reviewed_keys(qtbot, view, dataset):
    sample = dataset.samples("train")[0]
    report, blocks = _planted_report(dataset, sample)
    view.open_image(sample.name)
    view.review.show_report(report)
    assert view.review.mode_key == "issues" and view.image_list.names()[0] == sample.name
    item = view.image_list.topLevelItem(0)  # hovering the image says what its score stands for
    assert item.toolTip(0) == item.toolTip(1) == report.images[0].summary(dataset.schema.names)
    assert item.toolTip(0).startswith("2 suspect regions; largest: ")
    rect = view.issue_overlay.item.path().controlPointRect()
    assert (rect.left(), rect.top()) == pytest.approx((8, 4), abs=1)  # first block's corner
    assert (rect.right(), rect.bottom()) == pytest.approx((80, 56), abs=1)  # second block's
    session = view.editor.session
    before = session.mask.copy()

    (cls_a, region_a), (cls_b, region_b) = blocks[(4, 8)], blocks[(40, 55)]
    QTest.mouseMove(view.canvas.viewport(), vp_pos(view, 12, 8))
    qtbot.waitUntil(lambda: view.issue_overlay.hover == (12, 8))
    key(qtbot, view, Qt.Key.Key_A)
    assert (session.mask[region_a] == cls_a).all()
    assert np.array_equal(session.mask[~region_a], before[~region_a])
    assert session.dirty
    rect = view.issue_overlay.item.path().controlPointRect()
    assert rect.top() == pytest.approx(40, abs=1)  # only the second block is outlined now
    key(qtbot, view, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert np.array_equal(session.mask, before)  # one undo step

    QTest.mouseMove(view.canvas.viewport(), vp_pos(view, 60, 45))
    qtbot.waitUntil(lambda: view.issue_overlay.hover == (60, 45))
    key(qtbot, view, Qt.Key.Key_R)
    assert np.array_equal(session.mask, before)  # reviewed: labels kept
    side = json.loads(sidecar_path(dataset.root).read_text())
    [kept] = side["regions"][sample.name]
    assert kept["given"] != cls_b and kept["suggested"] == cls_b
    ys, xs = np.nonzero(region_b)
    assert kept["bbox"] == [int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1]
    assert view.issue_overlay.item.path().isEmpty()
    key(qtbot, view, Qt.Key.Key_A)  # nothing left under the cursor or elsewhere
    assert np.array_equal(session.mask, before)
    assert view.note.text() == "No suspect region here"


def test_a_report_written_by_the_cli_opens_as_the_order_and_its_regions_accept(qtbot, view, dataset, tmp_path):
    sample = dataset.samples("train")[0]
    report, blocks = _planted_report(dataset, sample)
    path = tmp_path / "issues.json"
    path.write_text(json.dumps({"split": "train", **report.to_dict(list(dataset.schema.names), with_pixels=True)}))
    view.open_image(sample.name)
    assert view.review.open_report(str(path))
    assert view.review.mode_key == "issues" and view.image_list.names()[0] == sample.name
    assert [r.bbox for r in view.review.regions(sample.name)] == [r.bbox for r in report.images[0].regions]
    (cls, region), session = blocks[(40, 55)], view.editor.session
    key(qtbot, view, Qt.Key.Key_J)  # the largest region, pixels read back from the file
    key(qtbot, view, Qt.Key.Key_A)
    assert (session.mask[region] == cls).all()
    view.review.mode.setCurrentIndex(0)
    view.review.show_issues()  # back to it: the opened report stays, nothing is scored
    assert not view.review.running and view.image_list.names()[0] == sample.name
    path.write_text("{not json")
    assert not view.review.open_report(str(path))
    assert str(path) in view.note.text()


def test_j_steps_through_the_regions_and_a_acts_on_the_one_stepped_to(qtbot, view, dataset):
    sample = dataset.samples("train")[0]
    report, blocks = _planted_report(dataset, sample)
    view.open_image(sample.name)
    view.review.show_report(report)
    small, large = blocks[(4, 8)], blocks[(40, 55)]  # 12x22 and 16x25 pixels: the larger comes first
    key(qtbot, view, Qt.Key.Key_J)
    overlay = view.issue_overlay
    assert overlay.focused.bbox[:2] == (55, 40) and view.note.text().startswith("Region 1/2: ")
    rect = overlay.focus_item.path().controlPointRect()
    assert (rect.left(), rect.top()) == pytest.approx((55, 40), abs=1)  # only the stepped-to one is solid
    key(qtbot, view, Qt.Key.Key_J)
    assert overlay.focused.bbox[:2] == (8, 4) and view.note.text().startswith("Region 2/2: ")
    key(qtbot, view, Qt.Key.Key_J, Qt.KeyboardModifier.ShiftModifier)  # back to the first
    assert overlay.focused.bbox[:2] == (55, 40)
    session = view.editor.session
    key(qtbot, view, Qt.Key.Key_A)  # acts on the region stepped to, wherever the mouse was
    assert (session.mask[large[1]] == large[0]).all() and not (session.mask[small[1]] == small[0]).all()
    assert overlay.focused is None and overlay.focus_item.path().isEmpty()
    key(qtbot, view, Qt.Key.Key_J)
    assert overlay.focused.bbox[:2] == (8, 4) and view.note.text().startswith("Region 1/1: ")


def test_an_unlabelled_object_is_outlined_and_labelled_with_a(qtbot, view, dataset):
    """A void blob the model is sure is a class: A gives it that class, named 'void → class'."""
    sample = dataset.samples("train")[0]
    view.open_image(sample.name)
    session = view.editor.session
    mask = session.mask.copy()
    mask[30:42, 20:36] = IGNORE_INDEX  # an object nobody labelled
    session.replace_mask(mask, "erase")
    k = dataset.schema.num_classes
    truth = np.where(mask == IGNORE_INDEX, 2, mask)
    probs = np.full((k, *mask.shape), 0.01, np.float32)
    np.put_along_axis(probs, truth[None].astype(np.intp), 0.95, axis=0)
    report = score_label_issues([sample], lambda s: probs, lambda s: session.mask, k, IssueOptions())
    [region] = report.by_name()[sample.name].regions
    assert region.given == IGNORE_INDEX and region.suggested == 2
    view.review.show_report(report)
    assert view.issue_overlay.item.path().isEmpty()  # drawn apart from doubted labels, in its own colour
    rect = view.issue_overlay.unlabelled_item.path().controlPointRect()
    assert (rect.left(), rect.top(), rect.right(), rect.bottom()) == pytest.approx((20, 30, 36, 42), abs=1)
    assert view.issue_overlay.unlabelled_item.pen().color() != view.issue_overlay.item.pen().color()
    QTest.mouseMove(view.canvas.viewport(), vp_pos(view, 25, 35))
    qtbot.waitUntil(lambda: view.issue_overlay.hover == (25, 35))
    void, car = dataset.schema.void_name, dataset.schema.names[2]
    assert f"x 25, y 35: label error? {void} → {car}, {region.pixels} px" in view.status.text()
    key(qtbot, view, Qt.Key.Key_A)
    assert (session.mask[30:42, 20:36] == 2).all()
    assert view.issue_overlay.unlabelled_item.path().isEmpty()
    assert view.note.text().startswith(f"{void} → {car} ({region.pixels} px")
    QTest.mouseMove(view.canvas.viewport(), vp_pos(view, 26, 35))  # accepted: no longer a region
    qtbot.waitUntil(lambda: view.issue_overlay.hover == (26, 35))
    assert "label error?" not in view.status.text() and f"x 26, y 35: {car}" in view.status.text()


def test_evaluate_button_opens_the_label_tab_in_issue_order(qtbot, tmp_path, dataset, runs, errors):
    from guiapp.app_state import AppState
    from guiapp.main_window import MainWindow

    state = AppState(QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat), runs_root=runs)
    state.set_source(dataset)
    w = MainWindow(state)
    qtbot.addWidget(w)
    label = w.views["Label"]
    try:
        ev = w.views["Evaluate"]
        ev.split_combo.setCurrentText("val")
        assert ev.find_label_errors()
        assert w.tabs.currentWidget() is label
        assert label.picker.path() == str(runs / "base-adam" / "best.pt")
        assert label.split_combo.currentText() == "val"
        assert label.review.mode_key == "issues"
        qtbot.waitUntil(lambda: label.review.report is not None, timeout=60000)
        assert not any(it.in_sample for it in label.review.report.images)  # val: out of sample
    finally:
        for v in w.views.values():
            if hasattr(v, "shutdown"):
                v.shutdown()


def test_the_classes_whose_wrong_labels_are_hard_to_find_show_under_the_order(qtbot, view, dataset):
    sample = dataset.samples("train")[0]
    report, _ = _planted_report(dataset, sample)
    names = list(dataset.schema.names)
    report.class_iou = np.linspace(0.05, 0.95, len(names))  # the first few under 0.5
    view.review.show_report(report)
    weak = report.weak_classes(names)
    assert weak and weak[0] == (names[0], pytest.approx(0.05))
    label = view.review.weak_label
    assert label.isVisible()  # the view is shown by the fixture
    assert label.text() == "Hard to find (model IoU): " + ", ".join(f"{n} {v:.2f}" for n, v in weak)
    assert report.weak_note(names)[1:] in label.toolTip()
    view.review.mode.setCurrentIndex(view.review.mode.findData("file"))
    assert not label.isVisible()  # another order: not about label errors
    view.review.mode.setCurrentIndex(view.review.mode.findData("issues"))
    assert label.isVisible()
    report.class_iou = np.full(len(names), 0.9)  # a model that knows every class: nothing to say
    view.review.show_report(report)
    assert not label.isVisible() and label.text() == ""


def _learned(report, probabilities):
    """The report as the learned scorer leaves it: each region with its probability, most
    probable first, the image scored by its most probable region."""
    from dataclasses import replace

    from core.labeling.region_scorer import RegionFit

    it = report.images[0]
    it.regions = sorted((replace(r, probability=p) for r, p in zip(it.regions, probabilities)),
                        key=lambda r: -r.probability)
    it.learned = max(probabilities)
    report.region_fit = RegionFit(True, "learned region scores: fitted on 40 planted label errors", 40, 300, 0.8)
    return report


def test_learned_regions_are_outlined_from_the_slider_threshold_with_their_probability(qtbot, view, dataset):
    sample = dataset.samples("train")[0]
    report, _ = _planted_report(dataset, sample)
    report = _learned(report, [0.3, 0.8])  # the larger block (40, 55) 0.3, the smaller (4, 8) 0.8
    view.open_image(sample.name)
    panel, overlay = view.review, view.issue_overlay
    panel.show_report(report)
    assert panel.threshold_row.isVisibleTo(panel) and panel.threshold == IssueOptions().region_threshold == 0.6
    assert panel.threshold_label.text() == "Outline p ≥ 0.60"
    assert [r.bbox[:2] for r in panel.regions(sample.name)] == [(8, 4)]  # 0.3 is under the threshold
    rect = overlay.item.path().controlPointRect()
    assert (rect.left(), rect.top(), rect.bottom()) == pytest.approx((8, 4, 16), abs=1)
    assert "1 likely label errors outlined (p ≥ 0.60) of 2 candidate regions" in view.note.text()
    item = view.image_list.topLevelItem(0)
    assert item.toolTip(0).startswith("most likely wrong: ") and "probability 0.80" in item.toolTip(0)

    panel.threshold_slider.setValue(25)  # lower: both blocks
    assert panel.threshold == 0.25 and panel.threshold_label.text() == "Outline p ≥ 0.25"
    assert [r.probability for r in panel.regions(sample.name)] == [0.8, 0.3]
    assert overlay.item.path().controlPointRect().bottom() == pytest.approx(56, abs=1)
    key(qtbot, view, Qt.Key.Key_J)  # most probable first
    assert overlay.focused.probability == 0.8 and ", p 0.80 (keys A, R)" in view.note.text()

    QTest.mouseMove(view.canvas.viewport(), vp_pos(view, 60, 45))  # over the 0.3 block
    qtbot.waitUntil(lambda: overlay.hover == (60, 45))
    tip = view.canvas.viewport().toolTip()
    assert "probability 0.30 that this label is wrong" in tip and tip.startswith("Labelled ")
    assert ", p 0.30 (keys A, R)" in view.status.text()
    panel.threshold_slider.setValue(90)
    assert panel.regions(sample.name) == [] and overlay.item.path().isEmpty()
    view.review.mode.setCurrentIndex(0)  # another order: no slider
    assert not panel.threshold_row.isVisibleTo(panel)


def test_an_uncertainty_report_shows_no_slider_and_outlines_every_region(qtbot, view, dataset):
    sample = dataset.samples("train")[0]
    report, _ = _planted_report(dataset, sample)
    view.open_image(sample.name)
    view.review.show_report(report)
    assert not view.review.threshold_row.isVisibleTo(view.review)
    assert len(view.review.regions(sample.name)) == 2
