"""TensorBoardLogger fed real Trainer events; its event files read back with TensorBoard's own
EventAccumulator: tags, steps and values as sent, preview strips decoded pixel by pixel."""
import io

import numpy as np
import pytest
from PIL import Image
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from core.engine.events import EpochDone, RunFailed, RunFinished, RunStarted, StepDone
from core.engine.tensorboard_log import TensorBoardLogger, colour_ids

NAMES = ["road", "sky", "pole"]
COLOURS = np.array([[128, 64, 128], [70, 130, 180], [153, 153, 153]], np.uint8)
IGNORE = 255


def _started(run_dir, start_epoch=0):
    return RunStarted(str(run_dir), {"arch": "unet", "lr": 0.001}, start_epoch, 2, 3, 6, "cpu",
                      "fp32", 12.5, 1234567, NAMES)


def _read(log_dir) -> EventAccumulator:
    acc = EventAccumulator(str(log_dir), size_guidance={"scalars": 0, "images": 0,
                                                         "tensors": 0})
    acc.Reload()
    return acc


def _scalars(acc, tag):
    return [(e.step, e.value) for e in acc.Scalars(tag)]


def _f32(x):
    return float(np.float32(x))


def test_scalars_per_step_and_epoch(tmp_path):
    log = TensorBoardLogger(tmp_path)
    log(_started(tmp_path))
    steps = [(1, 2.5, 1e-3), (2, 2.0, 9e-4), (3, 1.75, 8e-4)]
    for step, loss, lr in steps:
        log(StepDone(1, step, step, 3, loss, lr, 10.0, 5.0))
    log(EpochDone(1, 2.08, 1.9, 0.41, 0.83, [0.9, 0.25, None], True, 12.0, 8e-4, 2))
    log(StepDone(2, 4, 1, 3, 1.5, 7e-4, 10.0, 2.0))
    log(EpochDone(2, 1.6, 1.7, 0.52, 0.88, [0.92, 0.5, 0.14], True, 11.0, 5e-4, 2))
    log(RunFinished(str(tmp_path), {"best_miou": 0.52}, False))

    acc = _read(tmp_path / "tb")
    assert _scalars(acc, "train/loss") == [(s, _f32(v)) for s, v, _ in steps] + [(4, 1.5)]
    assert _scalars(acc, "train/lr") == [(s, _f32(v)) for s, _, v in steps] + [(4, _f32(7e-4))]
    assert _scalars(acc, "val/mIoU") == [(1, _f32(0.41)), (2, _f32(0.52))]
    assert _scalars(acc, "val/loss") == [(1, _f32(1.9)), (2, _f32(1.7))]
    assert _scalars(acc, "val/pixel_acc") == [(1, _f32(0.83)), (2, _f32(0.88))]
    assert _scalars(acc, "train/epoch_loss") == [(1, _f32(2.08)), (2, _f32(1.6))]
    assert _scalars(acc, "val_iou/road") == [(1, _f32(0.9)), (2, _f32(0.92))]
    assert _scalars(acc, "val_iou/sky") == [(1, _f32(0.25)), (2, _f32(0.5))]
    assert _scalars(acc, "val_iou/pole") == [(2, _f32(0.14))]  # no IoU in epoch 1: skipped
    tags = acc.Tags()
    assert {"run/config/text_summary", "run/model/text_summary"} <= set(tags["tensors"])
    text = acc.Tensors("run/model/text_summary")[0].tensor_proto.string_val[0].decode()
    assert "12.50 GFLOPs" in text and "1,234,567 parameters" in text
    config = acc.Tensors("run/config/text_summary")[0].tensor_proto.string_val[0].decode()
    assert "arch: unet" in config and "lr: 0.001" in config


def test_previews_are_image_truth_prediction_strips(tmp_path):
    rng = np.random.default_rng(0)
    n, h, w = 2, 6, 8
    images = rng.integers(0, 256, (n, h, w, 3), dtype=np.uint8)
    targets = rng.integers(0, 3, (n, h, w))
    targets[0, 0, :] = IGNORE
    preds = rng.integers(0, 3, (n, h, w))
    log = TensorBoardLogger(tmp_path)
    log(_started(tmp_path))
    log.log_previews(3, images, preds, targets, COLOURS, IGNORE)
    log(RunFailed(str(tmp_path), "boom"))

    acc = _read(tmp_path / "tb")
    assert sorted(acc.Tags()["images"]) == ["val_preview/0", "val_preview/1"]
    for i in range(n):
        (event,) = acc.Images(f"val_preview/{i}")
        assert (event.step, event.height, event.width) == (3, h, 3 * w)
        pixels = np.asarray(Image.open(io.BytesIO(event.encoded_image_string)).convert("RGB"))
        assert np.array_equal(pixels[:, :w], images[i])
        assert np.array_equal(pixels[:, w:2 * w], colour_ids(targets[i], COLOURS, IGNORE))
        assert np.array_equal(pixels[:, 2 * w:], COLOURS[preds[i]])
    assert (np.asarray(Image.open(io.BytesIO(acc.Images("val_preview/0")[0]
                                             .encoded_image_string)))[0, w:2 * w] == 0).all()


