"""Start `roadseg train` under torchrun from another program (the GUI), follow it, stop it.

A GUI process cannot host N training processes, so it starts torchrun as a child in a session of
its own and reads what rank 0 writes anyway: `metrics.jsonl` for the live curves, `summary.json`
at the end. Nothing else crosses the process boundary, and the same run folder results as from
`torchrun ... roadseg train` typed in a terminal.

Stopping: torchrun starts each worker in a session of its own too, and forwards the signal it
gets to them. So `stop()` sends SIGINT to torchrun's group (each rank stops after the current
step, rank 0 saves last.pt, as with Ctrl+C), waits, and only then SIGKILLs torchrun's group and
every process below it (collected from /proc first, since orphaned workers would lose the link).
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import core

REPO_ROOT = Path(core.__file__).resolve().parents[1]


def torchrun_command(config_path: str | Path, nproc: int, *, resume: bool = False,
                     torchrun_args: tuple[str, ...] | list[str] = (),
                     python: str | None = None) -> list[str]:
    """`python -m torch.distributed.run --standalone --nproc_per_node N -m core.cli train ...`.

    `--standalone` (one machine, rendezvous on a free local port) unless `torchrun_args` says
    otherwise (e.g. ["--nnodes=2", "--rdzv_backend=c10d", "--rdzv_endpoint=host:29400"])."""
    if int(nproc) < 1:
        raise ValueError(f"need at least one process, got {nproc}")
    extra = list(torchrun_args)
    rendezvous = any(a.split("=")[0] in ("--nnodes", "--rdzv_endpoint", "--master_addr",
                                         "--master_port") for a in extra)
    cmd = [python or sys.executable, "-m", "torch.distributed.run"]
    cmd += ([] if rendezvous else ["--standalone"]) + [f"--nproc_per_node={int(nproc)}"] + extra
    cmd += ["-m", "core.cli", "train", "--config", str(config_path)]
    return cmd + (["--resume"] if resume else [])


def launch_env(nproc: int, cpu: bool, base: dict | None = None) -> dict:
    """Environment for torchrun: the repo importable, unbuffered output, and on CPU the cores
    shared out among the processes (torchrun's default is one thread each)."""
    env = dict(os.environ if base is None else base)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO_ROOT), env.get("PYTHONPATH", "")) if p)
    env["PYTHONUNBUFFERED"] = "1"
    if cpu and "OMP_NUM_THREADS" not in env:
        env["OMP_NUM_THREADS"] = str(max(1, (os.cpu_count() or 1) // max(1, int(nproc))))
    return env


def _descendants(pid: int) -> list[int]:
    """Every process below `pid` (Linux /proc; empty elsewhere)."""
    children: dict[int, list[int]] = {}
    try:
        entries = [d for d in os.listdir("/proc") if d.isdigit()]
    except OSError:
        return []
    for d in entries:
        try:
            with open(f"/proc/{d}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(d))
    found, todo = [], [pid]
    while todo:
        kids = children.get(todo.pop(), [])
        found += kids
        todo += kids
    return found


class GroupProcess:
    """A command in a new session (its own process group), stoppable with everything it started."""

    def __init__(self, cmd: list[str], *, env: dict | None = None, cwd: str | Path | None = None,
                 log_path: str | Path | None = None):
        self.cmd = list(cmd)
        self.log_path = Path(log_path) if log_path else None
        log = open(self.log_path, "wb") if self.log_path else subprocess.DEVNULL
        try:
            self.proc = subprocess.Popen(self.cmd, env=env, cwd=cwd, stdin=subprocess.DEVNULL,
                                         stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        finally:
            if self.log_path:
                log.close()  # the child holds its own descriptor
        self.stop_requested_at: float | None = None

    @property
    def pid(self) -> int:
        return self.proc.pid

    def poll(self) -> int | None:
        return self.proc.poll()

    def wait(self, timeout: float | None = None) -> int | None:
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def request_stop(self, sig: int = signal.SIGINT) -> None:
        """Ask the group to stop (non-blocking; the first call counts)."""
        if self.stop_requested_at is None:
            self.stop_requested_at = time.monotonic()
        self._signal_group(self.pid, sig)

    def kill(self) -> None:
        """SIGKILL the group and every process below it, each worker's own group included."""
        below = _descendants(self.pid)
        self._signal_group(self.pid, signal.SIGKILL)
        for pid in below:
            if not self._signal_group(pid, signal.SIGKILL):
                try:
                    os.kill(pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
        self.wait(10)

    def stop(self, timeout: float = 60.0, sig: int = signal.SIGINT) -> int | None:
        """Graceful stop (`sig`), then SIGKILL after `timeout` seconds; returns the exit code."""
        if self.poll() is None:
            self.request_stop(sig)
            if self.wait(timeout) is None:
                self.kill()
        return self.poll()

    def log_tail(self, lines: int = 40) -> str:
        if self.log_path is None or not self.log_path.exists():
            return ""
        with open(self.log_path, "rb") as f:
            f.seek(max(0, f.seek(0, os.SEEK_END) - 64_000))
            text = f.read().decode("utf-8", "replace").replace("\r", "\n")
        return "\n".join([ln for ln in text.splitlines() if ln.strip()][-lines:])

    @staticmethod
    def _signal_group(pid: int, sig: int) -> bool:
        """Signal the group `pid` leads; never our own group. False when it is not a leader."""
        try:
            pgid = os.getpgid(pid)
            if pgid != pid or pgid == os.getpgrp():
                return False
            os.killpg(pgid, sig)
            return True
        except (ProcessLookupError, PermissionError):
            return False


class MetricsFollower:
    """Tails a run's metrics.jsonl: `poll()` returns the epoch records that appeared since.

    Only complete lines count (rank 0 may be mid-write). When the file shrinks (a resumed run
    drops the epochs its checkpoint lacks) it is read again from the start; a record is returned
    again only if it differs from the one already returned for that epoch. Files older than
    `since` (a time.time() value) are ignored: they belong to an earlier run.
    """

    def __init__(self, path: str | Path, since: float | None = None):
        self.path = Path(path)
        self.since = since
        self._offset = 0
        self._partial = b""
        self._seen: dict = {}

    def poll(self) -> list[dict]:
        try:
            st = self.path.stat()
        except OSError:
            return []
        if self.since is not None and st.st_mtime < self.since:
            return []
        if st.st_size < self._offset:
            self._offset, self._partial = 0, b""
        try:
            with open(self.path, "rb") as f:
                f.seek(self._offset)
                data = f.read()
        except OSError:
            return []
        self._offset += len(data)
        *lines, self._partial = (self._partial + data).split(b"\n")
        out = []
        for line in lines:
            try:
                rec = json.loads(line)
            except ValueError:
                continue
            if isinstance(rec, dict) and self._seen.get(rec.get("epoch")) != rec:
                self._seen[rec.get("epoch")] = rec
                out.append(rec)
        return out

    def __iter__(self):
        """Yield records as they appear, forever (callers stop when the process has ended)."""
        while True:
            yield from self.poll()
            time.sleep(0.5)
