"""Fixtures for the robustness tests: a tiny dataset to break, a checkpoint to evaluate with, and
a CLI runner that reports what a person would see on the terminal (exit code, stderr lines)."""
import re
import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
# a tqdm bar: "desc:  25%|██   | 1/4 [00:00<00:01, 3.2img/s, loss=1.2]"
_BAR = re.compile(r"[^\r\n]*?\d+%\|[^\r\n|]*\|[^\r\n\]]*\]")


def train_argv(data, out, *extra) -> list[str]:
    """`roadseg train` on the tiny data with the smallest model, one epoch, no augmentation."""
    return ["train", "--data", str(data), "--arch", "baseline", "--epochs", "1", "--batch-size", "2",
            "--image-size", "32x48", "--augment", "none", "--device", "cpu", "--out", str(out), *extra]


def subprocess_env() -> dict:
    """Environment for `python -m core.cli` children: the repo importable, one torch thread each."""
    import os

    env = dict(os.environ, PYTHONPATH=str(ROOT), OMP_NUM_THREADS="1", PYTHONUNBUFFERED="1")
    return env


@pytest.fixture(scope="session")
def tiny_data(tmp_path_factory) -> Path:
    """6 synthetic road scenes 32x48 in the CamVid layout: 4 train, 2 val (copy before breaking)."""
    from core.data.synth import generate_synthetic

    return generate_synthetic(tmp_path_factory.mktemp("tiny") / "data", 6, (32, 48), seed=1,
                              val_fraction=1 / 3)


@pytest.fixture
def data_copy(tiny_data, tmp_path) -> Path:
    return Path(shutil.copytree(tiny_data, tmp_path / "data"))


@pytest.fixture(scope="session")
def tiny_checkpoint(tiny_data, tmp_path_factory) -> Path:
    from core.cli import main

    out = tmp_path_factory.mktemp("ckpt") / "run"
    assert main(train_argv(tiny_data, out)) == 0
    return out / "best.pt"


@pytest.fixture
def cli(capfd, monkeypatch):
    """Run `roadseg ARGV` in-process; return (exit code, stderr lines without progress bars).

    capfd captures at the file-descriptor level, so lines C libraries (libpng, OpenCV) print
    count too."""
    from core.cli import main

    def run(argv):  # TrainPrinter finds the capture's stdout when built (fix F4)
        capfd.readouterr()
        rc = main([str(a) for a in argv])
        sys.stderr.flush()
        err = _BAR.sub("", capfd.readouterr().err)
        lines = [seg.strip() for line in err.split("\n") for seg in line.split("\r")]
        return rc, [ln for ln in lines if ln]

    return run
