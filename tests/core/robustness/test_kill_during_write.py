"""A process SIGKILLed while writing a checkpoint or a mask leaves a complete file behind.

Each trial forks a child process that rewrites one file in a loop (alternating two known
versions), kills it with SIGKILL at a random moment, then loads the file the way roadseg does
(`load_checkpoint`, `read_index_mask`): it must be exactly one of the versions, never a torn mix.
Forking (rather than starting a fresh interpreter) keeps a trial at a fraction of a second, since
the child inherits the imported torch; the kill is as real either way. The printed line is what
tests/RELIABILITY.md reports (run with -s to see it).
"""
import os
import random
import signal
import sys
import time

import numpy as np
import pytest
import torch

from core.data.io import read_index_mask, write_index_mask
from core.engine.checkpoint import load_checkpoint, remove_stale_temps, save_checkpoint

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork (POSIX)")
TRIALS = 40


def _kill_trials(path, write, read, versions, max_delay_s, trials=TRIALS):
    """Run fork-write-kill-read rounds; returns (failures, killed mid-write, newer seen)."""
    rng = random.Random(1234)
    failures, mid_write, progressed = [], 0, 0
    for trial in range(trials):
        pid = os.fork()
        if pid == 0:  # child: write versions 1, 0, 1, 0, ... until killed
            try:
                i = 1
                while True:
                    write(path, versions[i % 2])
                    i += 1
            finally:
                os._exit(1)
        time.sleep(rng.uniform(0.0, max_delay_s))
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        leftovers = list(path.parent.glob(f".{path.name}.*.tmp"))
        mid_write += bool(leftovers)
        for tmp in leftovers:  # tidy for the next trial (save_checkpoint does this when they age)
            tmp.unlink()
        try:
            got = read(path)
            which = [k for k, v in enumerate(versions) if _same(got, v)]
            if not which:
                failures.append((trial, "content matches neither version"))
            progressed += which != [0]
        except Exception as e:  # noqa: BLE001 - any failure to load is what we count
            failures.append((trial, repr(e)))
        write(path, versions[0])  # every trial starts from version 0 again
    return failures, mid_write, progressed


def _same(a, b) -> bool:
    if isinstance(a, np.ndarray):
        return a.shape == b.shape and bool((a == b).all())
    return torch.equal(a, b)


def test_sigkill_while_saving_checkpoint_keeps_a_loadable_file(tmp_path):
    path = tmp_path / "last.pt"
    versions = [torch.full((1_000_000,), float(k)) for k in (0, 1)]  # 4 MB of weights each

    def write(p, w):
        save_checkpoint(p, {"model": {"w": w}, "epoch": int(w[0])})

    def read(p):
        state = load_checkpoint(p)
        assert state["epoch"] == int(state["model"]["w"][0])
        return state["model"]["w"]

    write(path, versions[0])
    failures, mid_write, progressed = _kill_trials(path, write, read, versions, 0.25)
    print(f"\ncheckpoint: {TRIALS} SIGKILLs, {mid_write} mid-write (temp file left), "
          f"{progressed} after a newer version landed, {len(failures)} failures", file=sys.stderr)
    assert failures == []
    assert mid_write > 0 and progressed > 0  # the kills did land during writes, and after them


def test_the_harness_catches_a_plain_write(tmp_path):
    """Control: the same kills against a non-atomic `torch.save(state, path)` do leave torn files,
    so the zero above means the atomic write works, not that the kills missed."""
    path = tmp_path / "plain.pt"
    versions = [torch.full((1_000_000,), float(k)) for k in (0, 1)]

    def write(p, w):
        torch.save({"format": "roadseg-checkpoint", "version": 1, "model": {"w": w}}, p)

    write(path, versions[0])
    failures, _, _ = _kill_trials(path, write, lambda p: load_checkpoint(p)["model"]["w"], versions,
                                  0.25, trials=15)
    print(f"\nplain torch.save: 15 SIGKILLs, {len(failures)} torn files", file=sys.stderr)
    assert failures


def test_sigkill_while_saving_mask_keeps_a_readable_file(tmp_path):
    path = tmp_path / "labels" / "frame.png"
    rng = np.random.default_rng(0)
    versions = [rng.integers(0, 12, (720, 960), dtype=np.uint8) for _ in range(2)]  # ~0.5 MB PNGs
    write_index_mask(path, versions[0])
    failures, mid_write, progressed = _kill_trials(path, write_index_mask, read_index_mask, versions, 0.2)
    print(f"\nmask: {TRIALS} SIGKILLs, {mid_write} mid-write (temp file left), "
          f"{progressed} after a newer version landed, {len(failures)} failures", file=sys.stderr)
    assert failures == []
    assert mid_write > 0 and progressed > 0


def test_next_save_removes_temps_of_killed_writers(tmp_path):
    path = save_checkpoint(tmp_path / "last.pt", {"epoch": 1})
    old = tmp_path / ".last.pt.abc123.tmp"
    fresh = tmp_path / ".last.pt.def456.tmp"  # could still be a live writer's: kept
    other = tmp_path / ".best.pt.abc123.tmp"  # another checkpoint's: not this save's business
    for f in (old, fresh, other):
        f.write_bytes(b"half a checkpoint")
    an_hour_ago = time.time() - 3600
    os.utime(old, (an_hour_ago, an_hour_ago))
    os.utime(other, (an_hour_ago, an_hour_ago))
    save_checkpoint(path, {"epoch": 2})
    assert not old.exists() and fresh.exists() and other.exists()
    assert load_checkpoint(path)["epoch"] == 2
    assert remove_stale_temps(path, older_than_s=-1) == 1 and not fresh.exists()
