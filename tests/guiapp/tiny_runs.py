"""A runs folder made by really training tiny runs, shared by the experiments/evaluate tests.

Trained once per test session (memoised here, because a session fixture imported into several
test modules would run once per module): one baseline run, 1 epoch at 32x48 on `synth_data`.
Tests that need more rows copy it and edit the copy's summary/config (`fake_copy`).
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

_CACHE: dict[str, Path] = {}


def train_tiny(out: Path, data: Path, **changes) -> Path:
    from core.config import TrainConfig
    from core.engine.trainer import Trainer

    cfg = TrainConfig(data=str(data), arch="baseline", epochs=1, batch_size=4, image_size=(32, 48),
                      augment="none", device="cpu", precision="fp32", workers=0, seed=0,
                      out=str(out), name=out.name, **changes)
    Trainer(cfg).run()
    return out


def tiny_runs(tmp_path_factory, synth_data: Path) -> Path:
    """runs/ holding one real run, `base-adam` — trained once per session. Do not modify."""
    key = str(synth_data)
    if key not in _CACHE:
        root = tmp_path_factory.mktemp("runs")
        train_tiny(root / "base-adam", synth_data, optimizer="adam", lr=1e-2)
        _CACHE[key] = root
    return _CACHE[key]


def fake_copy(src: Path, dst: Path, config: dict | None = None, **summary_changes) -> Path:
    """A copy of a real run with some summary.json / config.yaml values replaced."""
    import yaml

    shutil.copytree(src, dst)
    s = json.loads((dst / "summary.json").read_text())
    s.update(summary_changes)
    (dst / "summary.json").write_text(json.dumps(s))
    if config:
        c = yaml.safe_load((dst / "config.yaml").read_text())
        c.update(config)
        (dst / "config.yaml").write_text(yaml.safe_dump(c, sort_keys=False))
    return dst
