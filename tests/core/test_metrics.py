"""Confusion matrix and scores: hand-written matrices, absent classes, void, torchmetrics."""
import json
import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from core.metrics import (ConfusionMatrix, compute_scores, confusion_matrices, iou_per_class,
                          miou_per_image)

NAN = float("nan")


def pixels_from_matrix(m, void=0, seed=0):
    """target/pred pixel lists realising count matrix ``m``, plus ``void`` void pixels."""
    t, p = [], []
    for i, row in enumerate(np.asarray(m)):
        for j, n in enumerate(row):
            t += [i] * n
            p += [j] * n
    rng = np.random.default_rng(seed)
    t += [255] * void
    p += list(rng.integers(0, len(m), void))
    order = rng.permutation(len(t))
    return np.array(p, dtype=np.int64)[order], np.array(t, dtype=np.int64)[order]


def test_hand_computed_2x3_image():
    target = torch.tensor([[0, 0, 1], [2, 255, 1]])
    pred = torch.tensor([[0, 1, 1], [2, 0, 0]])
    cm = ConfusionMatrix(3)
    cm.update(pred, target)
    expected = np.array([[1, 1, 0],
                         [1, 1, 0],
                         [0, 0, 1]])
    np.testing.assert_array_equal(cm.matrix, expected)
    assert cm.matrix.dtype == np.int64
    s = compute_scores(cm.matrix)
    np.testing.assert_allclose(s.iou, [1 / 3, 1 / 3, 1.0])
    assert s.miou == pytest.approx(5 / 9)
    assert s.pixel_acc == pytest.approx(3 / 5)
    np.testing.assert_allclose(s.class_acc, [0.5, 0.5, 1.0])
    assert s.mean_class_acc == pytest.approx(2 / 3)
    np.testing.assert_allclose(s.dice, [0.5, 0.5, 1.0])


# class 2 absent everywhere, class 3 only predicted, class 4 only in ground truth
ABSENT = np.array([[5, 1, 0, 2, 0],
                   [2, 3, 0, 0, 0],
                   [0, 0, 0, 0, 0],
                   [0, 0, 0, 0, 0],
                   [1, 0, 0, 0, 0]])


def test_absent_classes():
    s = compute_scores(ABSENT)
    np.testing.assert_allclose(s.iou, [5 / 11, 0.5, NAN, 0.0, 0.0])
    assert s.miou == pytest.approx((5 / 11 + 0.5 + 0 + 0) / 4)  # class 2 left out, 3 and 4 in
    assert s.pixel_acc == pytest.approx(8 / 14)
    np.testing.assert_allclose(s.class_acc, [5 / 8, 3 / 5, NAN, NAN, 0.0])
    assert s.mean_class_acc == pytest.approx((5 / 8 + 3 / 5 + 0) / 3)  # classes in GT only
    np.testing.assert_allclose(s.dice, [10 / 16, 6 / 9, NAN, 0.0, 0.0])
    d = s.to_dict(["road", "car", "sky", "sign", "bike"])
    assert d["iou"]["sky"] is None and d["dice"]["sky"] is None and d["iou"]["sign"] == 0.0
    assert d["miou"] == pytest.approx(s.miou)
    json.dumps(d, allow_nan=False)  # JSON-safe


def test_empty_matrix_scores_are_undefined():
    s = compute_scores(np.zeros((3, 3), dtype=np.int64))
    assert math.isnan(s.miou) and math.isnan(s.pixel_acc) and math.isnan(s.mean_class_acc)
    assert s.to_dict(["a", "b", "c"])["miou"] is None
    assert ConfusionMatrix(3).matrix.shape == (3, 3)
    with pytest.raises(ValueError, match="class names"):
        s.to_dict(["a"])


def test_matrix_from_pixels_with_void():
    p, t = pixels_from_matrix(ABSENT, void=20)
    cm = ConfusionMatrix(5)
    cm.update(p.reshape(2, -1), t.reshape(2, -1))  # numpy, any shape
    np.testing.assert_array_equal(cm.matrix, ABSENT)


