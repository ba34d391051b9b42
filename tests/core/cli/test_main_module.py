"""`python -m core.cli` (what torchrun starts) leaves through core.cli.entry like the `roadseg`
script: without the interpreter's teardown of torch, yet with its output flushed and its exit
code kept."""
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def run(*args):
    return subprocess.run([sys.executable, "-m", "core.cli", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)


def test_output_is_flushed_and_the_exit_code_kept(tmp_path):
    done = run("--help")
    assert done.returncode == 0 and "label-issues" in done.stdout
    done = run("label-issues", "--data", str(tmp_path / "missing"), "--checkpoint", str(tmp_path / "x.pt"))
    assert done.returncode == 2
    assert done.stderr.strip().splitlines()[-1].startswith("roadseg: error:")


def test_it_leaves_without_the_interpreters_teardown():
    code = ("import atexit, runpy, sys; atexit.register(print, 'teardown ran'); "
            "sys.argv = ['roadseg', 'label-issues', '--data', 'missing']; "
            "runpy.run_module('core.cli', run_name='__main__')")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "roadseg: error:" in done.stderr
    assert "teardown ran" not in done.stdout  # os._exit: no atexit handlers, no module teardown
