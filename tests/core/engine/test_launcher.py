"""Launcher pieces without torch.distributed: the command line, the environment, following
metrics.jsonl, and stopping a process group (gracefully, then with SIGKILL down to the workers)."""
from __future__ import annotations

import json
import os
import signal
import sys
import textwrap
import time

import pytest

from core.engine.launcher import REPO_ROOT, GroupProcess, MetricsFollower, launch_env, torchrun_command

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX process groups")


def test_command_line_single_node_and_rendezvous():
    cmd = torchrun_command("/tmp/c.yaml", 4, python="py")
    assert cmd == ["py", "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=4",
                   "-m", "core.cli", "train", "--config", "/tmp/c.yaml"]
    multi = torchrun_command("c.yaml", 8, resume=True, python="py",
                             torchrun_args=["--nnodes=2", "--rdzv_backend=c10d", "--rdzv_endpoint=h:29400"])
    assert "--standalone" not in multi and "--nnodes=2" in multi and multi[-1] == "--resume"
    with pytest.raises(ValueError):
        torchrun_command("c.yaml", 0)


def test_environment_makes_the_repo_importable_and_shares_cores():
    env = launch_env(2, cpu=True, base={"PYTHONPATH": "/x"})
    assert env["PYTHONPATH"].split(os.pathsep) == [str(REPO_ROOT), "/x"]
    assert int(env["OMP_NUM_THREADS"]) == max(1, (os.cpu_count() or 1) // 2)
    assert launch_env(2, cpu=True, base={"OMP_NUM_THREADS": "3"})["OMP_NUM_THREADS"] == "3"
    assert "OMP_NUM_THREADS" not in launch_env(2, cpu=False, base={})


def test_follower_returns_complete_new_records_once(tmp_path):
    path = tmp_path / "metrics.jsonl"
    f = MetricsFollower(path)
    assert f.poll() == []  # not written yet
    rec = lambda e, m: json.dumps({"epoch": e, "miou": m}) + "\n"  # noqa: E731
    path.write_text(rec(1, 0.1) + rec(2, 0.2)[:10])  # second line half written
    assert [r["epoch"] for r in f.poll()] == [1]
    with open(path, "a") as fh:
        fh.write(rec(2, 0.2)[10:])
    assert [r["epoch"] for r in f.poll()] == [2]
    assert f.poll() == []
    path.write_text(rec(1, 0.1))  # a resumed run truncated to epoch 1 ...
    assert f.poll() == []          # ... which was already returned with the same values
    with open(path, "a") as fh:
        fh.write(rec(2, 0.25))     # ... and trains epoch 2 again
    assert f.poll() == [{"epoch": 2, "miou": 0.25}]


def test_follower_ignores_a_file_from_an_earlier_run(tmp_path):
    path = tmp_path / "metrics.jsonl"
    path.write_text(json.dumps({"epoch": 1, "miou": 0.5}) + "\n")
    os.utime(path, (time.time() - 100, time.time() - 100))
    f = MetricsFollower(path, since=time.time() - 1)
    assert f.poll() == []
    path.write_text("")  # the new run starts its file
    assert f.poll() == []


def _script(tmp_path, body: str) -> list[str]:
    p = tmp_path / "fake.py"
    p.write_text(textwrap.dedent(body))
    return [sys.executable, str(p)]


def test_stop_is_graceful_when_the_group_obeys(tmp_path):
    cmd = _script(tmp_path, """
        import signal, sys, time
        signal.signal(signal.SIGINT, lambda *a: sys.exit(130))
        print("ready", flush=True)
        time.sleep(60)
    """)
    proc = GroupProcess(cmd, log_path=tmp_path / "log.txt")
    _wait_for(lambda: "ready" in proc.log_tail())
    t0 = time.monotonic()
    assert proc.stop(timeout=20) == 130
    assert time.monotonic() - t0 < 10


@pytest.mark.skipif(not os.path.isdir("/proc"), reason="finds workers through /proc")
def test_stop_escalates_to_sigkill_and_reaches_workers_in_their_own_sessions(tmp_path):
    pid_file = tmp_path / "worker.pid"
    cmd = _script(tmp_path, f"""
        import signal, subprocess, sys, time
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        worker = subprocess.Popen([sys.executable, "-c",
            "import signal, time; signal.signal(signal.SIGINT, signal.SIG_IGN); time.sleep(120)"],
            start_new_session=True)  # as torchrun starts its workers
        open({str(pid_file)!r}, "w").write(str(worker.pid))
        time.sleep(120)
    """)
    proc = GroupProcess(cmd)
    _wait_for(lambda: pid_file.exists() and pid_file.read_text())
    worker = int(pid_file.read_text())
    assert proc.stop(timeout=1.0) == -signal.SIGKILL
    _wait_for(lambda: not _alive(worker))


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"  # a zombie is dead
    except FileNotFoundError:
        return False


def _wait_for(cond, timeout: float = 30.0) -> None:
    end = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < end, "timed out"
        time.sleep(0.05)