def test_void_pixels_skipped_whatever_the_prediction():
    target = torch.randint(0, 4, (2, 16, 16))
    target[:, :4] = 255
    pred = torch.randint(0, 4, (2, 16, 16))
    a, b = ConfusionMatrix(4), ConfusionMatrix(4)
    a.update(pred, target)
    pred2 = pred.clone()
    pred2[:, :4] = (pred2[:, :4] + 1) % 4
    b.update(pred2, target)
    np.testing.assert_array_equal(a.matrix, b.matrix)
    assert a.matrix.sum() == 2 * 12 * 16


def test_other_ignore_indices():
    target = np.array([0, 1, 2, 0, 1])
    pred = np.array([0, 2, 2, 1, 1])
    cm = ConfusionMatrix(3, ignore_index=0)  # class 0 treated as void
    cm.update(pred, target)
    np.testing.assert_array_equal(cm.matrix, [[0, 0, 0], [0, 1, 1], [0, 0, 1]])
    cm = ConfusionMatrix(3, ignore_index=None)
    cm.update(pred, target)
    np.testing.assert_array_equal(cm.matrix, [[1, 1, 0], [0, 1, 1], [0, 0, 1]])


def test_dtypes_devices_and_layouts_agree():
    g = torch.Generator().manual_seed(1)
    target = torch.randint(0, 6, (3, 20, 24), generator=g)
    target[0, :5] = 255
    pred = torch.randint(0, 6, (3, 20, 24), generator=g)
    ref = ConfusionMatrix(6)
    ref.update(pred, target)
    for p, t in [(pred.to(torch.uint8), target.to(torch.uint8)),
                 (pred.numpy(), target.numpy().astype(np.uint8)),
                 (pred.numpy().astype(np.uint16), target.numpy().astype(np.int32)),
                 (pred.transpose(1, 2), target.transpose(1, 2))]:
        cm = ConfusionMatrix(6)
        cm.update(p, t)
        np.testing.assert_array_equal(cm.matrix, ref.matrix)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_counts_stay_on_device():
    target = torch.randint(0, 5, (2, 32, 32), device="cuda")
    pred = torch.randint(0, 5, (2, 32, 32), device="cuda")
    cm = ConfusionMatrix(5)
    cm.update(pred, target)
    cm.update(pred, target.cpu().numpy())
    assert cm._sum.device.type == "cuda"
    ref = ConfusionMatrix(5)
    ref.update(pred.cpu(), target.cpu())
    np.testing.assert_array_equal(cm.matrix, 2 * ref.matrix)


def test_accumulate_merge_add_reset():
    p, t = pixels_from_matrix(ABSENT, void=7, seed=3)
    whole = ConfusionMatrix(5)
    whole.update(p, t)
    a, b = ConfusionMatrix(5), ConfusionMatrix(5)
    a.update(p[:10], t[:10])
    a.update(p[10:15], t[10:15])
    b.update(torch.from_numpy(p[15:]), torch.from_numpy(t[15:]))
    np.testing.assert_array_equal((a + b).matrix, whole.matrix)
    a += b
    np.testing.assert_array_equal(a.matrix, whole.matrix)
    a.merge(ConfusionMatrix(5))  # merging an empty one changes nothing
    np.testing.assert_array_equal(a.matrix, ABSENT)
    a.reset()
    assert a.matrix.sum() == 0
    with pytest.raises(ValueError, match="different"):
        a.merge(ConfusionMatrix(4))


def test_bad_labels_raise():
    cm = ConfusionMatrix(5)
    with pytest.raises(ValueError, match="outside 0..4"):
        cm.update(np.array([0, 1]), np.array([0, 7]))       # target class 7 of 5
    with pytest.raises(ValueError, match="outside 0..4"):
        cm.update(np.array([0, 5]), np.array([0, 1]))       # predicted class 5 of 5
    with pytest.raises(ValueError, match="beyond"):
        cm.update(torch.tensor([0, 1]), torch.tensor([0, 300]))
    with pytest.raises(ValueError, match="negative"):
        cm.update(torch.tensor([0, 1]), torch.tensor([0, -1]))
    with pytest.raises(ValueError, match="shape"):
        cm.update(np.zeros((2, 3), np.uint8), np.zeros((3, 2), np.uint8))
    with pytest.raises(TypeError, match="argmax"):
        cm.update(torch.zeros(2, 3), torch.zeros(2, 3, dtype=torch.long))
    assert cm.matrix.sum() == 0  # failed updates added nothing


