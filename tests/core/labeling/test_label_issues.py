"""Label-issue scoring on hand-made probability maps with known answers, checked against
cleanlab's own definitions: suspect pixels, unlabelled objects, image scores, reviewed regions
left out."""
from types import SimpleNamespace

import numpy as np
import pytest

from core.classes import IGNORE_INDEX
from core.config import TrainConfig
from core.errors import ConfigError
from core.labeling.issue_options import IssueOptions
from core.labeling.label_issues import (ClassThresholds, kfold_names, label_edges, relative_confidence,
                                        score_label_issues, self_confidence, softmin, suspect_pixels,
                                        trained_on)


def _probs_from(pred: np.ndarray, k: int, conf: float) -> np.ndarray:
    """CxHxW probabilities: `conf` on pred's class, the rest spread evenly."""
    p = np.full((k, *pred.shape), (1 - conf) / (k - 1), np.float32)
    np.put_along_axis(p, pred[None].astype(np.intp), conf, axis=0)
    return p


def _scene():
    """20x20, left half class 0, right half class 1; a 4x4 car-like patch (rows 2-5, cols 2-5)
    labelled 0 that the model calls 2; a void stripe on row 19."""
    truth = np.zeros((20, 20), np.uint8)
    truth[:, 10:] = 1
    truth[2:6, 2:6] = 2
    labels = truth.copy()
    labels[2:6, 2:6] = 0  # the mistake: the object erased into its background
    labels[19] = IGNORE_INDEX
    return truth, labels, _probs_from(truth, 3, 0.9)


def test_self_confidence_is_the_given_class_probability_and_nan_on_void():
    probs = np.array([[[0.7, 0.2]], [[0.1, 0.5]], [[0.2, 0.3]]], np.float32)  # C=3, 1x2
    labels = np.array([[0, IGNORE_INDEX]], np.uint8)
    sc = self_confidence(probs, labels)
    assert sc[0, 0] == pytest.approx(0.7)
    assert np.isnan(sc[0, 1])


def test_softmin_by_hand_and_ignores_nan():
    s = np.array([0.2, 0.8, np.nan])
    w = np.exp((1 - np.array([0.2, 0.8])) / 0.1)
    assert softmin(s) == pytest.approx((0.2 * w[0] + 0.8 * w[1]) / w.sum())
    assert softmin(np.array([np.nan])) == 1.0


def test_pixel_and_image_scores_match_cleanlab():
    cl_rank = pytest.importorskip("cleanlab.segmentation.rank")
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(3, 4, 5, 6)) * 3
    probs = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    labels = rng.integers(0, 4, size=(3, 5, 6))
    img, pix = cl_rank.get_label_quality_scores(labels, probs, verbose=False)
    for i in range(3):
        sc = self_confidence(probs[i], labels[i].astype(np.uint8))
        np.testing.assert_allclose(sc, pix[i], rtol=1e-6)
        assert softmin(sc) == pytest.approx(img[i], rel=1e-6)


def test_thresholds_are_per_class_mean_self_confidence():
    acc = ClassThresholds(3)
    labels = np.array([[0, 0, 1, IGNORE_INDEX]], np.uint8)
    acc.add(np.array([[0.2, 0.6, 0.9, np.nan]], np.float32), labels)
    acc.add(np.array([[0.4]], np.float32), np.array([[1]], np.uint8))
    np.testing.assert_allclose(acc.values(), [0.4, 0.65, 1.0])  # class 2 absent: 1.0


def test_threshold_rule_finds_the_erased_object_like_cleanlab():
    truth, labels, probs = _scene()
    sc = self_confidence(probs, labels)
    acc = ClassThresholds(3)
    acc.add(sc, labels)
    sus = suspect_pixels(sc, probs.argmax(0), labels, thresholds=acc.values())
    expected = np.zeros_like(sus)
    expected[2:6, 2:6] = True
    np.testing.assert_array_equal(sus, expected)
    cl_filter = pytest.importorskip("cleanlab.segmentation.filter")
    cl_labels = np.where(labels == IGNORE_INDEX, truth, labels)[None].astype(np.int64)
    cl = cl_filter.find_label_issues(cl_labels, probs[None].astype(np.float64), n_jobs=1, verbose=False)
    np.testing.assert_array_equal(cl[0], expected)


