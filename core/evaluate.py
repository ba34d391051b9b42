"""Prediction and evaluation at each mask's full resolution.

A model that ran at another size has its logits resized back to the mask's size before the argmax,
so the number `roadseg eval` prints is the number the Trainer wrote into `summary.json`: both go
through `evaluate_model`.
"""
from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from core.classes import IGNORE_INDEX, ClassSchema
from core.config import TrainConfig
from core.data.model_input import input_batch
from core.data.source import DataSource
from core.device import autocast_dtype, resolve_device, resolve_precision, use_channels_last
from core.engine.checkpoint import load_checkpoint
from core.models.configured import build_from_config
from core.errors import CheckpointError, ConfigError
from core.metrics import ConfusionMatrix, Scores, compute_scores
from core.tta import TTAOptions, tta_logits


@dataclass
class Prediction:
    mask: np.ndarray  # HxW uint8 train ids at the image's own size
    entropy: np.ndarray  # HxW float32, softmax entropy in nats
    probs: np.ndarray | None = None  # CxHxW float32 when asked for


@dataclass
class EvalResult:
    class_names: list[str]
    matrix: np.ndarray
    scores: Scores
    names: list[str] = field(default_factory=list)
    per_image_matrices: np.ndarray | None = None
    per_image_miou: np.ndarray | None = None
    loss: float = float("nan")
    cancelled: bool = False
    loss_pixels: int = 0  # the non-void pixels `loss` averages over (to combine shards exactly)
    kept: list = field(default_factory=list)  # (image, predicted mask, true mask) of the first `keep` images

    def to_dict(self) -> dict:
        d = {"split_images": len(self.names), "loss": None if np.isnan(self.loss) else self.loss}
        d.update(self.scores.to_dict(self.class_names))
        d["confusion_matrix"] = self.matrix.tolist()
        if self.per_image_miou is not None:
            d["per_image_miou"] = {n: (None if np.isnan(m) else float(m))
                                   for n, m in zip(self.names, self.per_image_miou)}
        return d


class Predictor:
    """A model plus what it needs to turn RGB images into class masks (size, normalisation, device)."""

    def __init__(self, model: torch.nn.Module, schema: ClassSchema, image_size: tuple[int, int],
                 device: torch.device | str = "cpu", precision: str = "fp32",
                 config: TrainConfig | None = None, channels_last: bool = False,
                 tta: TTAOptions | None = None):
        self.device = torch.device(device)
        self.model = model.to(self.device).eval()
        self.schema = schema
        self.image_size = tuple(image_size)
        self.precision = precision
        self.config = config
        self.channels_last = channels_last
        self.tta = tta or TTAOptions()  # default: plain single forward

    def with_tta(self, tta: TTAOptions) -> "Predictor":
        """The same model (shared, not copied) predicting with other test-time augmentation."""
        other = copy.copy(self)
        other.tta = tta
        return other

    @classmethod
    def from_checkpoint(cls, path: str | Path, device: str = "auto", precision: str = "auto",
                        tta: TTAOptions | None = None) -> "Predictor":
        state = load_checkpoint(path)
        try:
            cfg = TrainConfig.from_dict(state["config"])
            schema = ClassSchema.from_dict(state["schema"])
            weights = state["model"]
        except KeyError as e:
            raise CheckpointError(f"{path}: checkpoint lacks '{e.args[0]}'") from None
        except (TypeError, ValueError, AttributeError) as e:  # an entry of the wrong kind
            raise CheckpointError(f"{path}: malformed checkpoint ({type(e).__name__}: {e})") from None
        model = build_from_config(cfg, schema.num_classes, load_pretrained=False)
        try:
            model.load_state_dict(weights)
        except (RuntimeError, TypeError, AttributeError) as e:
            raise CheckpointError(f"{path}: weights do not fit a {cfg.arch} model ({str(e).splitlines()[0]})") from None
        dev = resolve_device(device)
        precision = _scoring_precision(precision, cfg.precision, dev)
        return cls(model, schema, cfg.image_size, dev, precision, cfg,
                   channels_last=use_channels_last(cfg.channels_last, dev, precision), tta=tta)

    def _batch(self, images: Sequence[np.ndarray]) -> torch.Tensor:
        return input_batch(images, self.image_size, self.device, self.channels_last)

    @torch.inference_mode()
    def logits(self, images: Sequence[np.ndarray]) -> torch.Tensor:
        """Raw logits [B,C,h,w] at the model's input size, float32."""
        self.model.eval()  # the Trainer shares its model, which it puts back in train mode
        x = self._batch(images)
        dtype = autocast_dtype(self.precision)
        with torch.autocast(self.device.type, dtype=dtype, enabled=dtype is not None):
            if self.tta.enabled:  # log of the averaged softmax: argmax/entropy work unchanged
                out = tta_logits(self.model, x, self.tta.flip, self.tta.scales)
            else:
                out = self.model(x)
        return out.float()

    def full_size_logits(self, images: Sequence[np.ndarray]) -> list[torch.Tensor]:
        """Logits resized back to each image's own size: a list of [C,H,W].

        Images of one size are resized as one batch with the classes innermost (channels_last),
        so the per-pixel argmax and softmax over classes read contiguous memory: on a 2-core
        CPU, 4 CamVid images took 10 ms instead of 80 (the argmax over a leading class axis
        alone took 30 ms an image)."""
        out = self.logits(images).contiguous(memory_format=torch.channels_last)
        sizes = {img.shape[:2] for img in images}
        if len(sizes) == 1:
            return list(F.interpolate(out, size=sizes.pop(), mode="bilinear", align_corners=False))
        return [F.interpolate(o[None], size=img.shape[:2], mode="bilinear", align_corners=False)[0]
                for o, img in zip(out, images)]

    def predict(self, image: np.ndarray, with_probs: bool = False) -> Prediction:
        logit = self.full_size_logits([image])[0]
        logp = torch.log_softmax(logit, dim=0)
        p = logp.exp()
        entropy = -(p * logp).sum(0)
        return Prediction(
            mask=logit.argmax(0).to(torch.uint8).cpu().numpy(),
            entropy=entropy.cpu().numpy().astype(np.float32),
            probs=p.cpu().numpy() if with_probs else None,
        )


