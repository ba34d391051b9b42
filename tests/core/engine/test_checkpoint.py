import os
import pickle
import threading

import pytest
import torch

from core.engine import checkpoint as checkpoint_module
from core.engine.checkpoint import CheckpointWriter, host_copy, load_checkpoint, save_checkpoint
from core.errors import CheckpointError


def test_round_trip_tensors_and_plain_values(tmp_path):
    state = {"model": {"w": torch.arange(6.0).reshape(2, 3)}, "epoch": 3, "name": "x", "iou": [0.5, None]}
    path = save_checkpoint(tmp_path / "a.pt", state)
    back = load_checkpoint(path)
    assert torch.equal(back["model"]["w"], state["model"]["w"])
    assert back["epoch"] == 3 and back["iou"] == [0.5, None]
    assert [p.name for p in tmp_path.iterdir()] == ["a.pt"]  # no temporary file left behind


def test_failed_write_keeps_old_file(tmp_path, monkeypatch):
    path = save_checkpoint(tmp_path / "a.pt", {"epoch": 1})

    def boom(*a, **k):
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", boom)
    with pytest.raises(OSError):
        save_checkpoint(path, {"epoch": 2})
    monkeypatch.undo()
    assert load_checkpoint(path)["epoch"] == 1
    assert len(os.listdir(tmp_path)) == 1


class Payload:
    def __reduce__(self):
        return (print, ("pwned",))


def test_pickled_payload_refused(tmp_path):
    path = tmp_path / "evil.pt"
    torch.save({"format": "roadseg-checkpoint", "version": 1, "x": Payload()}, path)
    with pytest.raises(CheckpointError, match="refused"):
        load_checkpoint(path)


def test_foreign_and_truncated_files(tmp_path):
    other = tmp_path / "other.pt"
    torch.save({"weights": torch.zeros(1)}, other)
    with pytest.raises(CheckpointError, match="not a roadseg checkpoint"):
        load_checkpoint(other)
    good = save_checkpoint(tmp_path / "good.pt", {"model": {"w": torch.zeros(1000)}})
    cut = tmp_path / "cut.pt"
    cut.write_bytes(good.read_bytes()[:500])
    with pytest.raises(CheckpointError, match="cut.pt"):
        load_checkpoint(cut)
    with pytest.raises(CheckpointError, match="not found"):
        load_checkpoint(tmp_path / "missing.pt")
    assert pickle  # module used for the payload class


def test_version_1_ddrnet_checkpoint_rebuilds_without_skip(tmp_path):
    """Version 1 saved skip: true for DDRNet, which then had no skip path: it must still load."""
    from core.config import TrainConfig
    from core.engine.setup import build_model
    from core.models import create_model

    cfg = {**TrainConfig(arch="ddrnet23-slim").to_dict(), "skip": True}  # version 1 kept options flat
    cfg.pop("model_options", None)
    old = tmp_path / "v1.pt"
    weights = create_model("ddrnet23-slim", 3, skip=False).state_dict()
    torch.save({"format": "roadseg-checkpoint", "version": 1, "config": cfg, "model": weights}, old)
    state = load_checkpoint(old)
    assert state["config"]["skip"] is False
    build_model(TrainConfig.from_dict(state["config"]), 3, load_pretrained=False).load_state_dict(
        state["model"])
    # a current checkpoint keeps what it says, and other architectures are left alone
    new = save_checkpoint(tmp_path / "v2.pt", {"config": cfg})
    assert load_checkpoint(new)["config"]["skip"] is True
    unet = {"format": "roadseg-checkpoint", "version": 1, "config": {"arch": "unet", "skip": True}}
    torch.save(unet, tmp_path / "unet.pt")
    assert load_checkpoint(tmp_path / "unet.pt")["config"]["skip"] is True


def test_writer_saves_what_the_tensors_held_when_asked(tmp_path):
    w = torch.zeros(3)
    writer = CheckpointWriter()
    writer.save(tmp_path / "a.pt", {"model": {"w": w}, "epoch": 1})
    w += 5  # the next step changes the live tensor in place
    writer.save(tmp_path / "b.pt", {"model": {"w": w}, "epoch": 2})
    writer.close()
    assert torch.equal(load_checkpoint(tmp_path / "a.pt")["model"]["w"], torch.zeros(3))
    assert torch.equal(load_checkpoint(tmp_path / "b.pt")["model"]["w"], torch.full((3,), 5.0))


def test_writer_writes_in_order_on_another_thread(tmp_path, monkeypatch):
    written, real = [], checkpoint_module.save_checkpoint

    def record(path, state):
        written.append((os.path.basename(path), state["epoch"], threading.current_thread().name))
        return real(path, state)

    monkeypatch.setattr(checkpoint_module, "save_checkpoint", record)
    writer = CheckpointWriter(pending=1)
    for epoch in (1, 2, 3):
        writer.save(tmp_path / "last.pt", {"epoch": epoch})
    writer.wait()
    assert [(name, epoch) for name, epoch, _ in written] == [("last.pt", 1), ("last.pt", 2), ("last.pt", 3)]
    assert all(thread.startswith("checkpoint") for *_, thread in written)
    assert load_checkpoint(tmp_path / "last.pt")["epoch"] == 3
    writer.close()


def test_writer_reports_a_failed_write_on_wait_and_keeps_the_old_file(tmp_path, monkeypatch):
    save_checkpoint(tmp_path / "a.pt", {"epoch": 1})
    writer = CheckpointWriter()
    monkeypatch.setattr(torch, "save", lambda *a, **k: (_ for _ in ()).throw(OSError("disk full")))
    writer.save(tmp_path / "a.pt", {"epoch": 2})
    with pytest.raises(OSError, match="disk full"):
        writer.wait()
    monkeypatch.undo()
    writer.close()
    assert load_checkpoint(tmp_path / "a.pt")["epoch"] == 1


def test_writer_inline_writes_before_returning(tmp_path):
    writer = CheckpointWriter(background=False)
    writer.save(tmp_path / "a.pt", {"epoch": 4})
    assert load_checkpoint(tmp_path / "a.pt")["epoch"] == 4


def test_host_copy_copies_tensors_and_rebuilds_containers():
    t = torch.ones(2)
    state = {"opt": {"state": {0: {"exp_avg": t}}, "param_groups": [{"params": [0], "lr": 0.1}]}, "n": (1, t)}
    copy = host_copy(state)
    assert copy["opt"]["param_groups"] == [{"params": [0], "lr": 0.1}]
    assert copy["opt"]["state"][0]["exp_avg"] is not t and torch.equal(copy["opt"]["state"][0]["exp_avg"], t)
    assert copy["opt"]["param_groups"][0]["params"] is not state["opt"]["param_groups"][0]["params"]
    assert isinstance(copy["n"], tuple) and copy["n"][0] == 1


def test_writer_skips_the_writes_after_a_failed_one(tmp_path, monkeypatch):
    real = checkpoint_module.save_checkpoint

    def save(path, state):
        if path.name == "best.pt":
            raise OSError("disk full")
        return real(path, state)

    monkeypatch.setattr(checkpoint_module, "save_checkpoint", save)
    writer = CheckpointWriter()
    writer.save(tmp_path / "best.pt", {"epoch": 1})
    with pytest.raises(OSError, match="disk full"):  # at the next save, or at the latest on close
        writer.save(tmp_path / "last.pt", {"epoch": 1, "best_epoch": 1})
        writer.close()
    writer.close()
    assert not (tmp_path / "last.pt").exists()
