"""Suspect regions: components with their majority classes and box, found again after a
rescoring, and accepted as one undoable edit of just their pixels."""
import numpy as np

from core.classes import IGNORE_INDEX
from core.data.source import open_dataset
from core.labeling.issue_regions import IssueRegion, accept_region, find_regions, region_at, same_region
from core.labeling.session import LabelSession


def test_regions_carry_majority_classes_size_and_box():
    suspect = np.zeros((10, 12), bool)
    suspect[1:4, 2:6] = True  # 12 px
    suspect[7:9, 9:10] = True  # 2 px: below min_pixels
    labels = np.zeros((10, 12), np.uint8)
    labels[1, 2:6] = 3  # 4 of 12 given 3, the rest 0
    pred = np.full((10, 12), 8, np.uint8)
    pred[1:4, 2] = 1  # 3 of 12 predicted 1, the rest 8
    regions, index = find_regions(suspect, labels, pred, min_pixels=3)
    assert len(regions) == 1
    r = regions[0]
    assert (r.given, r.suggested, r.pixels, r.bbox) == (0, 8, 12, (2, 1, 6, 4))
    assert (index == 0).sum() == 12 and (index[7:9, 9] == -1).all()


def test_accepting_an_unlabelled_region_labels_it(synth_data):

    src = open_dataset(synth_data)
    session = LabelSession(src, src.samples("train")[0])
    session.replace_mask(np.where(np.arange(session.mask.shape[1])[None] < 6, IGNORE_INDEX,
                                  session.mask).astype(np.uint8), "void strip")
    unlabelled = session.mask == IGNORE_INDEX
    [region], _ = find_regions(unlabelled, session.mask, np.full(session.mask.shape, 4, np.uint8))
    assert region.given == IGNORE_INDEX
    accept_region(session, region)
    assert (session.mask[unlabelled] == 4).all()


def test_same_region_by_digest_or_overlapping_box_with_same_classes():
    a = IssueRegion(0, 2, 16, (2, 2, 6, 6), "x")
    assert same_region(a, IssueRegion(0, 2, 15, (3, 2, 7, 6), "y"))  # IoU 12/20 = 0.6
    assert not same_region(a, IssueRegion(1, 2, 16, (2, 2, 6, 6), "y"))
    assert not same_region(a, IssueRegion(0, 2, 16, (5, 5, 9, 9), "y"))


def test_accept_region_is_one_undoable_edit_of_just_the_region(synth_data):

    src = open_dataset(synth_data)
    session = LabelSession(src, src.samples("train")[0])
    before = session.mask.copy()
    suspect = np.zeros(before.shape, bool)
    suspect[10:14, 20:25] = True
    pred = np.where(before == 3, 4, 3).astype(np.uint8)  # never the given class
    labels = np.where(before == IGNORE_INDEX, 0, before).astype(np.uint8)
    [region], _ = find_regions(suspect, labels, pred)
    assert region_at([region], 22, 11) is region and region_at([region], 0, 0) is None
    rect = accept_region(session, region)
    assert (session.mask[10:14, 20:25] == region.suggested).all()
    outside = ~suspect
    assert np.array_equal(session.mask[outside], before[outside])
    assert rect is not None and rect.x0 >= 20 and rect.x1 <= 25
    assert len(session.history) == 1
    session.undo()
    assert np.array_equal(session.mask, before)
