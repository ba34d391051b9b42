"""Training resumes from the last good checkpoint after the process is SIGKILLed mid-training.

A real `roadseg train` child is killed the moment epoch 1's checkpoints are on disk (so it dies
inside epoch 2, or while writing); `roadseg train --resume` then finishes the run: every epoch
recorded once, the summary written, last.pt at the final epoch.
"""
import json
import signal
import subprocess
import sys
import time

import pytest

from core.engine.checkpoint import load_checkpoint

from .conftest import ROOT, subprocess_env, train_argv

EPOCHS = "4"
CLI = "import sys; from core.cli import main; sys.exit(main())"


def _argv(data, out, *extra):
    argv = train_argv(data, out, *extra)
    argv[argv.index("--epochs") + 1] = EPOCHS
    return argv


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_sigkill_mid_training_then_resume_completes(tiny_data, tmp_path, capfd, monkeypatch):
    from core.cli import main

    out = tmp_path / "run"
    child = subprocess.Popen([sys.executable, "-c", CLI, *map(str, _argv(tiny_data, out))], cwd=ROOT,
                             env=subprocess_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 120
        while not ((out / "last.pt").exists() and (out / "best.pt").exists()):
            assert child.poll() is None, child.stderr.read().decode()[-2000:]
            assert time.monotonic() < deadline, "epoch 1 never finished"
            time.sleep(0.005)
        child.send_signal(signal.SIGKILL)
        assert child.wait(30) == -signal.SIGKILL
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        child.stderr.close()
    assert not (out / "summary.json").exists(), "the child finished before the kill: make epochs longer"
    killed_at = load_checkpoint(out / "last.pt")["epoch"]
    assert 1 <= killed_at < int(EPOCHS)

    capfd.readouterr()
    assert main([str(a) for a in _argv(tiny_data, out, "--resume")]) == 0
    printed = capfd.readouterr().out
    resumed_epochs = [int(line.split(":")[0].split()[1]) for line in printed.splitlines()
                      if line.startswith("epoch ")]
    assert resumed_epochs == list(range(killed_at + 1, int(EPOCHS) + 1))  # not from scratch
    lines = [json.loads(x) for x in (out / "metrics.jsonl").read_text().splitlines()]
    assert [x["epoch"] for x in lines] == list(range(1, int(EPOCHS) + 1))
    summary = json.loads((out / "summary.json").read_text())
    assert summary["cancelled"] is False and summary["best_epoch"] >= 1
    assert load_checkpoint(out / "last.pt")["epoch"] == int(EPOCHS)
    assert load_checkpoint(out / "best.pt")["epoch"] == summary["best_epoch"]
    print(f"\nresume: killed with last.pt at epoch {killed_at}, resumed epochs {resumed_epochs}",
          file=sys.stderr)


class _Killed(BaseException):
    """Stands for SIGKILL: nothing after it runs (the Trainer only catches Exception)."""


def test_kill_between_last_and_best_keeps_them_consistent(tiny_data, tmp_path, monkeypatch):
    """Whenever last.pt says epoch k was the best so far, best.pt must hold epoch k: a resumed
    run only rewrites best.pt when a later epoch beats k."""
    from core.config import TrainConfig
    from core.engine import checkpoint, trainer

    real = checkpoint.save_checkpoint

    def save(path, state):
        if path.name == "best.pt":
            raise _Killed  # the process dies right after the other checkpoint landed
        return real(path, state)

    monkeypatch.setattr(checkpoint, "save_checkpoint", save)
    cfg = TrainConfig(data=str(tiny_data), arch="baseline", epochs=2, batch_size=2, image_size=(32, 48),
                      augment="none", device="cpu", out=str(tmp_path / "run"))
    with pytest.raises(_Killed):
        trainer.Trainer(cfg).run()
    out = tmp_path / "run"
    if (out / "last.pt").exists():
        best_epoch = load_checkpoint(out / "last.pt")["best_epoch"]
        assert best_epoch < 1 or load_checkpoint(out / "best.pt")["epoch"] == best_epoch