def test_margin_rule_needs_the_top_class_to_win_by_the_margin():
    labels = np.array([[0, 0, 0, IGNORE_INDEX]], np.uint8)
    probs = np.array([[[0.3, 0.45, 0.9, 0.0]], [[0.7, 0.55, 0.1, 1.0]]], np.float32)
    sc = self_confidence(probs, labels)
    sus = suspect_pixels(sc, probs.argmax(0), labels, rule="margin", margin=0.3, top=probs.max(0))
    assert sus.tolist() == [[True, False, False, False]]  # 0.7-0.3 >= 0.3; 0.55-0.45 is not; void never


def _sample(name):
    return SimpleNamespace(name=name)


def test_scoring_ranks_the_wrong_image_first_and_reviewed_regions_drop_out():
    truth, labels, probs = _scene()
    clean = truth.copy()
    unsure = probs.copy()
    unsure[:, 19] = 1 / 3  # on the void stripe: not an unlabelled object
    data = {"bad": (labels, unsure), "good": (clean, probs)}
    samples = [_sample("good"), _sample("bad")]
    report = score_label_issues(samples, lambda s: data[s.name][1], lambda s: data[s.name][0], 3,
                                IssueOptions(min_pixels=4, skip_edges=False))
    assert report.order() == ["bad", "good"]
    bad = report.by_name()["bad"]
    assert [(r.given, r.suggested, r.pixels, r.bbox) for r in bad.regions] == [(0, 2, 16, (2, 2, 6, 6))]
    assert bad.share == pytest.approx(16 / 380)  # 20 void pixels on row 19
    # P(model says 2 | labelled 0) over the split: 16 of the 190 + 184 pixels labelled 0
    assert bad.regions[0].rarity == pytest.approx(16 * -np.log(16 / 374), rel=1e-5)
    assert bad.score("rare") == pytest.approx(16 * -np.log(16 / 374) / 380, rel=1e-5)
    assert report.by_name()["good"].regions == []
    reviewed = {"bad": [bad.regions[0]]}
    again = score_label_issues(samples, lambda s: data[s.name][1], lambda s: data[s.name][0], 3,
                               IssueOptions(min_pixels=4, skip_edges=False), reviewed=lambda n: reviewed.get(n, []))
    after = again.by_name()["bad"]
    assert after.regions == [] and after.share == 0.0
    sc = self_confidence(unsure, labels).astype(np.float16).astype(np.float32)
    assert bad.quality == pytest.approx(softmin(sc), rel=1e-6)
    sc[2:6, 2:6] = np.nan  # the reviewed region's pixels no longer count
    assert after.quality == pytest.approx(softmin(sc), rel=1e-6) and after.quality > bad.quality
    # the default (relative) score leaves them out too
    assert after.relative == pytest.approx(softmin(relative_confidence(sc, labels, again.thresholds)), rel=1e-3)
    assert after.relative > bad.relative
    d = report.to_dict(["a", "b", "c"])
    assert d["images"][0]["regions"][0]["given_name"] == "a"
    assert d["images"][0]["regions"][0]["suggested_name"] == "c"
    assert d["thresholds"]["c"] == pytest.approx(0.9)