def test_per_image_matrices_and_miou():
    g = torch.Generator().manual_seed(2)
    target = torch.randint(0, 4, (3, 8, 8), generator=g)
    target[2] = 255  # an all-void image
    pred = torch.randint(0, 4, (3, 8, 8), generator=g)
    per = confusion_matrices(pred, target, 4)
    assert per.shape == (3, 4, 4) and per.dtype == torch.int64
    for i in range(3):
        one = ConfusionMatrix(4)
        one.update(pred[i], target[i])
        np.testing.assert_array_equal(per[i].numpy(), one.matrix)
    miou = miou_per_image(per.numpy())
    assert miou[0] == pytest.approx(compute_scores(per[0]).miou) and math.isnan(miou[2])
    np.testing.assert_allclose(iou_per_class(per.numpy())[1], compute_scores(per[1]).iou)
    assert confusion_matrices(pred[:0], target[:0], 4).shape == (0, 4, 4)


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 6), st.lists(st.tuples(st.integers(0, 7), st.integers(0, 5)), max_size=60))
def test_matches_naive_count(num_classes, pairs):
    t = np.array([a if a < num_classes else 255 for a, _ in pairs], dtype=np.int64)
    p = np.array([b % num_classes for _, b in pairs], dtype=np.int64)
    naive = np.zeros((num_classes, num_classes), dtype=np.int64)
    for a, b in zip(t, p):
        if a != 255:
            naive[a, b] += 1
    cm = ConfusionMatrix(num_classes)
    cm.update(p, t)
    np.testing.assert_array_equal(cm.matrix, naive)


def test_agrees_with_torchmetrics_when_all_classes_present():
    from torchmetrics.classification import MulticlassAccuracy, MulticlassJaccardIndex

    c = 6
    tm = {"iou": MulticlassJaccardIndex(c, average=None, ignore_index=255),
          "miou": MulticlassJaccardIndex(c, average="macro", ignore_index=255),
          "pixel_acc": MulticlassAccuracy(c, average="micro", ignore_index=255),
          "mean_class_acc": MulticlassAccuracy(c, average="macro", ignore_index=255)}
    cm = ConfusionMatrix(c)
    g = torch.Generator().manual_seed(0)
    for _ in range(3):  # accumulate over several batches
        target = torch.randint(0, c, (2, 24, 32), generator=g)
        target[torch.rand(2, 24, 32, generator=g) < 0.1] = 255
        pred = torch.where(torch.rand(2, 24, 32, generator=g) < 0.6, target.clamp(max=c - 1),
                           torch.randint(0, c, (2, 24, 32), generator=g))
        cm.update(pred, target)
        for metric in tm.values():
            metric.update(pred, target)
    s = compute_scores(cm.matrix)
    assert (cm.matrix.sum(0) > 0).all() and (cm.matrix.sum(1) > 0).all()
    np.testing.assert_allclose(s.iou, tm["iou"].compute().numpy(), rtol=1e-5)
    for key in ("miou", "pixel_acc", "mean_class_acc"):
        assert getattr(s, key) == pytest.approx(tm[key].compute().item(), rel=1e-5), key


def test_torchmetrics_absent_class_differences():
    """torchmetrics scores a class absent from GT and prediction as IoU 0 (we say NaN), but its
    macro mIoU leaves such classes out just as ours does."""
    from torchmetrics.classification import MulticlassJaccardIndex

    p, t = pixels_from_matrix(ABSENT, void=5)
    p, t = torch.from_numpy(p), torch.from_numpy(t)
    s = compute_scores(ABSENT)
    per = MulticlassJaccardIndex(5, average=None, ignore_index=255)(p, t).numpy()
    present = ~np.isnan(s.iou)
    np.testing.assert_allclose(s.iou[present], per[present], rtol=1e-6)
    assert per[2] == 0.0 and math.isnan(s.iou[2])
    macro = MulticlassJaccardIndex(5, average="macro", ignore_index=255)(p, t).item()
    assert s.miou == pytest.approx(macro, rel=1e-6)
