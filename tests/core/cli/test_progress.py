import io
import re

import tqdm.std

from core.cli import progress
from core.cli.progress import TrainPrinter
from core.engine.events import RunFinished


def summary(**extra):
    return {"best_miou": 0.5, "best_epoch": 2, "train_seconds": 12.0, "images_per_s": 3.0, **extra}


def test_the_end_line_and_the_phases_that_took_time():
    out = io.StringIO()
    phases = {"data": 0.01, "model": 1.62, "decode": 2.66, "training": 25.0, "checkpoints": 0.31, "total": 32.7}
    TrainPrinter(out)(RunFinished("run", summary(phases=phases), False))
    lines = out.getvalue().splitlines()
    assert lines[0] == "finished: best val mIoU 0.5000 (epoch 2), 12 s training, 3.00 img/s"
    assert lines[1] == "time: model 1.6 s, decode 2.7 s, training 25.0 s, checkpoints 0.3 s"


def test_no_time_line_without_phases():
    out = io.StringIO()
    TrainPrinter(out)(RunFinished("run", summary(), True))
    assert out.getvalue().splitlines() == [
        "stopped (resume with --resume): best val mIoU 0.5000 (epoch 2), 12 s training, 3.00 img/s"]


def test_a_queue_printer_says_why_a_run_failed(capsys):
    from core.engine.events import RunFailed

    out = io.StringIO()
    TrainPrinter(out, failures=True)(RunFailed("runs/a", "the 'train' split has 6 images, fewer than the batch size 8"))
    TrainPrinter(out)(RunFailed("runs/b", "printed by the command instead"))
    assert capsys.readouterr().err.splitlines() == [
        "run runs/a failed: the 'train' split has 6 images, fewer than the batch size 8"]


def test_progress_bar_rate_counts_from_its_first_report(monkeypatch):
    """The label-issues bar is made on the first report and counts its rate from there (that
    report alone once showed 131072 img/s: one image over the microseconds since)."""
    err = io.StringIO()
    monkeypatch.setattr(progress.sys, "stderr", err)
    clock = {"t": 100.0}

    def now():
        clock["t"] += 1e-5  # each look at the clock: a few microseconds pass
        return clock["t"]

    monkeypatch.setattr(tqdm.std, "time", now)
    update = progress.progress_bar("label-issues")
    update(1, 5)
    clock["t"] += 0.5  # two more images in half a second
    update(3, 5)
    text = err.getvalue()
    rates = [float(r) for r in re.findall(r"([0-9.]+)img/s", text)]
    assert "1/5" in text and "3/5" in text
    assert rates and max(rates) < 10  # 4 img/s, never one image over microseconds


def test_a_long_hold_out_list_is_cut_on_the_end_line():
    """A k-fold run holds out ~120 image names: the end line shows three and the count."""
    out = io.StringIO()
    names = ",".join(f"img_{i:03d}" for i in range(122))
    held = {"prefixes": names, "images": 122, "miou": 0.4383}
    TrainPrinter(out)(RunFinished("run", summary(holdout=held), False))
    assert out.getvalue().splitlines()[1] == (
        "held-out img_000,img_001,img_002 and 119 more (122 images, best checkpoint): mIoU 0.4383")
    out = io.StringIO()  # a sequence or two, as a person types them, stay whole
    TrainPrinter(out)(RunFinished("run", summary(holdout={"prefixes": "0006R0,0001TP", "images": 225, "miou": 0.5}), False))
    assert "held-out 0006R0,0001TP (225 images" in out.getvalue()