def _void_split(n: int, blob_conf: float = 0.95, band: bool = False):
    """n 10x12 masks of class 0 that the model agrees with (0.9); image 'a' has a 3x4 void blob
    (rows 2-4, cols 5-8) the model calls class 1 with `blob_conf`; with `band`, every image's
    bottom row is void and the model calls it class 2 (0.95), like an ego vehicle."""
    data = {}
    for i in range(n):
        name = "abcdefgh"[i]
        labels = np.zeros((10, 12), np.uint8)
        pred = np.zeros((10, 12), np.uint8)
        conf = np.full((10, 12), 0.9, np.float32)
        if name == "a":
            labels[2:5, 5:9] = IGNORE_INDEX
            pred[2:5, 5:9], conf[2:5, 5:9] = 1, blob_conf
        if band:
            labels[9] = IGNORE_INDEX
            pred[9], conf[9] = 2, 0.95
        probs = np.empty((3, 10, 12), np.float32)
        for c in range(3):
            probs[c] = np.where(pred == c, conf, (1 - conf) / 2)
        data[name] = (labels, probs)
    return [_sample(n) for n in data], data


def _score(samples, data, **options):
    return score_label_issues(samples, lambda s: data[s.name][1], lambda s: data[s.name][0], 3,
                              IssueOptions(min_pixels=4, skip_edges=False, **options))


def test_a_void_blob_the_model_is_sure_about_is_an_unlabelled_region():
    samples, data = _void_split(4)
    report = _score(samples, data)
    a = report.by_name()["a"]
    assert [(r.given, r.suggested, r.pixels, r.bbox) for r in a.regions] == [(IGNORE_INDEX, 1, 12, (5, 2, 9, 5))]
    assert a.regions[0].class_names(["road", "car", "sky"]) == ("void", "car")
    assert report.order()[0] == "a"
    # its pixels count with self-confidence 1 - 0.95 beside the 108 labelled ones at 0.9 (kept as
    # float16 until the split's thresholds are known)
    sc = np.array([np.float16(0.9)] * 108 + [np.float16(1 - np.float32(0.95))] * 12, np.float32)
    assert a.quality == pytest.approx(softmin(sc), rel=1e-5)
    assert a.scored == 120 and a.share == pytest.approx(12 / 120)
    # the model says class 1 on every void pixel of the split: P(1 | void) = 1, nothing rare
    assert a.regions[0].rarity == pytest.approx(0.0, abs=1e-6)
    assert all(report.by_name()[n].regions == [] for n in "bcd")
    d = report.to_dict(["road", "car", "sky"])
    assert d["images"][0]["regions"][0]["given_name"] == "void" and d["images"][0]["regions"][0]["unlabelled"]
    # cleanlab's behaviour: void never scored
    off = _score(samples, data, void_confidence=0).by_name()["a"]
    assert off.regions == [] and off.scored == 108
    assert off.quality == pytest.approx(np.float16(0.9), rel=1e-5)


def test_an_unsure_model_or_a_small_blob_makes_no_unlabelled_region():
    samples, data = _void_split(4, blob_conf=0.8)
    assert _score(samples, data).by_name()["a"].regions == []
    samples, data = _void_split(4, blob_conf=0.9)  # exactly the default: counted
    assert len(_score(samples, data).by_name()["a"].regions) == 1
    samples, data = _void_split(4)
    assert _score(samples, data, void_confidence=0.97).by_name()["a"].regions == []
    assert score_label_issues(samples, lambda s: data[s.name][1], lambda s: data[s.name][0], 3,
                              IssueOptions(min_pixels=13)).by_name()["a"].regions == []


def test_void_at_the_same_place_in_most_images_is_the_camera_not_a_missed_object():
    samples, data = _void_split(4, band=True)
    report = _score(samples, data)
    assert [r.suggested for r in report.by_name()["a"].regions] == [1]  # the blob, not the band
    assert all(report.by_name()[n].regions == [] for n in "bcd")
    samples, data = _void_split(2, band=True)  # two images cannot tell the camera from an object
    assert [r.pixels for r in _score(samples, data).by_name()["b"].regions] == [12]


