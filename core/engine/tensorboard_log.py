"""TensorBoard event files for a run, written by a Trainer listener into `run_dir/tb/`, so
`tensorboard --logdir runs` compares any set of runs (the app's own curves read metrics.jsonl).

What is written, under these tags:

- every step (x = global step): `train/loss`, `train/lr`
- every epoch (x = epoch, 1-based): `train/epoch_loss`, `val/loss`, `val/mIoU`, `val/pixel_acc`,
  `val_iou/<class name>` (classes absent from ground truth and prediction are skipped: no IoU)
- at the start: `run/config` (the config as YAML text), `run/model` (GFLOPs, parameters, device)
- `log_previews`: `val_preview/<i>` strips of image | ground truth | prediction (x = epoch)

Per step this only formats two floats the StepDone event already carries (no device read); the
writer's own thread does the file I/O. Files are flushed at each epoch end and closed when the
run finishes or fails.
"""
from __future__ import annotations

import math
import warnings
from pathlib import Path

import cv2
import numpy as np

from core.engine.background import Background
from core.engine.events import EpochDone, RunFailed, RunFinished, RunStarted, StepDone

SUBDIR = "tb"
MAX_PREVIEW_HEIGHT = 240  # taller strips are scaled down to this height


def colour_ids(ids: np.ndarray, colours: np.ndarray, ignore_index: int) -> np.ndarray:
    """Class ids [H,W] -> RGB [H,W,3] uint8; ignored or out-of-range ids are black."""
    colours = np.asarray(colours, dtype=np.uint8).reshape(-1, 3)
    lut = np.concatenate([colours, np.zeros((1, 3), np.uint8)])
    ids = np.asarray(ids).astype(np.int64)
    valid = (ids >= 0) & (ids < len(colours)) & (ids != ignore_index)
    return lut[np.where(valid, ids, len(colours))]


def preview_strips(images, preds, targets, colours, ignore_index: int) -> np.ndarray:
    """[N,H,3W,3] uint8: each image beside its coloured ground truth and prediction."""
    images, preds, targets = np.asarray(images), np.asarray(preds), np.asarray(targets)
    if images.ndim != 4 or images.shape[-1] != 3 or images.dtype != np.uint8:
        raise ValueError(f"previews need uint8 images [N,H,W,3], got {images.dtype} "
                         f"{list(images.shape)}")
    if preds.shape != images.shape[:3] or targets.shape != images.shape[:3]:
        raise ValueError(f"previews need predictions and targets [N,H,W] = "
                         f"{list(images.shape[:3])}, got {list(preds.shape)} and "
                         f"{list(targets.shape)}")
    return np.concatenate([images, colour_ids(targets, colours, ignore_index),
                           colour_ids(preds, colours, ignore_index)], axis=2)


class TensorBoardLogger:
    """A Trainer listener (`trainer.add_listener(TensorBoardLogger(run_dir))`) writing the run's
    curves, per-class IoU and validation previews as TensorBoard events into `run_dir/tb/`."""

    def __init__(self, run_dir):
        self.log_dir = Path(run_dir) / SUBDIR
        self._writer = None
        self._encoder: Background | None = None
        self._class_names: list[str] = []
        self._missing: bool | None = None  # the tensorboard package absent (checked once)

    def available(self) -> bool:
        """Whether events can be written: False, with one warning, where the tensorboard package
        is missing (a bare environment such as a lent GPU machine), so a run never fails for
        want of its logs."""
        if self._missing is None:
            try:
                from torch.utils.tensorboard import SummaryWriter  # noqa: F401
                self._missing = False
            except ImportError as exc:
                self._missing = True
                warnings.warn(f"no TensorBoard logs for this run: {exc} (pip install tensorboard)",
                              RuntimeWarning, stacklevel=2)
        return not self._missing

    @property
    def writer(self):
        """The SummaryWriter, opened on first use (again after a close)."""
        if self._writer is None:
            from torch.utils.tensorboard import SummaryWriter
            self._writer = SummaryWriter(log_dir=str(self.log_dir))
        return self._writer

    def __call__(self, event) -> None:
        if not self.available():
            return
        if isinstance(event, StepDone):
            self.writer.add_scalar("train/loss", event.loss, event.step)
            self.writer.add_scalar("train/lr", event.lr, event.step)
        elif isinstance(event, EpochDone):
            self._epoch(event)
        elif isinstance(event, RunStarted):
            self._started(event)
        elif isinstance(event, (RunFinished, RunFailed)):
            self.close()

    def _started(self, e: RunStarted) -> None:
        import yaml

        self._class_names = list(e.class_names)
        step = e.start_epoch  # a resumed run adds its text beside the first one's
        text = yaml.safe_dump(e.config, sort_keys=False)
        self.writer.add_text("run/config", "    " + text.replace("\n", "\n    "), step)
        self.writer.add_text("run/model", f"{e.gflops:.2f} GFLOPs, {e.params:,} parameters, "
                                          f"{e.device}, {e.precision}", step)

    def _epoch(self, e: EpochDone) -> None:
        w, epoch = self.writer, e.epoch
        for tag, value in (("train/epoch_loss", e.train_loss), ("val/loss", e.val_loss),
                           ("val/mIoU", e.miou), ("val/pixel_acc", e.pixel_acc)):
            w.add_scalar(tag, value, epoch)
        for i, value in enumerate(e.iou):
            if value is not None and math.isfinite(value):
                name = self._class_names[i] if i < len(self._class_names) else f"class_{i}"
                w.add_scalar(f"val_iou/{name}", value, epoch)
        w.flush()

    def log_previews(self, epoch: int, images, preds, targets, colours,
                     ignore_index: int) -> None:
        """Image | ground truth | prediction strips for a few validation images (uint8
        [N,H,W,3], int [N,H,W], int [N,H,W], class colours [C,3] uint8), one tag per image."""
        if not self.available():
            return
        strips = preview_strips(images, preds, targets, colours, ignore_index)
        if strips.shape[1] > MAX_PREVIEW_HEIGHT:  # PNG encoding is the cost: ~0.38 s at 360x1440 x3
            scale = MAX_PREVIEW_HEIGHT / strips.shape[1]
            strips = np.stack([cv2.resize(s, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
                               for s in strips])
        writer = self.writer
        if self._encoder is None:
            self._encoder = Background("tb-previews")
        # PNG encoding (zlib, outside the GIL) runs beside the next epoch instead of before it;
        # an encoding error surfaces at the next epoch, not only at the end
        self._encoder.submit(self._write_previews, writer, epoch, strips)

    @staticmethod
    def _write_previews(writer, epoch: int, strips: np.ndarray) -> None:
        for i, strip in enumerate(strips):
            writer.add_image(f"val_preview/{i}", strip, epoch, dataformats="HWC")
        writer.flush()

    def close(self) -> None:
        try:
            if self._encoder is not None:
                encoder, self._encoder = self._encoder, None
                encoder.close()  # previews still being encoded are written first; errors surface here
        finally:
            if self._writer is not None:
                self._writer.close()
                self._writer = None
