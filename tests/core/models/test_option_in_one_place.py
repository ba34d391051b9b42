"""A model option is declared once, by the architecture that has it: registering a new
architecture with a new boolean option (here, in the test) is enough for the option to reach
config loading, the CLI, the Train form, summary.json and the runs table."""
from __future__ import annotations

import json
import warnings

import pytest
import torch
import yaml
from torch import nn

from core.config import TrainConfig
from core.models.option_spec import DROPOUT, Option
from core.models.registry import _REGISTRY, Built, create_model, register_model

GATE = Option("gate", "bool", False, "multiply the logits by a learnt scalar gate",
              label="Logit gate")


class _Gated(nn.Module):
    def __init__(self, num_classes: int, gate: bool):
        super().__init__()
        self.conv = nn.Conv2d(3, num_classes, 1)
        self.gate = nn.Parameter(torch.tensor(0.5)) if gate else None

    def forward(self, x):
        y = self.conv(x)
        return y * self.gate if self.gate is not None else y


@pytest.fixture
def gated_arch():
    @register_model("toy-gated", encoders=("none",), default_encoder="none",
                    options=(DROPOUT, GATE), description="a 1x1 conv with an optional gate")
    def build(num_classes, encoder, *, dropout, gate):
        return Built(_Gated(num_classes, gate))

    yield "toy-gated"
    _REGISTRY.pop("toy-gated", None)


def test_the_builder_gets_the_option_and_other_archs_refuse_it(gated_arch):
    on, off = create_model(gated_arch, 2, gate=True), create_model(gated_arch, 2)
    assert on.options["gate"] is True and off.options["gate"] is False
    assert sum(p.numel() for p in on.parameters()) == sum(p.numel() for p in off.parameters()) + 1
    from core.errors import ModelError
    with pytest.raises(ModelError, match="gate=True does not apply to 'unet'"):
        create_model("unet", 2, gate=True)


def test_config_loads_the_option_flat_or_nested_and_round_trips(gated_arch, tmp_path):
    flat = TrainConfig.from_dict({"arch": gated_arch, "gate": True})
    assert flat.gate is True and flat.model_options["gate"] is True
    nested = TrainConfig.from_dict({"arch": gated_arch, "model_options": {"gate": True}})
    assert nested == flat
    path = tmp_path / "config.yaml"
    flat.to_yaml(path)
    assert yaml.safe_load(path.read_text())["model_options"]["gate"] is True
    assert TrainConfig.from_yaml(path) == flat
    assert TrainConfig(arch=gated_arch).gate is False  # the spec's default


def test_cli_has_a_flag_for_it(gated_arch, tmp_path):
    from core.cli.commands import configs_from_args
    from core.cli.main import build_parser

    args = build_parser().parse_args(["train", "--arch", gated_arch, "--gate", "--data", "d",
                                      "--out", str(tmp_path / "r")])
    assert args.gate is True
    (cfg,) = configs_from_args(args)
    assert cfg.gate is True
    assert "--gate" in build_parser()._subparsers._group_actions[0].choices["train"].format_help()


def test_train_form_offers_it_only_for_its_architecture(gated_arch, qtbot):
    from PySide6.QtWidgets import QCheckBox

    from guiapp.widgets.train_form import MODEL_KEYS, TrainForm

    form = TrainForm()
    qtbot.addWidget(form)
    box = form.options["gate"]
    assert isinstance(box, QCheckBox) and box.text() == "Logit gate" and "gate" in MODEL_KEYS
    form.arch.setCurrentText("unet")
    assert not box.isEnabled() and "does not apply to unet" in box.statusTip()
    form.arch.setCurrentText(gated_arch)
    assert box.isEnabled() and form.build_config().gate is False
    with qtbot.waitSignal(form.model_changed):
        box.setChecked(True)
    cfg = form.build_config()
    assert cfg.gate is True and cfg.arch == gated_arch
    form.set_config(TrainConfig(arch=gated_arch))
    assert not box.isChecked()
    form.set_config(cfg)
    assert box.isChecked()


def test_summary_and_runs_table_show_it(gated_arch, tmp_path):
    from core.runs import list_runs, runs_table, table_to_markdown, write_summary

    run = tmp_path / "gated"
    run.mkdir()
    cfg = TrainConfig(arch=gated_arch).replace(gate=True, dropout=0.1)
    cfg.to_yaml(run / "config.yaml")
    write_summary(run, cfg, best_miou=0.5, best_epoch=1, scores={}, gflops=1.0, params=10,
                  efficiency=50.0, train_seconds=6.0, images_per_s=1.0, device="cpu",
                  precision="fp32", cancelled=False)
    assert json.loads((run / "summary.json").read_text())["gate"] is True
    (row,) = runs_table(list_runs(tmp_path))
    assert row["options"] == "dropout=0.1, gate"
    assert "dropout=0.1, gate" in table_to_markdown([row])


def test_renamed_options_still_read_under_their_old_names():
    """DDRNet's `skip` is now `quarter_skip`, `detail` is `boundary_head`: old run folders,
    keyword arguments and flags still work, with a warning naming the new key."""
    with pytest.warns(DeprecationWarning, match="'detail' is now called 'boundary_head'"):
        cfg = TrainConfig.from_dict({"arch": "ddrnet23-slim", "skip": False, "detail": True})
    assert cfg.model_options["quarter_skip"] is False and cfg.boundary_head is True
    assert cfg.skip is False and cfg.detail is True  # old attribute names read the new keys
    with pytest.warns(DeprecationWarning, match="'skip' is now called 'quarter_skip'"):
        model = create_model("ddrnet23-slim", 3, skip=False)
    assert model.options["quarter_skip"] is False
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        unet = TrainConfig.from_dict({"arch": "unet", "skip": False})  # unet's skip: no rename
    assert unet.skip is False and unet.model_options["quarter_skip"] is True
    from core.cli.main import build_parser

    assert build_parser().parse_args(["train", "--detail"]).detail is True  # hidden alias
