"""Ctrl+C in `roadseg train` stops within one step, saves last.pt, and exits with 130.

A real child trains a model whose step takes a few tenths of a second on a quiet 2-core CPU
(baseline at 128x192, batch 2); SIGINT is sent in the middle of a step of epoch 1. Two times are
measured from the signal: until the run has stopped (last.pt and summary written, "stopped"
printed), which the Trainer bounds by the rest of the current step plus the save, and until the
process has exited, which adds the interpreter's teardown of torch (about 0.3 s on a quiet machine,
several seconds on a heavily shared one). The GUI's Stop button is measured in
tests/guiapp/test_train_view.py::test_stop_cancels_and_keeps_last_checkpoint.
"""
import json
import re
import signal
import subprocess
import sys
import threading
import time

from core.engine.checkpoint import load_checkpoint

from .conftest import ROOT, subprocess_env

CLI = "import sys; from core.cli import main; sys.exit(main())"
LIMIT_S = 2.0


class _Tail:
    """Collects a pipe in a thread and notes when a pattern first appeared."""

    def __init__(self, pipe):
        self.data, self.seen = bytearray(), {}
        self._thread = threading.Thread(target=self._read, args=(pipe,), daemon=True)
        self._thread.start()

    def _read(self, pipe):
        for chunk in iter(lambda: pipe.read1(256), b""):
            self.data.extend(chunk)
            self.seen.setdefault(len(self.data), time.monotonic())

    def when(self, pattern: bytes) -> float | None:
        m = re.search(pattern, bytes(self.data))
        return None if m is None else min(t for n, t in self.seen.items() if n >= m.end())

    def text(self) -> str:
        return bytes(self.data).decode(errors="replace")


def test_ctrl_c_stops_training_quickly_with_last_checkpoint(synth_data, tmp_path):
    out = tmp_path / "run"
    argv = ["train", "--data", synth_data, "--arch", "baseline", "--epochs", "2", "--batch-size", "2",
            "--image-size", "128x192", "--augment", "none", "--device", "cpu", "--out", out]
    child = subprocess.Popen([sys.executable, "-c", CLI, *map(str, argv)], cwd=ROOT, env=subprocess_env(),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    stdout, stderr = _Tail(child.stdout), _Tail(child.stderr)
    try:
        deadline = time.monotonic() + 180
        step2 = rb"epoch 1:\s+\d+%\|[^|]*\| [2-4]/6"  # the bar after step 2 of 6
        while (t_step2 := stderr.when(step2)) is None:
            assert child.poll() is None, stderr.text()[-2000:]
            assert time.monotonic() < deadline, "training never reached step 2"
            time.sleep(0.01)
        time.sleep(max(0.0, t_step2 + 0.15 - time.monotonic()))  # inside step 3's compute
        sent = time.monotonic()
        child.send_signal(signal.SIGINT)
        rc = child.wait(60)
        exit_s = time.monotonic() - sent
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    time.sleep(0.1)  # let the readers drain the pipes
    stop_s = stdout.when(rb"stopped \(resume with --resume\)") - sent

    assert rc == 130, stderr.text()[-2000:]
    last = load_checkpoint(out / "last.pt")
    assert last["epoch"] == 0 and 2 <= last["epoch_step"] < 6  # stopped inside epoch 1
    step_s = last["train_seconds"] / last["epoch_step"]
    assert json.loads((out / "summary.json").read_text())["cancelled"] is True
    print(f"\nCtrl+C: run stopped {stop_s:.2f} s and process exited {exit_s:.2f} s after SIGINT "
          f"(mean step {step_s:.2f} s), last.pt at epoch 1 step {last['epoch_step']}", file=sys.stderr)
    # The promise is "the rest of one step + the save": under 2 s on a quiet 2-core machine.
    # A heavily shared CPU can stretch one step past that, so the bound allows for the step seen.
    assert stop_s < max(LIMIT_S, step_s + 1.0), (stop_s, step_s)
    assert exit_s < stop_s + 30  # teardown: slow under load, but never a hang
