"""Data-parallel training: two gloo processes under torchrun train the model one process trains.

What "the same" means here. Two ranks with a global batch of 4 each take 2 images of the batch a
single process would take (same epoch order: ShardSampler), and DDP averages their gradients. The
mean of two 2-image mean losses equals the 4-image mean loss only if every image has the same
number of valid pixels, so the data is the synthetic set with its few void pixels relabelled;
and only if the network has no batch statistics, so the baseline uses GroupNorm (SyncBatchNorm,
which the Trainer uses on CUDA, has no CPU kernel). What remains is float32 summation order
(half-batch sums averaged by all-reduce vs one full-batch sum), about 1e-7 relative per gradient;
Adam divides by sqrt(v), which lifts that to ~1e-5 in weights whose gradient nearly cancels (seen:
8e-6 after 6 steps). So weights must agree within 1e-4 absolute (|w| is at most ~1): ten times
the rounding seen, and fifty times below the 5e-3 that the same runs differ by when per-rank
void pixels unbalance the means, or a wrong order. Val mIoU must agree within 1e-3 (a few
near-tied pixels could flip); the mIoU recorded by the two ranks is checked to be *exactly* what a
single-process `evaluate` of the saved weights gives, since confusion matrices are summed in int64.
"""
from __future__ import annotations

import gc
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import weakref
from pathlib import Path

import pytest
import torch

from core.config import TrainConfig
from core.data import torch_dataset
from core.data.source import open_dataset
from core.engine import distributed, setup
from core.engine.checkpoint import load_checkpoint
from core.engine.events import RunFinished
from core.engine.torchrun_run import TorchrunRun
from core.engine.trainer import Trainer
from core.errors import ConfigError
from core.evaluate import evaluate

REPO = Path(__file__).resolve().parents[3]
WEIGHT_ATOL = 1e-4
MIOU_ATOL = 1e-3


def config(data, out, **kw) -> TrainConfig:
    base = dict(data=str(data), arch="baseline", norm="group", loss="ce", optimizer="adam", lr=3e-3,
                epochs=2, batch_size=4, image_size=(32, 48), augment="none", seed=3, device="cpu",
                precision="fp32", deterministic=True, out=str(out))
    base.update(kw)
    return TrainConfig(**base)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def torchrun_train(cfg: TrainConfig, tmp: Path, *extra: str) -> subprocess.CompletedProcess:
    cfg_file = tmp / f"{Path(cfg.out).name}.yaml"
    cfg.to_yaml(cfg_file)
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_port",
           str(free_port()), "-m", "core.cli.main", "train", "--config", str(cfg_file), *extra]
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=str(REPO))
    r = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=540)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    return r


@pytest.fixture(scope="module")
def no_void(synth_data, tmp_path_factory) -> Path:
    """The synthetic set with void relabelled as class 0: every image has all pixels valid."""
    root = tmp_path_factory.mktemp("novoid") / "demo"
    shutil.copytree(synth_data, root)
    src = open_dataset(root)
    for split in src.splits:
        for s in src.samples(split):
            mask = src.read_mask(s)
            mask[mask == 255] = 0
            src.write_mask(s, mask)
    return root


