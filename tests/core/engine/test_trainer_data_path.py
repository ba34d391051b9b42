"""The Trainer on both data paths: the memory plan's choice, the same run either way, bad files
mid-stream, and a validation cache only where the plan has room."""
import json
import shutil

import pytest
import torch

from core.data import memory_plan
from core.data.source import open_dataset
from core.engine import trainer as trainer_module
from core.engine.checkpoint import load_checkpoint
from core.engine.events import CheckpointSaved, EpochDone, RunFailed, RunStarted, StepDone
from core.engine.trainer import Trainer
from core.errors import ConfigError, DataError

from tests.core.engine.test_trainer import assert_same_weights, tiny


def lines(run):
    return [json.loads(x) for x in (run / "metrics.jsonl").read_text().splitlines()]


def test_streamed_run_is_the_in_memory_run(synth_data, tmp_path):
    kw = dict(augment="strong", copy_paste=0.5, crop_size=(24, 32), rare_crop=0.5, class_weights="median")
    events = []
    memory = Trainer(tiny(synth_data, tmp_path / "m", data_path="memory", **kw), [events.append]).run()
    stream = Trainer(tiny(synth_data, tmp_path / "s", data_path="stream", **kw), [events.append]).run()
    assert memory["data"]["path"] == "memory" and stream["data"]["path"] == "stream"
    started = [e for e in events if isinstance(e, RunStarted)]
    assert "in host memory" in started[0].data_plan and "streamed from the files" in started[1].data_plan
    a, b = lines(tmp_path / "m"), lines(tmp_path / "s")
    assert [x["train_loss"] for x in a] == pytest.approx([x["train_loss"] for x in b], abs=1e-6)
    assert [x["miou"] for x in a] == pytest.approx([x["miou"] for x in b], abs=1e-9)
    assert_same_weights(tmp_path / "m" / "last.pt", tmp_path / "s" / "last.pt")
    saved = json.loads((tmp_path / "s" / "summary.json").read_text())["data"]
    assert saved["requested"] == "stream" and saved["train_images"] == 12


def test_auto_picks_memory_when_it_fits_and_stream_when_not(synth_data, tmp_path, monkeypatch):
    assert Trainer(tiny(synth_data, tmp_path / "a", epochs=1)).run()["data"]["path"] == "memory"
    monkeypatch.setattr(memory_plan, "host_available_bytes", lambda: 100_000)  # < 2 x 73,728 bytes
    summary = Trainer(tiny(synth_data, tmp_path / "b", epochs=1)).run()
    assert summary["data"]["path"] == "stream" and summary["data"]["val_cache"] is False


def test_forced_memory_that_cannot_fit_fails_before_any_decode(synth_data, tmp_path, monkeypatch):
    from core.data import decoded

    monkeypatch.setattr(memory_plan, "host_available_bytes", lambda: 50_000)
    monkeypatch.setattr(decoded, "decode_into", lambda *a: pytest.fail("a file was decoded"))
    events = []
    with pytest.raises(ConfigError, match="does not fit in memory"):
        Trainer(tiny(synth_data, tmp_path / "r", data_path="memory"), [events.append]).run()
    assert isinstance(events[-1], RunFailed) and "\n" not in events[-1].message


def test_validation_streams_when_the_plan_has_no_room_for_its_cache(synth_data, tmp_path, monkeypatch):
    caches = []
    real = trainer_module.evaluate_model

    def spy(*a, **kw):
        caches.append(kw.get("cache"))
        return real(*a, **kw)

    monkeypatch.setattr(trainer_module, "evaluate_model", spy)
    Trainer(tiny(synth_data, tmp_path / "a")).run()
    assert len(caches[0]) == 4 and caches[0] is caches[1]  # four val pairs kept, the same dict again
    caches.clear()
    monkeypatch.setattr(memory_plan, "host_available_bytes", lambda: int(73_728 / memory_plan.HOST_SHARE))
    Trainer(tiny(synth_data, tmp_path / "b")).run()
    assert caches == [None, None]


def test_a_file_that_fails_mid_stream_stops_with_last_pt_and_resume_continues(synth_data, tmp_path):
    root = tmp_path / "data"
    shutil.copytree(synth_data, root)
    straight = tmp_path / "straight"
    Trainer(tiny(root, straight, data_path="stream")).run()

    cfg = tiny(root, tmp_path / "r", data_path="stream")
    # the first image of epoch 2's second batch breaks once epoch 1 is done (its header stays readable)
    from core.data.batch_augment import BatchAugment
    from core.data.batch_loader import BatchLoader
    from core.data.streamed import StreamedSplit

    source = open_dataset(root)
    loader = BatchLoader(StreamedSplit(source, "train", cfg.image_size), cfg.batch_size,
                         BatchAugment(cfg.augment, cfg.image_size), seed=cfg.seed)
    loader.set_epoch(1)
    victim = source.samples("train")[loader.batch_indices()[1][0]]
    good = victim.image.read_bytes()

    def break_it(ev):
        if isinstance(ev, EpochDone) and ev.epoch == 1:
            victim.image.write_bytes(good[: len(good) // 2])

    events = []
    with pytest.raises(DataError, match=victim.image.name):
        Trainer(cfg, [events.append, break_it]).run()
    assert isinstance(events[-1], RunFailed) and victim.image.name in events[-1].message
    assert any(isinstance(e, CheckpointSaved) and e.path.endswith("last.pt") for e in events)
    last = load_checkpoint(tmp_path / "r" / "last.pt")
    assert (last["epoch"], last["epoch_step"]) == (1, 1)  # epoch 2's first batch trained, then the bad file

    victim.image.write_bytes(good)  # fixed: the run continues where it stopped
    resumed = []
    Trainer(cfg, [lambda e: isinstance(e, StepDone) and resumed.append(e.epoch_step)], resume=True).run()
    assert resumed[0] == 2
    assert_same_weights(straight / "last.pt", tmp_path / "r" / "last.pt")