def test_colour_ids_blacks_out_ignored_and_unknown_ids():
    ids = np.array([[0, 1, 2], [IGNORE, 7, -1]])
    out = colour_ids(ids, COLOURS, IGNORE)
    assert out.dtype == np.uint8 and out.shape == (2, 3, 3)
    assert np.array_equal(out[0], COLOURS)
    assert (out[1] == 0).all()


def test_bad_preview_shapes_are_refused(tmp_path):
    log = TensorBoardLogger(tmp_path)
    images = np.zeros((1, 4, 4, 3), np.uint8)
    with pytest.raises(ValueError, match=r"\[N,H,W\] = \[1, 4, 4\]"):
        log.log_previews(1, images, np.zeros((1, 4, 5), int), np.zeros((1, 4, 4), int),
                         COLOURS, IGNORE)
    with pytest.raises(ValueError, match=r"uint8 images \[N,H,W,3\]"):
        log.log_previews(1, images.astype(np.float32), np.zeros((1, 4, 4), int),
                         np.zeros((1, 4, 4), int), COLOURS, IGNORE)
    log.close()


def test_flushed_at_epoch_end_and_closed_at_the_end(tmp_path):
    log = TensorBoardLogger(tmp_path)
    log(_started(tmp_path))
    log(StepDone(1, 1, 1, 1, 0.75, 1e-3, 1.0, 0.0))
    log(EpochDone(1, 0.75, 0.5, 0.3, 0.6, [0.3, None, None], True, 1.0, 1e-3, 1))
    # still open, yet everything so far is on disk
    assert log._writer is not None
    acc = _read(tmp_path / "tb")
    assert _scalars(acc, "val/mIoU") == [(1, _f32(0.3))]
    assert _scalars(acc, "train/loss") == [(1, 0.75)]
    log(RunFinished(str(tmp_path), {}, False))
    assert log._writer is None
    assert len(list((tmp_path / "tb").glob("events.out.tfevents.*"))) == 1


def test_tall_previews_are_scaled_down_to_the_preview_height(tmp_path):
    from core.engine.tensorboard_log import MAX_PREVIEW_HEIGHT

    log = TensorBoardLogger(tmp_path)
    log(_started(tmp_path))
    images = np.full((1, 360, 480, 3), 200, np.uint8)
    masks = np.zeros((1, 360, 480), np.int64)
    log.log_previews(1, images, masks, masks, COLOURS, IGNORE)
    log.close()
    (event,) = _read(tmp_path / "tb").Images("val_preview/0")
    assert (event.height, event.width) == (MAX_PREVIEW_HEIGHT, 3 * 480 * MAX_PREVIEW_HEIGHT // 360)
    strip = np.asarray(Image.open(io.BytesIO(event.encoded_image_string)).convert("RGB"))
    assert (strip[:, :320] == 200).all() and (strip[:, 320:640] == COLOURS[0]).all()  # uniform areas stay exact


def test_without_the_tensorboard_package_a_run_only_loses_its_logs(tmp_path, monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_tensorboard(name, *a, **k):
        if name.startswith("torch.utils.tensorboard") or name.startswith("tensorboard"):
            raise ImportError(f"No module named {name!r}")
        return real_import(name, *a, **k)

    monkeypatch.setattr(builtins, "__import__", no_tensorboard)
    log = TensorBoardLogger(tmp_path)
    with pytest.warns(RuntimeWarning, match="no TensorBoard logs"):
        log(_started(tmp_path))
    log(StepDone(1, 1, 1, 3, 0.5, 1e-3, 10.0, 5.0))
    log.log_previews(1, np.zeros((1, 4, 4, 3), np.uint8), np.zeros((1, 4, 4)), np.zeros((1, 4, 4)),
                     COLOURS, IGNORE)
    log(RunFinished(str(tmp_path), {}, False))
    assert not (tmp_path / "tb").exists()
