"""Every preset in core/resources/presets loads into a TrainConfig (each queued `runs` entry too, as
overrides over the top-level values) and builds its model, so a typo fails here, not an hour
into a queue."""
from pathlib import Path

import pytest
import yaml

from core.config import TrainConfig
from core.engine.setup import build_model

PRESETS = Path(__file__).resolve().parents[2] / "core" / "resources" / "presets"
FILES = sorted(PRESETS.glob("*.yaml"))


def configs(path: Path) -> list[TrainConfig]:
    """The preset's run(s): the top level alone, or each `runs` entry over the top level."""
    data = yaml.safe_load(path.read_text())
    assert isinstance(data, dict), f"{path.name}: a preset must be a mapping"
    runs = data.pop("runs", None)
    if runs is None:
        return [TrainConfig.from_dict(data)]
    assert isinstance(runs, list) and runs, f"{path.name}: `runs` must be a non-empty list"
    assert all(isinstance(r, dict) for r in runs), f"{path.name}: each run must be a mapping"
    return [TrainConfig.from_dict({**data, **run}) for run in runs]


def test_the_named_presets_exist():
    names = {p.stem for p in FILES}
    assert {"camvid-fast", "report-comparison"} <= names


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_preset_loads_and_builds(path):
    cfgs = configs(path)
    for cfg in cfgs:
        model = build_model(cfg, 11)
        assert model.arch == cfg.arch
    if len(cfgs) > 1:  # queued runs need distinct names (their run folders)
        names = [c.display_name for c in cfgs]
        assert len(set(names)) == len(names), f"{path.name}: duplicate run names {names}"


def test_camvid_fast_is_the_realtime_recipe():
    (cfg,) = configs(PRESETS / "camvid-fast.yaml")
    assert cfg.arch == "ddrnet23-slim" and cfg.augment == "strong" and not cfg.pretrained
    assert cfg.warmup_epochs > 0 and cfg.optimizer == "adamw"
    # trained on crops, scored on whole images (benchmarks/RESULTS.md, camvid-fast)
    assert cfg.crop_size is not None and cfg.crop_size[0] < cfg.image_size[0] and not cfg.holdout
    # the head takes the stem's 1/4-resolution features (benchmarks/RESULTS.md, camvid-fast)
    assert cfg.skip and type(build_model(cfg, 11).net.head).__name__ == "DetailFusion"


def test_report_comparison_covers_the_report():
    cfgs = configs(PRESETS / "report-comparison.yaml")
    assert {"baseline", "segformer", "unet", "deeplabv3"} <= {c.arch for c in cfgs}
    assert {"adam", "sgd", "rmsprop"} <= {c.optimizer for c in cfgs}
    assert {"ce", "wce", "dice", "focal"} <= {c.loss for c in cfgs}
    assert {"resnet18", "resnet50"} <= {c.encoder for c in cfgs if c.arch == "segformer"}
    assert all(c.epochs <= 2 for c in cfgs)