def _scoring_precision(requested: str, trained: str, device: torch.device) -> str:
    """`auto` follows the run's own setting, so eval repeats the run's validation numbers: a run
    trained with precision fp32 is scored in fp32 on a CPU where auto means bf16. A setting this
    device cannot run (fp16 from a GPU run, scored on a CPU) falls back to auto."""
    if requested == "auto" and trained != "auto":
        try:
            return resolve_precision(trained, device)
        except ConfigError:
            pass
    return resolve_precision(requested, device)


def evaluate_model(predictor: Predictor, source: DataSource, split: str, *, batch_size: int = 4,
                   loss_fn: torch.nn.Module | None = None, per_image: bool = True,
                   progress: Callable[[int, int], None] | None = None,
                   cancel: Callable[[], bool] | None = None,
                   cache: dict | None = None, shard: tuple[int, int] | None = None,
                   keep: int = 0) -> EvalResult:
    """Score every image of `split` against its mask at the mask's resolution.

    `keep`: also return the first `keep` images with their predicted and true masks (the
    Trainer's TensorBoard previews), from the pass that scores them.

    `cache` (a dict the caller keeps) holds decoded images and masks between calls, which the
    Trainer uses to avoid decoding the validation split every epoch. `shard=(rank, world)`
    scores only every world-th image from rank: one process's part of a distributed validation.
    """
    samples = source.samples(split)
    if shard is not None:
        samples = samples[shard[0]::shard[1]]
    names = source.schema.names
    c = len(names)
    total = ConfusionMatrix(c, IGNORE_INDEX)
    per_mats = np.zeros((len(samples), c, c), dtype=np.int64) if per_image else None
    loss_sum, loss_pixels = 0.0, 0
    cancelled = False
    kept: list = []
    for start in range(0, len(samples), batch_size):
        if cancel is not None and cancel():
            cancelled = True
            break
        chunk = samples[start:start + batch_size]
        pairs = [_load(source, s, cache) for s in chunk]
        images = [p[0] for p in pairs]
        logits = predictor.full_size_logits(images)
        for k, (logit, (_, mask)) in enumerate(zip(logits, pairs)):
            target = torch.from_numpy(mask).to(logit.device).long()
            pred = logit.argmax(0)
            if start + k < keep:
                kept.append((images[k], pred.to(torch.uint8).cpu().numpy(), mask))
            if per_mats is not None:
                cm = ConfusionMatrix(c, IGNORE_INDEX)
                cm.update(pred, target)
                per_mats[start + k] = cm.matrix
                total.merge(cm)
            else:
                total.update(pred, target)
            if loss_fn is not None:  # summed on the device: no host read per image
                valid = (target != IGNORE_INDEX).sum()
                wide = torch.float32 if logit.device.type == "mps" else torch.float64
                loss_sum = loss_sum + loss_fn(logit[None], target[None]).to(wide) * valid
                loss_pixels = loss_pixels + valid
        if progress is not None:
            progress(min(start + batch_size, len(samples)), len(samples))
    loss_sum, loss_pixels = float(loss_sum), int(loss_pixels)  # one read for the whole split
    matrix = total.matrix
    per_miou = None
    if per_mats is not None:
        per_miou = np.array([compute_scores(m).miou for m in per_mats], dtype=np.float64)
    return EvalResult(
        class_names=list(names), matrix=matrix, scores=compute_scores(matrix),
        names=[s.name for s in samples], per_image_matrices=per_mats, per_image_miou=per_miou,
        loss=loss_sum / loss_pixels if loss_pixels else float("nan"), cancelled=cancelled,
        loss_pixels=loss_pixels, kept=kept,
    )


def _load(source: DataSource, sample, cache: dict | None):
    if cache is not None and sample.name in cache:
        return cache[sample.name]
    pair = (source.read_image(sample), source.read_mask(sample))
    if cache is not None:
        cache[sample.name] = pair
    return pair


def evaluate(checkpoint: str | Path, source: DataSource, split: str = "val", *, device: str = "auto",
             progress=None, cancel=None, batch_size: int = 4, tta: TTAOptions | None = None) -> EvalResult:
    """Load a checkpoint and score it on a split of `source` (what `roadseg eval` runs)."""
    predictor = Predictor.from_checkpoint(checkpoint, device=device, tta=tta)
    if predictor.schema.names != source.schema.names:
        raise CheckpointError(
            f"{checkpoint}: trained on classes {list(predictor.schema.names)}, "
            f"but the dataset has {list(source.schema.names)}"
        )
    return evaluate_model(predictor, source, split, batch_size=batch_size, progress=progress, cancel=cancel)
