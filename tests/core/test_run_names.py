"""One rule names a run: the CLI's preset folders, summary.json's name and the GUI's stamped
folders all come from core.run_names.display_name."""
from __future__ import annotations

import time

from core.config import TrainConfig
from core.presets import expand_runs
from core.run_names import display_name, run_name, unique_run_dir

NOON = time.mktime((2024, 5, 1, 12, 30, 0, 0, 0, -1))


def test_display_name_is_the_config_name_or_its_recipe():
    cfg = TrainConfig(arch="unet", encoder="resnet18", loss="ce+dice", optimizer="sgd")
    assert display_name(cfg) == "unet-resnet18-ce_dice-sgd" == cfg.display_name
    assert display_name(TrainConfig(arch="baseline", encoder="", loss="focal")) == "baseline-focal-adam"
    assert display_name(cfg.replace(name="my run/2 (b)")) == "myrun2b"  # safe as a folder name


def test_the_gui_folder_is_the_display_name_with_its_start_time(tmp_path):
    cfg = TrainConfig(arch="ddrnet23-slim", name="camvid-fast-ddrnet23slim")
    assert run_name(cfg, NOON) == "camvid-fast-ddrnet23slim-20240501-123000"
    first = unique_run_dir(tmp_path, cfg, NOON)
    first.mkdir()
    assert unique_run_dir(tmp_path, cfg, NOON).name == first.name + "-2"
    assert run_name(TrainConfig(name="/ /"), NOON) == "20240501-123000"  # nothing left of the name


def test_a_preset_queue_writes_each_run_to_its_display_name(tmp_path):
    runs = [{"arch": "unet", "loss": "ce+dice"}, {"name": "second", "arch": "baseline"}]
    configs = expand_runs({"out": str(tmp_path), "encoder": "resnet18"}, runs)
    assert [c.out for c in configs] == [str(tmp_path / "unet-resnet18-ce_dice-adam"),
                                        str(tmp_path / "second")]