def test_the_default_smallest_region_follows_the_image_size():
    # a 9x10 (90 px) region: kept at 20x2000 pixels (default 20), dropped at 200x1000 (100)
    for shape, kept in (((200, 200), True), ((200, 1000), False)):
        labels = np.zeros(shape, np.uint8)
        truth = labels.copy()
        truth[:9, :10] = 1
        probs = _probs_from(truth, 2, 0.9)
        report = score_label_issues([_sample("x")], lambda s: probs, lambda s: labels, 2)
        assert len(report.by_name()["x"].regions) == int(kept)


def test_only_pixels_that_can_turn_out_suspect_are_kept_while_the_split_is_scored(monkeypatch):
    import core.labeling.label_issues as li

    truth, labels, probs = _scene()
    kept = {}
    finish = li._finish
    monkeypatch.setattr(li, "_finish", lambda p, *a: kept.setdefault(p.name, p) and finish(p, *a))
    data = {"bad": (labels, probs), "good": (truth, probs)}
    score_label_issues([_sample("bad"), _sample("good")], lambda s: data[s.name][1],
                       lambda s: data[s.name][0], 3, IssueOptions(min_pixels=4))
    assert kept["good"].at.size == 0 and kept["good"].labelled == 400  # the model agrees everywhere
    # the erased patch (16) and the void stripe the model is sure about (0.9 >= 0.9: 20 pixels)
    assert sorted(kept["bad"].at.tolist()) == sorted([r * 20 + c for r in range(2, 6) for c in range(2, 6)]
                                                     + list(range(380, 400)))


def test_softmin_sums_add_up_over_parts():
    from core.labeling.label_issues import softmin_of, softmin_sums

    s = np.array([0.9, 0.2, np.nan, 0.6, 0.99], np.float32)
    whole = softmin_sums(s)
    assert np.allclose(softmin_sums(s[:2]) + softmin_sums(s[2:]), whole)
    assert softmin_of(whole) == pytest.approx(softmin(s))
    assert softmin_of(softmin_sums(np.array([np.nan]))) == 1.0


def test_in_sample_follows_the_training_split_and_holdout():
    cfg = TrainConfig(train_split="train", holdout="0006R0")
    seen = trained_on(cfg, "train")
    assert seen(_sample("0001TP_1")) and not seen(_sample("0006R0_1"))
    assert not trained_on(cfg, "val")(_sample("0001TP_1"))


def test_kfold_names_cover_every_image_once():
    names = [f"n{i:02d}" for i in range(10)]
    folds = kfold_names(names, 3)
    assert sorted(sum(folds, [])) == names and sorted(len(f) for f in folds) == [3, 3, 4]
    with pytest.raises(ConfigError):
        kfold_names(names[:2], 3)


def test_a_report_round_trips_through_its_json_with_the_region_pixels(tmp_path):
    import json

    from core.errors import DataError
    from core.labeling.label_issues import IssueReport

    truth, labels, probs = _scene()
    data = {"bad": (labels, probs), "good": (truth, probs)}
    report = score_label_issues([_sample("good"), _sample("bad")], lambda s: data[s.name][1],
                                lambda s: data[s.name][0], 3,
                                IssueOptions(min_pixels=4, method="rare", skip_edges=True))
    path = tmp_path / "r.json"
    path.write_text(json.dumps(report.to_dict(["a", "b", "c"], with_pixels=True)))
    back = IssueReport.read(path)
    assert back.order() == report.order() and back.options == report.options
    np.testing.assert_allclose(back.thresholds, report.thresholds)
    for a, b in zip(report.ranked(), back.images):  # written worst first
        assert (a.name, a.quality, a.relative, a.share, a.scored) == (b.name, b.quality, b.relative, b.share, b.scored)
        assert a.regions == b.regions
        assert all(np.array_equal(x.stencil, y.stencil) for x, y in zip(a.regions, b.regions))
    first, *rest = report.by_name()["bad"].regions  # regions reviewed since are left out
    kept = IssueReport.read(path, reviewed=lambda n: [first] if n == "bad" else []).by_name()["bad"].regions
    assert kept == rest
    path.write_text(json.dumps({"images": []}))
    with pytest.raises(DataError, match="not a label-issues report"):
        IssueReport.read(path)


