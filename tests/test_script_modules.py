"""The scripts in benchmarks/, research/ and tools/ run from the repository root as modules
(`python -m benchmarks.bench_train`): every folder is a package, no script edits sys.path, and
each one imports in a fresh interpreter, so a moved file or a stale import fails here rather than
at the next measurement."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FOLDERS = ("benchmarks", "research", "tools")


def script_modules() -> list[str]:
    """Dotted names of every script module under FOLDERS (package markers left out)."""
    return [".".join(p.relative_to(ROOT).with_suffix("").parts)
            for folder in FOLDERS for p in sorted((ROOT / folder).rglob("*.py"))
            if p.name != "__init__.py"]


@pytest.mark.parametrize("folder", FOLDERS)
def test_every_folder_with_scripts_is_a_package(folder):
    dirs = [ROOT / folder, *(d for d in (ROOT / folder).rglob("*") if d.is_dir())]
    missing = [str(d.relative_to(ROOT)) for d in dirs
               if any(d.glob("*.py")) and not (d / "__init__.py").is_file()]
    assert not missing, f"no __init__.py, so `python -m` cannot reach their scripts: {missing}"


@pytest.mark.parametrize("folder", FOLDERS)
def test_no_script_edits_sys_path(folder):
    offenders = [f"{p.relative_to(ROOT)}:{i}" for p in sorted((ROOT / folder).rglob("*.py"))
                 for i, line in enumerate(p.read_text().splitlines(), 1) if "sys.path" in line]
    assert not offenders, f"run the script as a module instead of editing sys.path: {offenders}"


def test_every_script_imports_as_a_module():
    modules = script_modules()
    assert {"benchmarks.bench_train", "research.class_errors",
            "tools.screenshots.train_screenshot"} <= set(modules)
    # a script (it has a __main__ guard) must expose main(); helpers like benchmarks._common need not
    check = ("import importlib, inspect, sys\n"
             "for name in sys.argv[1:]:\n"
             "    mod = importlib.import_module(name)\n"
             "    if '__main__' in inspect.getsource(mod):\n"
             "        assert callable(getattr(mod, 'main', None)), name + ': no main()'\n")
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "OMP_NUM_THREADS": "1"}
    done = subprocess.run([sys.executable, "-c", check, *modules], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
