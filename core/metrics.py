"""Confusion matrix over a whole split, and the scores read from it (IoU, mIoU, accuracy, Dice).

Convention (docs/architecture.md, "Conventions"): one matrix accumulated over every pixel of a split, void pixels skipped;
IoU per class = TP / (TP + FP + FN); mIoU = mean IoU over the classes that occur in the ground
truth *or* the prediction (a class absent from both has IoU NaN and is left out). Averaging
per-image IoUs instead gives a different, noisier number, so per-image scores are only for
ranking images.

Counting is one ``torch.bincount`` over ``target * K + pred`` with ``K = max(C, ignore + 1)``
(256 for the usual 255 void): void pixels land in row ``ignore`` and out-of-range labels outside
the ``C x C`` block, so no boolean masking is needed (masking is the slow part: over 10x slower on
CPU). The block is cut out afterwards and checked: any pixel that is neither counted nor void
raises. The sum stays on the tensors' device until ``.matrix`` is read.
"""
from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from collections.abc import Sequence

import numpy as np
import torch

_INT_DTYPES = (np.uint8, np.int8, np.int16, np.int32, np.int64)


def _as_labels(x, what: str) -> torch.Tensor:
    """Integer tensor view of a torch tensor or numpy array of class ids."""
    if isinstance(x, np.ndarray):
        if not (np.issubdtype(x.dtype, np.integer) or x.dtype == np.bool_):
            raise TypeError(f"confusion matrix: {what} must hold integer class ids, got {x.dtype}")
        if x.dtype.type not in _INT_DTYPES:  # bool, uint16/32/64: types torch does less with
            x = x.astype(np.int64)
        x = torch.from_numpy(x)
    elif not isinstance(x, torch.Tensor):
        raise TypeError(f"confusion matrix: {what} must be a torch tensor or numpy array, "
                        f"got {type(x).__name__}")
    if x.is_floating_point() or x.is_complex():
        raise TypeError(f"confusion matrix: {what} must hold integer class ids, got {x.dtype} "
                        "(for logits pass logits.argmax(1))")
    return x


def confusion_matrices(pred, target, num_classes: int, ignore_index: int | None = 255,
                       per_image: bool = True) -> torch.Tensor:
    """Count (target, pred) pairs: int64 ``[B, C, C]`` for a batch ``[B, ...]`` when ``per_image``,
    else ``[C, C]`` over all pixels. Stays on the inputs' device (numpy input counts on CPU)."""
    p, t = _as_labels(pred, "pred"), _as_labels(target, "target")
    if p.shape != t.shape:
        raise ValueError(f"confusion matrix: pred {tuple(p.shape)} and target "
                         f"{tuple(t.shape)} differ in shape")
    if p.device != t.device:  # e.g. a CUDA prediction against a numpy mask: count on the GPU
        dev = t.device if t.device.type != "cpu" else p.device
        p, t = p.to(dev), t.to(dev)
    c = num_classes
    k = max(c, (ignore_index + 1) if ignore_index is not None else 0)
    batch = p.shape[0] if per_image and p.ndim > 0 else 1
    if batch == 0:
        return torch.zeros((0, c, c), dtype=torch.int64, device=p.device)
    n = p.numel()
    wide = batch * k * k >= 2 ** 31
    dt = torch.int64 if wide else torch.int32
    # in place on one fresh copy: fewer large allocations, and same-dtype in-place ops are the
    # fast ones (int64 += into int32 is several times slower)
    idx = t.reshape(batch, -1).to(dt, copy=True)
    idx.mul_(k).add_(p.reshape(batch, -1).to(dt))
    if batch > 1:
        idx += (torch.arange(batch, device=idx.device, dtype=dt) * (k * k)).unsqueeze(1)
    try:
        counts = torch.bincount(idx.reshape(-1), minlength=batch * k * k)
    except RuntimeError as err:  # bincount refuses negative values
        raise ValueError(f"confusion matrix: negative labels in pred or target ({err})") from err
    if counts.numel() != batch * k * k:
        raise ValueError(f"confusion matrix: target labels beyond {k - 1} found "
                         f"(classes are 0..{c - 1}, void is {ignore_index})")
    full = counts.view(batch, k, k)
    block = full[:, :c, :c]
    void = 0
    if ignore_index is not None:
        void = full[:, ignore_index].sum()
        if ignore_index < c:
            block = block.clone()
            block[:, ignore_index] = 0
    bad = n - int(block.sum() + void)  # the one host sync besides bincount's own
    if bad:
        raise ValueError(f"confusion matrix: {bad} pixels have labels outside 0..{c - 1} that "
                         f"are not void ({ignore_index}) in pred or target")
    return (block if per_image else block[0]).contiguous()  # small copy; frees the K*K bins


