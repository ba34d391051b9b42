"""The learned region scorer: matching and overlap rules by hand, and a whole fit on a small
made-up split whose real label errors (whole cars labelled road) must outrank the model's own
mistakes, with no image scored by a fit that saw it."""
import json
from types import SimpleNamespace

import cv2
import numpy as np
import pytest

import core.labeling.region_scorer as region_scorer
from core.labeling.issue_options import IssueOptions
from core.labeling.issue_regions import IssueRegion
from core.labeling.label_issues import IssueReport, score_label_issues
from core.labeling.region_scorer import (RegionCollector, average_precision, pixel_iou, suppress_overlaps,
                                         truth_regions)

K = 5  # road, car, pole, sky, person


def _region(bbox, stencil=None, p=None):
    x0, y0, x1, y1 = bbox
    s = np.ones((y1 - y0, x1 - x0), bool) if stencil is None else stencil
    return IssueRegion(0, 1, int(s.sum()), bbox, "", s, probability=p)


def test_pixel_iou_counts_the_stencils_not_the_boxes():
    a = _region((0, 0, 4, 4))  # 16 px
    b = _region((2, 0, 6, 4))  # 16 px, 8 shared
    assert pixel_iou(a, b) == pytest.approx(8 / 24)
    hollow = np.ones((4, 4), bool)
    hollow[1:3, 1:3] = False
    c = _region((0, 0, 4, 4), hollow)  # 12 px, all inside a
    assert pixel_iou(a, c) == pytest.approx(12 / 16)
    assert pixel_iou(a, _region((10, 10, 12, 12))) == 0.0


def test_truth_regions_are_the_changed_parts_of_at_least_the_smallest_size():
    changed = np.zeros((20, 20), bool)
    changed[1:4, 1:4] = True  # 9 px
    changed[10:12, 10:20] = True  # 20 px
    assert sorted(t.pixels for t in truth_regions(changed, 5)) == [9, 20]
    assert [t.pixels for t in truth_regions(changed, 10)] == [20]


def test_suppress_overlaps_keeps_the_more_probable_of_two_overlapping_regions():
    a, b = _region((0, 0, 4, 4), p=0.3), _region((0, 0, 4, 3), p=0.8)  # IoU 0.75
    c = _region((2, 0, 6, 4), p=0.5)  # IoU with b: 4/24
    assert [r.probability for r in suppress_overlaps([a, b, c])] == [0.8, 0.5]


def test_average_precision_matches_scikit_learn_without_ties():
    from sklearn.metrics import average_precision_score

    rng = np.random.default_rng(0)
    y = rng.random(50) < 0.3
    s = rng.random(50) + y * 0.3
    assert average_precision(s, y) == pytest.approx(average_precision_score(y, s))
    assert average_precision(np.array([0.5, 0.5]), np.array([True, False])) == 0.5  # ties: negatives first


def _split(n: int, seed: int = 0):
    """n 60x80 scenes (sky above road, two cars, a pole, a person) with a model that is right at
    0.85 except for two blobs an image where it says another class at 0.6 (its own mistakes),
    and labels that are the truth except in every fourth image, where a car is labelled road."""
    rng = np.random.default_rng(seed)
    probs, labels, wrong = {}, {}, {}
    for i in range(n):
        truth = np.zeros((60, 80), np.uint8)
        truth[:20] = 3
        for _ in range(2):
            y, x = int(rng.integers(24, 50)), int(rng.integers(2, 60))
            truth[y:y + int(rng.integers(6, 9)), x:x + int(rng.integers(8, 12))] = 1
        x = int(rng.integers(2, 76))
        truth[8:30, x:x + 2] = 2
        y, x = int(rng.integers(22, 50)), int(rng.integers(2, 74))
        truth[y:y + 8, x:x + 4] = 4
        p = np.full((K, 60, 80), 0.15 / (K - 1), np.float32)
        np.put_along_axis(p, truth[None].astype(np.intp), 0.85, axis=0)
        for _ in range(2):
            y, x = int(rng.integers(22, 52)), int(rng.integers(2, 70))
            h, w = int(rng.integers(5, 8)), int(rng.integers(5, 8))
            other = (truth[y, x] + 1 + int(rng.integers(K - 1))) % K
            p[:, y:y + h, x:x + w] = 0.4 / (K - 1)
            p[other, y:y + h, x:x + w] = 0.6
        p += rng.uniform(0, 1e-3, p.shape).astype(np.float32)  # no two images' regions alike
        p /= p.sum(0, keepdims=True)
        name = f"img{i:02d}"
        lab = truth.copy()
        if i % 4 == 0:  # the first car, whole, labelled road
            _, cc = cv2.connectedComponents((truth == 1).astype(np.uint8), connectivity=8)
            car = cc == 1
            lab[car] = 0
            wrong[name] = car
        probs[name], labels[name] = p, lab
    return probs, labels, wrong