def test_relative_quality_by_hand():
    """Left half class 0 at 0.9, right half class 1 at 0.6, four class-1 pixels the model gives
    0.1: thresholds 0.9 and (46 * 0.6 + 4 * 0.1) / 50; every agreeing pixel reaches its class's
    threshold (relative 1), the four doubted ones 0.1 / t1."""
    labels = np.zeros((10, 10), np.uint8)
    labels[:, 5:] = 1
    probs = np.zeros((2, 10, 10), np.float32)
    probs[0, :, :5], probs[1, :, 5:] = 0.9, 0.6
    probs[1, 0, 6:10] = 0.1
    probs[0] = np.where(labels == 0, probs[0], 1 - probs[1])
    probs[1] = 1 - probs[0]
    it = score_label_issues([_sample("a")], lambda s: probs, lambda s: labels, 2,
                            IssueOptions(min_pixels=1, skip_edges=False)).images[0]
    t1 = (46 * 0.6 + 4 * 0.1) / 50
    assert it.relative == pytest.approx(softmin(np.array([1.0] * 96 + [0.1 / t1] * 4)), rel=1e-3)
    assert it.score("relative") == pytest.approx(1 - it.relative)
    assert it.quality == pytest.approx(softmin(self_confidence(probs, labels)), rel=1e-3)


def test_a_class_the_model_doubts_everywhere_no_longer_outranks_a_wrong_object():
    """'hard': 30 pixels of class 2 the model calls 2 at only 0.28 (its probability for that class
    wherever it is labelled); 'wrong': three class-0 pixels the model calls 1 (0.6 against 0.3).
    The plain softmin puts 'hard' first, the relative one 'wrong'."""
    k = 4
    hard_lab, wrong_lab = np.zeros((10, 10), np.uint8), np.zeros((10, 10), np.uint8)
    hard_lab[:3] = 2
    hard, wrong = _probs_from(hard_lab, k, 0.9), _probs_from(wrong_lab, k, 0.9)
    hard[:, :3] = np.array([0.24, 0.24, 0.28, 0.24], np.float32)[:, None, None]
    wrong[:, 5, 5:8] = np.array([0.3, 0.6, 0.05, 0.05], np.float32)[:, None]
    data = {"hard": (hard_lab, hard), "wrong": (wrong_lab, wrong)}
    samples = [_sample("hard"), _sample("wrong")]

    def order(method):
        return score_label_issues(samples, lambda s: data[s.name][1], lambda s: data[s.name][0], k,
                                  IssueOptions(min_pixels=1, method=method)).order()
    assert order("softmin") == ["hard", "wrong"]
    assert order("relative") == ["wrong", "hard"]


def test_label_edges_by_hand():
    labels = np.array([[0, 0, 1, 1],
                       [0, 0, 1, 1],
                       [0, 0, 0, 0],
                       [0, 0, 0, IGNORE_INDEX]], np.uint8)
    expected = np.array([[0, 1, 1, 0],
                         [0, 1, 1, 1],
                         [0, 0, 1, 1],
                         [0, 0, 1, 1]], bool)
    np.testing.assert_array_equal(label_edges(labels), expected)


