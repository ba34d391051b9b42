"""Segmentation losses by name, all of which skip void pixels.

Every loss casts logits to float32 first, so a model running under bf16/fp16 autocast still gets a
full-precision loss (softmax and log of small numbers go wrong in bf16).

Why not plain ``nn.CrossEntropyLoss`` and SMP's ``FocalLoss``:
- ``nn.CrossEntropyLoss`` returns NaN for a batch whose pixels are all void (0 / 0), and one NaN
  poisons the epoch's mean loss. Here a batch with no valid pixels gives 0 (with zero gradient).
- SMP's ``FocalLoss`` in multiclass mode is a one-vs-rest *sigmoid* focal loss: per class it
  averages a binary focal term over the non-void pixels, then averages the classes. So at gamma=0
  it is a binary cross-entropy, not softmax cross-entropy, and it loops over classes. The focal
  loss here is the softmax one (Lin et al.): ``(1 - p_t)^gamma * CE``, averaged over non-void
  pixels, so gamma=0 gives exactly cross-entropy.
The Dice loss is SMP's multiclass ``DiceLoss`` (void masked out, sums over batch and pixels per
class, mean over all classes with a class absent from the batch's ground truth counted as 0),
computed from a boolean class mask: SMP builds an int64 [B,C,H*W] one-hot, permutes it and takes
an L1 norm, which cost 0.11-0.13 s per call (forward + backward) at 4x11x360x480 here, more than
OHEM-CE; DDRNet calls it twice a step (main and aux head). This gives the same value and gradient
(tests/core/test_losses.py checks both against SMP) in 0.03-0.05 s (benchmarks/bench_loss.py).

``class_weights`` (length C, e.g. from ``core.data.stats.class_weights``) apply to every loss that
is given them: weighted mean over pixels for CE and focal (as torch's ``weight=``), weighted mean
over classes for Dice. ``"wce"`` is CE that insists on weights.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from core.errors import ConfigError

FOCAL_GAMMA = 2.0
OHEM_THRESH = 0.7  # a pixel is "hard" while its true-class probability is below this
OHEM_MIN_KEPT = 1 / 16  # ...but never fewer than this fraction of the valid pixels


def _as_weights(class_weights, num_classes: int) -> torch.Tensor | None:
    """Check and convert user class weights to a float32 tensor [C] (None stays None)."""
    if class_weights is None:
        return None
    if isinstance(class_weights, torch.Tensor):
        w = class_weights.detach().to("cpu", torch.float32).reshape(-1)
    else:
        w = torch.as_tensor(np.asarray(class_weights, dtype=np.float32).reshape(-1))
    if w.numel() != num_classes:
        raise ConfigError(
            f"class_weights: expected {num_classes} weights (one per class), got {w.numel()}"
        )
    if not torch.isfinite(w).all() or (w < 0).any() or w.sum() <= 0:
        raise ConfigError(
            "class_weights: weights must be finite, non-negative and not all zero, "
            f"got {w.tolist()}"
        )
    return w


def _check_inputs(logits: torch.Tensor, target: torch.Tensor, num_classes: int) -> None:
    if logits.ndim != target.ndim + 1 or logits.shape[0] != target.shape[0] \
            or logits.shape[2:] != target.shape[1:]:
        raise ValueError(
            f"loss: logits {tuple(logits.shape)} and target {tuple(target.shape)} do not match "
            "(expected [B,C,H,W] and [B,H,W])"
        )
    if logits.shape[1] != num_classes:
        raise ValueError(f"loss: logits have {logits.shape[1]} channels, expected {num_classes}")


class _PixelLoss(nn.Module):
    """Shared base: per-pixel softmax CE (0 at void) and a void-safe (weighted) mean."""

    def __init__(self, num_classes: int, ignore_index: int, class_weights) -> None:
        super().__init__()
        self.num_classes = num_classes
        self.ignore_index = ignore_index
        w = _as_weights(class_weights, num_classes)
        self.register_buffer("weight", w if w is not None else torch.empty(0), persistent=False)

    @property
    def weighted(self) -> bool:
        return self.weight.numel() > 0

    def _pixel_ce(self, logits, target):
        _check_inputs(logits, target, self.num_classes)
        target = target.long()
        ce = F.cross_entropy(logits.float(), target, ignore_index=self.ignore_index,
                             reduction="none")
        return ce, target != self.ignore_index, target

    def _mean(self, per_pixel, valid, target):
        """Mean over valid pixels, weighted by the target class's weight like torch's ``weight=``;
        an all-void batch gives 0 instead of NaN."""
        if self.weighted:
            weight = self.weight.to(per_pixel.device)  # in case the loss was never moved
            w = weight[torch.where(valid, target, 0)] * valid
            return (per_pixel * w).sum() / w.sum().clamp_min(1e-12)
        return per_pixel.sum() / valid.sum().clamp_min(1)


class CrossEntropy(_PixelLoss):
    """Softmax cross-entropy over non-void pixels, optionally class-weighted."""

    def forward(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        ce, valid, target = self._pixel_ce(logits, target)
        return self._mean(ce, valid, target)


class FocalLoss(_PixelLoss):
    """Softmax focal loss ``(1 - p_t)^gamma * CE``; down-weights pixels already classified well."""

    def __init__(self, num_classes, ignore_index=255, class_weights=None, gamma=FOCAL_GAMMA):
        super().__init__(num_classes, ignore_index, class_weights)
        if gamma < 0:
            raise ConfigError(f"focal loss: gamma must be >= 0, got {gamma}")
        self.gamma = float(gamma)

    def forward(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        ce, valid, target = self._pixel_ce(logits, target)
        if self.gamma:
            p_t = torch.exp(-ce)  # probability of the true class (1 at void, where ce == 0)
            ce = (1.0 - p_t).clamp_min(0).pow(self.gamma) * ce
        return self._mean(ce, valid, target)


class OhemCE(_PixelLoss):
    """Online hard example mining CE (BiSeNet/DDRNet/PIDNet): average CE over the pixels whose
    true-class probability is below `thresh`, and at least the `min_kept` fraction of valid pixels
    with the highest loss. Easy road and sky pixels stop dominating the gradient, so thin and rare
    classes get more of it without hand-set class weights."""

    def __init__(self, num_classes, ignore_index=255, class_weights=None, thresh=OHEM_THRESH,
                 min_kept=OHEM_MIN_KEPT):
        super().__init__(num_classes, ignore_index, class_weights)
        if not 0.0 < thresh <= 1.0 or not 0.0 < min_kept <= 1.0:
            raise ConfigError(f"ohem: thresh and min_kept must be in (0, 1], got {thresh}, {min_kept}")
        self.thresh, self.min_kept = float(thresh), float(min_kept)

    def forward(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        ce, valid, target = self._pixel_ce(logits, target)
        hard = valid & (ce > -np.log(self.thresh))  # p_true < thresh  <=>  CE > -log(thresh)
        pick = self._keep_read if ce.is_cpu else self._keep_on_device
        hard = pick(ce, valid, hard)
        return self._mean(ce * hard, hard, target)

    def _keep_read(self, ce, valid, hard):
        """The kept pixels, deciding on host-read counts: on the CPU a read costs nothing and the
        top-k (17 ms at 4x240x320 here) runs only when too few pixels are hard."""
        n_valid = int(valid.sum())
        k = max(1, int(np.ceil(self.min_kept * n_valid)))
        if n_valid and int(hard.sum()) < k:  # too few hard pixels: keep the k with the highest loss
            kth = torch.topk(torch.where(valid, ce, -1.0).flatten(), k).values[-1]
            hard = valid & (ce >= kth)
        return hard

    def _keep_on_device(self, ce, valid, hard):
        """The same pixels with no host read (a GPU step then never waits for the host): the
        top-k is taken at the largest k any batch of this size can need, the k-th value picked
        by a device index, and the choice made with `torch.where`."""
        flat = torch.where(valid, ce, -1.0).flatten()
        k_max = max(1, int(np.ceil(self.min_kept * flat.numel())))
        count_dtype = torch.float32 if ce.device.type == "mps" else torch.float64
        k = torch.ceil(valid.sum().to(count_dtype) * self.min_kept).clamp_min(1).long()
        kth = torch.topk(flat, k_max).values.gather(0, (k - 1).clamp(max=k_max - 1).reshape(1))
        few = (hard.sum() < k) & valid.any()
        return torch.where(few, valid & (ce >= kth), hard)


class Dice(nn.Module):
    """Multiclass soft Dice loss (1 - Dice) as SMP's ``DiceLoss``, void pixels masked out; logits
    cast to float32. Per class c over the batch: 2 * sum(p_c at pixels of c) / (sum(p_c) + n_c)."""

    EPS = 1e-7  # SMP's clamp of the denominator

    def __init__(self, num_classes: int, ignore_index: int = 255, class_weights=None) -> None:
        super().__init__()
        self.num_classes = num_classes
        self.ignore_index = ignore_index
        w = _as_weights(class_weights, num_classes)
        self.register_buffer("weight", w if w is not None else torch.empty(0), persistent=False)

    def forward(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        _check_inputs(logits, target, self.num_classes)
        c = self.num_classes
        target = target.long()
        probs = torch.softmax(logits.float(), dim=1)
        valid = (target != self.ignore_index).unsqueeze(1)
        classes = torch.arange(c, device=target.device).view(1, c, 1, 1)
        onehot = (target.unsqueeze(1) == classes) & valid  # all False at void, whatever its id
        inter = (probs * onehot).sum(dim=(0, 2, 3))
        count = onehot.sum(dim=(0, 2, 3)).to(probs.dtype)
        prob_sum = (probs * valid).sum(dim=(0, 2, 3))
        dice = 2 * inter / (prob_sum + count).clamp_min(2 * self.EPS)
        loss = (1.0 - dice) * (count > 0).to(dice.dtype)
        if self.weight.numel():
            weight = self.weight.to(loss.device)
            return (loss * weight).sum() / weight.sum()
        return loss.mean()


class SumLoss(nn.Module):
    """Sum of losses (``ce+dice``): CE gives per-pixel gradients, Dice counters imbalance."""

    def __init__(self, losses: Sequence[nn.Module]) -> None:
        super().__init__()
        self.losses = nn.ModuleList(losses)

    def forward(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return sum(loss(logits, target) for loss in self.losses)


def boundary_target(target: torch.Tensor, ignore_index: int = 255, kernel: int = 3) -> torch.Tensor:
    """Float [B,1,H,W]: 1 where a pixel's kernel x kernel neighbourhood holds a class other than
    its own, void neighbours not counting (a max and a min pool over the labels, void set below
    every class for the max and above every class for the min). Void pixels get 0; the loss
    masks them."""
    t = target.long()
    valid = t != ignore_index
    hi = torch.where(valid, t, -1).unsqueeze(1).float()
    lo = torch.where(valid, t, 1 << 20).unsqueeze(1).float()  # above any class id, exact in fp32
    pad = kernel // 2
    edge = F.max_pool2d(hi, kernel, 1, pad) != -F.max_pool2d(-lo, kernel, 1, pad)
    return (edge & valid.unsqueeze(1)).float()


class BoundaryLoss(nn.Module):
    """STDC's detail loss for a one-channel boundary head: binary cross-entropy plus binary Dice
    (smooth 1) against ``boundary_target(target)``, both over non-void pixels. Boundary pixels are
    a few percent of an image; the Dice term keeps the head from predicting "no edge" everywhere."""

    def __init__(self, ignore_index: int = 255, kernel: int = 3) -> None:
        super().__init__()
        self.ignore_index = ignore_index
        self.kernel = kernel

    def forward(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        if logits.dim() != 4 or logits.shape[1] != 1:
            raise ValueError(f"boundary loss: logits must be [B,1,H,W], got {list(logits.shape)}")
        logits = logits.float()
        if logits.shape[-2:] != target.shape[-2:]:
            logits = F.interpolate(logits, size=target.shape[-2:], mode="bilinear",
                                   align_corners=False)
        edge = boundary_target(target, self.ignore_index, self.kernel)
        valid = (target != self.ignore_index).unsqueeze(1).to(logits.dtype)
        n = valid.sum()
        if n == 0:
            return logits.sum() * 0.0
        bce = (F.binary_cross_entropy_with_logits(logits, edge, reduction="none") * valid).sum() / n
        prob = torch.sigmoid(logits) * valid
        dice = (2 * (prob * edge).sum() + 1) / (prob.sum() + edge.sum() + 1)
        return bce + (1 - dice)


class AuxLoss(nn.Module):
    """Deep supervision for models with auxiliary heads (DDRNet, BiSeNetV2, PIDNet): the model
    returns ``(main, [aux, ...])`` in training mode and only ``main`` in eval mode, so this takes
    either and returns ``base(main) + sum_i weights[i] * base(aux_i)``. Aux logits at another size
    than the target are resized bilinearly first. With a plain tensor it is just ``base`` (the
    validation loss stays comparable across architectures). A model with a boundary head returns
    ``(main, [aux, ...], boundary)``, which adds ``boundary_weight * BoundaryLoss(boundary)``."""

    def __init__(self, base: nn.Module, weights: Sequence[float], boundary_weight: float = 0.0,
                 ignore_index: int = 255) -> None:
        super().__init__()
        self.base = base
        self.weights = tuple(float(w) for w in weights)
        self.boundary_weight = float(boundary_weight)
        if any(not np.isfinite(w) or w < 0 for w in (*self.weights, self.boundary_weight)):
            raise ConfigError(f"aux loss weights must be finite and >= 0, got "
                              f"{list(weights)} and boundary {boundary_weight}")
        self.boundary = BoundaryLoss(ignore_index) if self.boundary_weight else None

    @classmethod
    def wrap(cls, base: nn.Module, model: nn.Module) -> nn.Module:
        """``base`` wrapped for `model`'s heads (a `SegmentationNet`: ``aux_weights``,
        ``boundary_weight``), or ``base`` itself for a single-output model."""
        if model.aux_weights or model.boundary_weight:
            return cls(base, model.aux_weights, model.boundary_weight)
        return base

    def forward(self, output, target: torch.Tensor) -> torch.Tensor:
        if isinstance(output, torch.Tensor):
            return self.base(output, target)
        main, aux, *boundary = output
        if bool(boundary) != (self.boundary is not None):
            raise ValueError("aux loss: the model's boundary output and the boundary weight "
                             "must come together")
        if len(aux) != len(self.weights):
            raise ValueError(f"aux loss: model returned {len(aux)} auxiliary outputs, "
                             f"but {len(self.weights)} weights were given")
        loss = self.base(main, target)
        for w, logits in zip(self.weights, aux):
            if logits.shape[-2:] != target.shape[-2:]:
                logits = F.interpolate(logits.float(), size=target.shape[-2:], mode="bilinear",
                                       align_corners=False)
            loss = loss + w * self.base(logits, target)
        if boundary:
            loss = loss + self.boundary_weight * self.boundary(boundary[0], target)
        return loss


@dataclass(frozen=True)
class LossSpec:
    """A loss by name: how to build it, a help line, and whether it insists on class weights."""

    name: str
    build: Callable[[int, int, object], nn.Module]  # (num_classes, ignore_index, weights)
    help: str
    needs_weights: bool = False


_LOSSES: dict[str, LossSpec] = {}


def register_loss(name: str, help: str, needs_weights: bool = False):
    """Decorator: `build(num_classes, ignore_index, class_weights) -> nn.Module` under `name`."""
    def deco(build):
        _LOSSES[name] = LossSpec(name, build, help, needs_weights)
        return build
    return deco


def loss_specs() -> dict[str, LossSpec]:
    return dict(_LOSSES)


def loss_needs_weights(name: str) -> bool:
    """True for a loss that is meaningless without class weights (class-weighted CE)."""
    spec = _LOSSES.get(str(name).strip().lower())
    return bool(spec and spec.needs_weights)


register_loss("ce", "cross-entropy")(CrossEntropy)
register_loss("wce", "class-weighted cross-entropy (a weighting is required)",
              needs_weights=True)(CrossEntropy)
register_loss("dice", "soft Dice, mean over classes")(Dice)
register_loss("focal", f"focal loss (gamma {FOCAL_GAMMA:g})")(FocalLoss)


@register_loss("ce+dice", "cross-entropy + Dice")
def _ce_dice(num_classes, ignore_index, class_weights):
    return SumLoss([CrossEntropy(num_classes, ignore_index, class_weights),
                    Dice(num_classes, ignore_index, class_weights)])


register_loss("ohem", "online hard example mining cross-entropy")(OhemCE)


@register_loss("ohem+dice", "OHEM cross-entropy + Dice")
def _ohem_dice(num_classes, ignore_index, class_weights):
    return SumLoss([OhemCE(num_classes, ignore_index, class_weights),
                    Dice(num_classes, ignore_index, class_weights)])


LOSSES = tuple(_LOSSES)


def create_loss(name: str, num_classes: int, ignore_index: int = 255,
                class_weights: torch.Tensor | np.ndarray | Sequence[float] | None = None
                ) -> nn.Module:
    """Build a loss by name (see ``LOSSES``): ``loss(logits [B,C,H,W], target int [B,H,W])``
    returns a float32 scalar. ``"wce"`` raises ConfigError without ``class_weights``."""
    key = str(name).strip().lower()
    if key not in _LOSSES:
        raise ConfigError(f"loss: unknown loss {name!r}; choose one of {', '.join(_LOSSES)}")
    if num_classes < 2:
        raise ConfigError(f"loss: num_classes must be >= 2, got {num_classes}")
    if _LOSSES[key].needs_weights and class_weights is None:
        raise ConfigError(f"loss {key!r} ({_LOSSES[key].help}) needs class_weights; "
                          "set class_weights to inverse, median, enet or sqrt-median, or use loss 'ce'")
    return _LOSSES[key].build(num_classes, ignore_index, class_weights)