def _score(probs, labels, **kw):
    samples = [SimpleNamespace(name=n) for n in probs]
    return score_label_issues(samples, lambda s: probs[s.name], lambda s: labels[s.name], K,
                              IssueOptions(min_pixels=12, **kw))


def test_the_learned_scores_put_real_label_errors_above_the_models_own_mistakes():
    probs, labels, wrong = _split(32)
    report = _score(probs, labels)
    fit = report.region_fit
    assert fit.used and fit.planted >= region_scorer.MIN_PLANTED and fit.heldout_ap > 0.5
    scores = {it.name: it.score("regions") for it in report.images}
    assert all(it.learned is not None for it in report.images)
    for it in report.images:  # the most probable region, or the image's diffuse doubt
        assert it.score("regions") == pytest.approx(1 - (1 - it.learned) * (1 - it.score("relative")))
        assert it.learned == max(r.probability for r in it.regions)
    names = sorted(scores)
    image_ap = average_precision(np.array([scores[n] for n in names]), np.array([n in wrong for n in names]))
    assert image_ap >= 0.9
    for it in report.images:  # regions come most probable first, each with its probability
        p = [r.probability for r in it.regions]
        assert p == sorted(p, reverse=True) and all(0.0 <= v <= 1.0 for v in p)
        if it.name in wrong:
            top = it.regions[0]
            car = wrong[it.name]
            assert (top.given, top.suggested) == (0, 1)
            assert pixel_iou(top, truth_regions(car, 1)[0]) >= 0.5


def test_no_image_is_scored_by_a_fit_that_saw_its_own_regions(monkeypatch):
    probs, labels, _ = _split(32, seed=1)
    seen = []
    real_fit = region_scorer.fit_scorer

    def spy(x, y, seed=0):
        seen.append({row.tobytes() for row in np.nan_to_num(x, nan=-1.0)})
        model = real_fit(x, y, seed)

        class Scored:
            def predict_proba(self, rows):
                for row in np.nan_to_num(rows, nan=-1.0):
                    assert row.tobytes() not in seen[-1]
                return model.predict_proba(rows)
        return Scored()

    monkeypatch.setattr(region_scorer, "fit_scorer", spy)
    report = _score(probs, labels)
    assert report.region_fit.used and len(seen) == region_scorer.FOLDS


def test_a_split_too_small_to_fit_keeps_the_uncertainty_ranking_and_says_why():
    probs, labels, _ = _split(6)
    report = _score(probs, labels)
    assert not report.region_fit.used and "at least 12" in report.region_fit.note
    assert all(it.learned is None for it in report.images)
    assert [it.score("regions") for it in report.images] == [it.score("relative") for it in report.images]
    assert all(r.probability is None for it in report.images for r in it.regions)


def test_the_learned_report_reads_back_with_its_probabilities_and_fit():
    probs, labels, _ = _split(32, seed=2)
    report = _score(probs, labels)
    assert report.region_fit.used
    back = IssueReport.from_dict(json.loads(json.dumps(report.to_dict(["road", "car", "pole", "sky", "person"],
                                                                      with_pixels=True))))
    assert back.region_fit == report.region_fit
    assert back.options.method == "regions" and back.options.region_threshold == IssueOptions().region_threshold
    a, b = report.by_name(), back.by_name()
    for n in a:
        assert b[n].learned == pytest.approx(a[n].learned)
        assert [r.probability for r in b[n].regions] == pytest.approx([r.probability for r in a[n].regions], abs=1e-4)
        assert all((x.stencil == y.stencil).all() for x, y in zip(a[n].regions, b[n].regions))


def test_the_collector_fits_nothing_below_the_planted_minimum(monkeypatch):
    probs, labels, _ = _split(16, seed=3)
    monkeypatch.setattr(region_scorer, "MIN_PLANTED", 10_000)
    col = RegionCollector(K, lambda shape: 12, 0.9)
    for n in probs:
        col.add(n, probs[n], labels[n])
    learned, fit = col.finish(np.full(K, 0.8), np.full(K, 0.7), np.full((K + 1, K), 0.2))
    assert learned == {} and not fit.used and "at least 10000" in fit.note