def test_skip_edges_leaves_the_label_edges_out_of_the_image_scores():
    """A doubted pixel on the edge of its label counts only without skip_edges; one inside the
    label counts either way. Regions are found alike."""
    labels = np.zeros((12, 12), np.uint8)
    labels[:, 6:] = 1
    base = _probs_from(labels, 2, 0.9)
    on_edge, inside = base.copy(), base.copy()
    on_edge[:, 3:9, 5] = np.array([0.2, 0.8], np.float32)[:, None]  # column 5 borders class 1
    inside[:, 3:9, 2] = np.array([0.2, 0.8], np.float32)[:, None]
    samples = [_sample("edge"), _sample("inside")]
    data = {"edge": on_edge, "inside": inside}

    def images(skip):
        return score_label_issues(samples, lambda s: data[s.name], lambda s: labels, 2,
                                  IssueOptions(min_pixels=1, skip_edges=skip)).by_name()
    plain, skipped = images(False), images(True)
    assert plain["edge"].quality == pytest.approx(plain["inside"].quality, rel=1e-6)
    kept = ~label_edges(labels)
    sc = self_confidence(on_edge, labels)
    assert skipped["edge"].quality == pytest.approx(softmin(np.where(kept, sc, np.nan)), rel=1e-3)
    assert skipped["edge"].quality > 0.85 > skipped["inside"].quality
    assert skipped["edge"].relative > skipped["inside"].relative
    assert [r.pixels for r in skipped["edge"].regions] == [r.pixels for r in plain["edge"].regions] == [6]


def test_an_image_summary_names_its_regions_and_the_largest():
    from core.labeling.issue_regions import IssueRegion
    from core.labeling.label_issues import ImageIssues

    def region(given, suggested, pixels):
        return IssueRegion(given, suggested, pixels, (0, 0, 1, 1), str(pixels))
    names = ["Road", "Car", "Pedestrian"]
    it = ImageIssues("a", 0.5, 0.1, 100, [region(0, 1, 40), region(IGNORE_INDEX, 2, 12)])
    assert it.summary(names) == "2 suspect regions (1 unlabelled); largest: Road → Car, 40 px"
    it.in_sample = True
    assert it.summary(names).endswith("; the model trained on this image")
    assert ImageIssues("b", 1.0, 0.0, 100, [region(1, 0, 30)]).summary(names) == (
        "1 suspect region; largest: Car → Road, 30 px")
    assert ImageIssues("c", 1.0, 0.0, 100).summary(names) == "no suspect region"


def test_the_report_carries_the_models_iou_with_the_labels_per_class():
    """_scene's two images, the model right everywhere: class 0 is labelled on 374 pixels, 16 of
    them the model calls 2 (the erased patch, labelled only in "bad"); class 2 is labelled on the
    16 pixels of "good"'s patch, so it is said on 32 and agreed on 16: IoU 0.5, just not weak.
    The void row plays no part."""
    from core.labeling.label_issues import IssueReport

    truth, labels, probs = _scene()
    data = {"bad": (labels, probs), "good": (truth, probs)}
    report = score_label_issues([_sample("good"), _sample("bad")], lambda s: data[s.name][1],
                                lambda s: data[s.name][0], 3, IssueOptions(min_pixels=4))
    np.testing.assert_allclose(report.class_iou, [358 / 374, 1.0, 16 / 32])
    assert report.weak_classes(["a", "b", "c"]) == [] and report.weak_note(["a", "b", "c"]) == ""
    assert report.weak_classes(["a", "b", "c"], below=0.6) == [("c", 0.5)]
    # a class neither labelled nor said (NaN) is never called weak
    weak = IssueReport([], None, IssueOptions(), class_iou=np.array([0.43, np.nan, 0.1, 0.9]))
    assert weak.weak_classes(["Ped", "Sky", "Pole", "Road"]) == [("Pole", 0.1), ("Ped", 0.43)]
    assert weak.weak_note(["Ped", "Sky", "Pole", "Road"]).startswith(
        "wrong labels of Pole (0.10), Ped (0.43) are hard to find")
    d = weak.to_dict(["Ped", "Sky", "Pole", "Road"])
    assert d["class_iou"] == {"Ped": 0.43, "Sky": None, "Pole": 0.1, "Road": 0.9}
    back = IssueReport.from_dict(d)
    np.testing.assert_array_equal(back.class_iou, weak.class_iou)
    del d["class_iou"]  # a report written before it: no weak classes
    assert IssueReport.from_dict(d).weak_classes(["Ped", "Sky", "Pole", "Road"]) == []