class ConfusionMatrix:
    """Accumulates a ``[C, C]`` confusion matrix (rows = ground truth, cols = prediction) over
    many batches; void pixels (``target == ignore_index``) are skipped."""

    def __init__(self, num_classes: int, ignore_index: int | None = 255) -> None:
        if num_classes < 1:
            raise ValueError(f"confusion matrix: num_classes must be >= 1, got {num_classes}")
        if ignore_index is not None and ignore_index < 0:
            raise ValueError(f"confusion matrix: ignore_index must be >= 0 or None, "
                             f"got {ignore_index}")
        self.num_classes = int(num_classes)
        self.ignore_index = ignore_index
        self._sum: torch.Tensor | None = None  # int64 [C, C] on the last update's device

    def update(self, pred, target) -> None:
        """Add one batch: integer class ids of any (equal) shape, torch (CPU/CUDA) or numpy."""
        counts = confusion_matrices(pred, target, self.num_classes, self.ignore_index,
                                    per_image=False)
        self._add(counts)

    def _add(self, counts: torch.Tensor) -> None:
        if self._sum is None:
            self._sum = counts.clone()
        else:
            if self._sum.device != counts.device:
                self._sum = self._sum.to(counts.device)
            self._sum += counts

    @property
    def matrix(self) -> np.ndarray:
        """The accumulated counts as an int64 numpy array ``[C, C]`` (a copy)."""
        if self._sum is None:
            return np.zeros((self.num_classes, self.num_classes), dtype=np.int64)
        return self._sum.cpu().numpy().astype(np.int64, copy=True)

    def reset(self) -> None:
        self._sum = None

    def merge(self, other: ConfusionMatrix) -> ConfusionMatrix:
        """Add another matrix's counts (e.g. from a second worker or split part) into this one."""
        if not isinstance(other, ConfusionMatrix):
            raise TypeError(f"confusion matrix: cannot merge a {type(other).__name__}")
        if (other.num_classes, other.ignore_index) != (self.num_classes, self.ignore_index):
            raise ValueError("confusion matrix: cannot merge matrices with different "
                             "num_classes or ignore_index")
        if other._sum is not None:
            self._add(other._sum.to(self._sum.device) if self._sum is not None else other._sum)
        return self

    __iadd__ = merge

    def __add__(self, other: ConfusionMatrix) -> ConfusionMatrix:
        out = ConfusionMatrix(self.num_classes, self.ignore_index)
        return out.merge(self).merge(other)

    def scores(self) -> Scores:
        return compute_scores(self.matrix)

    def __repr__(self) -> str:
        total = 0 if self._sum is None else int(self._sum.sum())
        return f"ConfusionMatrix(num_classes={self.num_classes}, pixels={total})"


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """num / den with NaN where den == 0 (the class is absent, so the score is undefined)."""
    num, den = np.asarray(num, dtype=np.float64), np.asarray(den, dtype=np.float64)
    out = np.full(np.broadcast(num, den).shape, np.nan)
    np.divide(num, den, out=out, where=den > 0)
    return out


def _nanmean(x: np.ndarray, axis=-1):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN rows give NaN, on purpose
        return np.nanmean(x, axis=axis)


def iou_per_class(matrix) -> np.ndarray:
    """IoU per class for ``[..., C, C]`` matrices; NaN where a class is in neither GT nor pred."""
    m = np.asarray(matrix, dtype=np.float64)
    tp = np.diagonal(m, axis1=-2, axis2=-1)
    return _ratio(tp, m.sum(-1) + m.sum(-2) - tp)


def miou_per_image(matrices) -> np.ndarray:
    """mIoU of each ``[C, C]`` matrix in ``[N, C, C]`` (NaN for an all-void image). For ranking
    images only; the split's mIoU comes from the summed matrix."""
    return _nanmean(iou_per_class(matrices), axis=-1)


@dataclass
class Scores:
    """Scores from one confusion matrix. Per-class arrays hold NaN where undefined."""

    iou: np.ndarray             # [C] TP / (TP + FP + FN); NaN if absent from GT and prediction
    miou: float                 # mean of iou over classes present in GT or prediction
    pixel_acc: float            # correct / all non-void pixels
    mean_class_acc: float       # mean recall over classes present in GT
    dice: np.ndarray            # [C] 2TP / (2TP + FP + FN); NaN where iou is NaN
    class_acc: np.ndarray = field(default_factory=lambda: np.zeros(0))  # [C] recall TP / GT

    def to_dict(self, class_names: Sequence[str] | None = None) -> dict:
        """JSON-safe dict (NaN -> None); per-class values keyed by class name."""
        names = list(class_names) if class_names is not None else [str(i) for i in
                                                                     range(len(self.iou))]
        if len(names) != len(self.iou):
            raise ValueError(f"scores: {len(names)} class names for {len(self.iou)} classes")

        def num(v) -> float | None:
            v = float(v)
            return None if math.isnan(v) else v

        return {
            "miou": num(self.miou), "pixel_acc": num(self.pixel_acc),
            "mean_class_acc": num(self.mean_class_acc),
            "iou": {n: num(v) for n, v in zip(names, self.iou)},
            "dice": {n: num(v) for n, v in zip(names, self.dice)},
            "class_acc": {n: num(v) for n, v in zip(names, self.class_acc)},
        }


def compute_scores(matrix) -> Scores:
    """Scores from a ``[C, C]`` count matrix (rows GT, cols prediction; numpy or torch)."""
    if isinstance(matrix, torch.Tensor):
        matrix = matrix.detach().cpu().numpy()
    m = np.asarray(matrix, dtype=np.float64)
    if m.ndim != 2 or m.shape[0] != m.shape[1]:
        raise ValueError(f"scores: expected a square [C, C] matrix, got shape {m.shape}")
    tp, gt, pr = np.diag(m), m.sum(1), m.sum(0)
    iou = _ratio(tp, gt + pr - tp)
    class_acc = _ratio(tp, gt)
    return Scores(
        iou=iou,
        miou=float(_nanmean(iou)),
        pixel_acc=float(_ratio(tp.sum(), m.sum())),
        mean_class_acc=float(_nanmean(class_acc)),
        dice=_ratio(2 * tp, gt + pr),
        class_acc=class_acc,
    )
