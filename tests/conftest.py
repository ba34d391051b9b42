"""Shared fixtures. Qt runs offscreen (no display in CI) and torch uses at most 2 threads."""
import os
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest  # noqa: E402
import torch  # noqa: E402

torch.set_num_threads(min(2, os.cpu_count() or 1))

CAMVID = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "camvid"


@pytest.fixture(scope="session")
def synth_data(tmp_path_factory) -> Path:
    """A tiny synthetic road-scene dataset in the CamVid layout (16 images, 64x96)."""
    from core.data.synth import generate_synthetic

    out = tmp_path_factory.mktemp("synth") / "demo"
    generate_synthetic(out, count=16, size=(64, 96), seed=0, val_fraction=0.25)
    return out


@pytest.fixture(scope="session")
def camvid_root() -> Path:
    """The real CamVid data beside the repo (CI has it); tests that need it skip without it."""
    if not (CAMVID / "train").is_dir():
        pytest.skip(f"CamVid not found at {CAMVID}")
    return CAMVID