@pytest.fixture(scope="module")
def runs(no_void, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("ddp")
    ddp = config(no_void, tmp / "ddp")
    r = torchrun_train(ddp, tmp)
    single = config(no_void, tmp / "single")
    Trainer(single).run()
    return Path(ddp.out), Path(single.out), r


def _weights(run: Path) -> dict:
    return load_checkpoint(run / "last.pt")["model"]


def _max_diff(a: dict, b: dict) -> float:
    assert a.keys() == b.keys()
    return max(float((a[k].float() - b[k].float()).abs().max()) for k in a)


@pytest.mark.slow
def test_two_processes_train_what_one_trains(runs):
    ddp, single, _ = runs
    assert not any(k.startswith("module.") for k in _weights(ddp))  # eval/predict load it as is
    assert _max_diff(_weights(ddp), _weights(single)) <= WEIGHT_ATOL
    a = [json.loads(x) for x in (ddp / "metrics.jsonl").read_text().splitlines()]
    b = [json.loads(x) for x in (single / "metrics.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in a] == [r["epoch"] for r in b] == [1, 2]
    for ra, rb in zip(a, b):
        assert ra["miou"] == pytest.approx(rb["miou"], abs=MIOU_ATOL)
        assert ra["train_loss"] == pytest.approx(rb["train_loss"], rel=1e-4)  # averaged over ranks
        assert ra["val_loss"] == pytest.approx(rb["val_loss"], rel=1e-4)


@pytest.mark.slow
def test_two_processes_streaming_train_what_one_trains_in_memory(runs, no_void, tmp_path):
    """torchrun with the data streamed (each rank reads its share of each batch) against one
    process holding it in memory: the same run."""
    _, single, _ = runs
    cfg = config(no_void, tmp_path / "streamed", data_path="stream")
    r = torchrun_train(cfg, tmp_path)
    assert "data: streamed from the files" in r.stdout
    streamed = tmp_path / "streamed"
    assert json.loads((streamed / "summary.json").read_text())["data"]["processes"] == 2
    assert _max_diff(_weights(streamed), _weights(single)) <= WEIGHT_ATOL


@pytest.mark.slow
def test_only_rank_zero_writes(runs):
    ddp, _, r = runs
    assert sorted(p.name for p in ddp.iterdir()) == ["best.pt", "config.yaml", "last.pt", "metrics.jsonl",
                                                     "summary.json", "tb"]  # no stray temporary files
    assert len(list((ddp / "tb").iterdir())) == 1  # one event file: rank 0's
    assert len((ddp / "metrics.jsonl").read_text().splitlines()) == 2  # one line per epoch, not per rank
    assert r.stdout.count("epoch 1:") == 1 and r.stdout.count("finished:") == 1
    summary = json.loads((ddp / "summary.json").read_text())
    assert summary["device"] == "cpu x2" and summary["cancelled"] is False


@pytest.mark.slow
def test_sharded_validation_is_exact(runs, no_void):
    ddp, _, _ = runs
    summary = json.loads((ddp / "summary.json").read_text())
    res = evaluate(ddp / "best.pt", open_dataset(no_void), "val", device="cpu")
    assert res.scores.miou == pytest.approx(summary["best_miou"], abs=1e-12)


@pytest.mark.slow
def test_stop_then_resume_under_torchrun_matches(runs, no_void, tmp_path):
    """Stop through the launcher (SIGINT to torchrun, forwarded to both ranks), then resume."""
    ddp, _, _ = runs
    cfg = config(no_void, tmp_path / "stopped")
    run = TorchrunRun(cfg, 2, with_cost=False)
    run.start()
    events, deadline = [], time.monotonic() + 300
    while not run.done and time.monotonic() < deadline:
        for ev in run.poll():
            events.append(ev)
            if type(ev).__name__ == "EpochDone" and ev.epoch == 1:
                run.request_stop()
        time.sleep(0.1)
    run.cleanup()
    assert run.done and isinstance(events[-1], RunFinished)
    assert run.process.poll() is not None
    if events[-1].cancelled:
        last = load_checkpoint(tmp_path / "stopped" / "last.pt")
        assert (last["epoch"], last["epoch_step"]) < (2, 0)
    torchrun_train(cfg, tmp_path, "--resume")
    assert _max_diff(_weights(tmp_path / "stopped"), _weights(ddp)) <= WEIGHT_ATOL
    lines = (tmp_path / "stopped" / "metrics.jsonl").read_text().splitlines()
    assert [json.loads(x)["epoch"] for x in lines] == [1, 2]


# --- fast checks, no processes -------------------------------------------------------------
class IndexDataset(torch_dataset.SegmentationDataset):
    """Yields each image's index instead of its pixels, so batches show the order."""

    def __getitem__(self, i):
        return torch.tensor(i), torch.tensor(0)


@pytest.mark.parametrize("world", [2, 4])
def test_shards_of_each_step_make_the_single_process_batch(synth_data, monkeypatch, world):
    monkeypatch.setattr(torch_dataset, "SegmentationDataset", IndexDataset)
    cfg = config(synth_data, "unused", batch_size=4)
    src = open_dataset(synth_data)

    def batches(rank: int, world_size: int) -> list:
        g = torch.Generator()
        loader = setup.build_train_loader(cfg, src, g, rank, world_size)
        epochs = []
        for epoch in range(2):  # seeded as the Trainer seeds it
            g.manual_seed(cfg.seed * 100_003 + epoch)
            distributed.set_epoch(loader, epoch)
            epochs.append([x.tolist() for x, _ in loader])
        return epochs

    single = batches(0, 1)
    shards = [batches(r, world) for r in range(world)]
    assert len(single[0]) == len(src.samples("train")) // 4
    for epoch in range(2):
        for step, batch in enumerate(single[epoch]):
            assert sorted(i for s in shards for i in s[epoch][step]) == sorted(batch)
    assert all(len(s[0][0]) == 4 // world for s in shards)
    assert single[0] != single[1]  # the order changes per epoch


def test_global_batch_must_split_evenly(synth_data):
    cfg = config(synth_data, "unused", batch_size=3)
    with pytest.raises(ConfigError, match="global batch"):
        setup.build_train_loader(cfg, open_dataset(synth_data), torch.Generator(), 0, 2)


def test_single_process_context_is_identity(monkeypatch):
    for var in ("WORLD_SIZE", "LOCAL_RANK", "RANK"):
        monkeypatch.delenv(var, raising=False)
    ctx = distributed.init("cpu")
    assert (ctx.enabled, ctx.is_main, ctx.shard, ctx.world_size) == (False, True, None, 1)
    model = torch.nn.Linear(2, 2)
    assert ctx.prepare(model) == (model, model)
    t = torch.tensor(2.5)
    assert ctx.mean(t) is t and ctx.any(True) is True and ctx.any(False) is False
    monkeypatch.setenv("WORLD_SIZE", "1")
    monkeypatch.setenv("LOCAL_RANK", "0")
    assert not distributed.launched_by_torchrun()  # torchrun with one process: plain run
    ctx.close()


def test_close_frees_unreachable_wrappers_before_destroying_the_group(monkeypatch):
    """A DDP wrapper lives in a reference cycle and holds the process group: close() must collect
    it before destroy_process_group, not leave the group to the interpreter's exit."""
    class Cyclic:
        pass

    seen = []
    monkeypatch.setattr(distributed.dist, "is_initialized", lambda: True)
    monkeypatch.setattr(distributed.dist, "destroy_process_group", lambda: seen.append(ref() is None))
    gc.disable()
    try:
        wrapper = Cyclic()
        wrapper.self = wrapper  # unreachable after del, freed only by a collection
        ref = weakref.ref(wrapper)
        del wrapper
        assert ref() is not None
        ctx = distributed.DistContext(torch.device("cpu"), 0, 0, 2, owns_group=True)
        ctx.close()
        ctx.close()  # once only
    finally:
        gc.enable()
    assert seen == [True] and not ctx.owns_group
