"""The built wheel works on its own: installed (not editable) into a fresh venv, run from a folder
outside the checkout, it trains with a shipped preset, starts the GUI's entry point, finds its
icon and desktop-entry template, and imports `core` from the venv, not from the source tree.

The fresh venv sees the project venv's site-packages through a .pth line (torch and friends are
gigabytes; reinstalling them proves nothing about this project's packaging). Site directories
named in a .pth line are not scanned for .pth files themselves, so the checkout's editable-install
hook in that folder stays inactive and the checkout cannot leak in.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
PACKAGING = ("pyproject.toml", "README.md", "core", "guiapp")


def run(argv, cwd, env, timeout=600) -> subprocess.CompletedProcess:
    proc = subprocess.run([str(a) for a in argv], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout)
    assert proc.returncode == 0, f"{argv} failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """(venv dir, its python, an environment without the checkout) with the wheel installed."""
    tmp = tmp_path_factory.mktemp("wheel")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    env.update(QT_QPA_PLATFORM="offscreen", OMP_NUM_THREADS="1", PYTHONNOUSERSITE="1",
               HOME=str(tmp / "home"), XDG_DATA_HOME=str(tmp / "share"))

    # build from a copy, so the shared checkout gets no build/ or egg-info folder
    src = tmp / "src"
    for name in PACKAGING:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, src / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            src.mkdir(exist_ok=True)
            shutil.copy2(ROOT / name, src / name)
    dist = tmp / "dist"
    run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
         "-q", "-w", dist, src], cwd=tmp, env=env)
    (wheel,) = dist.glob("roadseg-*.whl")

    target = tmp / "venv"
    venv.EnvBuilder(with_pip=False).create(target)
    python = target / "bin" / "python"
    site = Path(run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                    cwd=tmp, env=env).stdout.strip())
    (site / "project-venv-deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    # --ignore-installed: the checkout's editable roadseg is visible through the .pth; never touch it
    run([python, "-m", "pip", "install", "-q", "--no-deps", "--no-index", "--ignore-installed", wheel],
        cwd=tmp, env=env)
    return target, python, env, wheel, tmp


def test_wheel_ships_presets_icons_and_desktop_template(installed):
    *_, wheel, _tmp = installed
    names = set(zipfile.ZipFile(wheel).namelist())
    for f in ("core/resources/presets/camvid-fast.yaml", "core/resources/presets/report-comparison.yaml",
              "guiapp/resources/roadseg.svg", "guiapp/resources/roadseg.png",
              "guiapp/resources/roadseg.desktop.in"):
        assert f in names, f"{f} missing from {wheel.name}"
    assert not any(n.startswith(("tests/", "benchmarks/")) for n in names)


def test_core_and_guiapp_import_from_the_venv(installed):
    target, python, env, _wheel, tmp = installed
    out = run([python, "-c", "import core, guiapp; print(core.__file__); print(guiapp.__file__)"],
              cwd=tmp, env=env).stdout.split()
    for path in out:
        assert Path(path).is_relative_to(target), path
        assert not Path(path).is_relative_to(ROOT), path


def test_cli_trains_a_preset_outside_the_checkout(installed, synth_data):
    target, _python, env, _wheel, tmp = installed
    work = tmp / "cwd"
    work.mkdir()
    run([target / "bin" / "roadseg", "train", "--preset", "camvid-fast", "--data", synth_data,
         "--epochs", "1", "--time-budget", "0", "--image-size", "64x96", "--crop-size", "48x64",
         "--holdout", "", "--batch-size", "4", "--device", "cpu", "--precision", "fp32",
         "--workers", "0", "--out", "run"], cwd=work, env=env)
    run_dir = work / "run"
    for f in ("config.yaml", "metrics.jsonl", "last.pt", "best.pt", "summary.json"):
        assert (run_dir / f).is_file(), f
    lines = (run_dir / "metrics.jsonl").read_text().splitlines()
    assert [json.loads(line)["epoch"] for line in lines] == [1]
    summary = json.loads((run_dir / "summary.json").read_text())
    assert 0.0 <= summary["best_miou"] <= 1.0
    import yaml

    config = yaml.safe_load((run_dir / "config.yaml").read_text())
    assert config["arch"] == "ddrnet23-slim" and config["loss"] == "ohem+dice"  # the preset's


def test_gui_entry_point_icon_and_desktop_entry(installed):
    target, python, env, _wheel, tmp = installed
    help_text = run([target / "bin" / "roadseg-gui", "--help"], cwd=tmp, env=env).stdout
    assert "--install-desktop-entry" in help_text
    probe = ("from PySide6.QtGui import QGuiApplication; app = QGuiApplication([]); "
             "from guiapp.app_icon import app_icon, icon_png; icon = app_icon(); "
             "print(icon_png()); print(icon.isNull(), icon.pixmap(48, 48).width())")
    png, state = run([python, "-c", probe], cwd=tmp, env=env).stdout.strip().splitlines()
    assert Path(png).is_relative_to(target) and Path(png).is_file()
    assert state == "False 48"

    run([target / "bin" / "roadseg-gui", "--install-desktop-entry"], cwd=tmp, env=env)
    desktop = (tmp / "share" / "applications" / "roadseg.desktop").read_text()
    assert f"Exec={target / 'bin' / 'roadseg-gui'}\n" in desktop
    assert (tmp / "share" / "icons" / "hicolor" / "256x256" / "apps" / "roadseg.png").is_file()
