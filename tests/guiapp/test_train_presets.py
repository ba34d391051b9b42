"""Train tab presets and data options: a preset loads into the form (values without a widget
survive build_config), crops and hold-out map to the config, a queue preset fills the run queue,
and a broken preset file is reported in a dialog instead of crashing."""
from __future__ import annotations

import pytest
import yaml

from core.config import TrainConfig
from core.presets import PRESETS_DIR
from guiapp.widgets.preset_picker import CUSTOM, PresetPicker


def preset_yaml(name: str) -> dict:
    return yaml.safe_load((PRESETS_DIR / f"{name}.yaml").read_text())


@pytest.fixture
def view(train_view):
    return train_view


def test_presets_are_listed_after_custom(view):
    combo = view.presets.combo
    assert combo.itemText(0) == CUSTOM
    assert {"camvid-fast", "report-comparison"} <= set(view.presets.names())


def test_single_run_preset_loads_into_the_form(view, errors):
    values = preset_yaml("camvid-fast")
    view.presets.select("camvid-fast")
    f = view.form
    assert f.arch.currentText() == "ddrnet23-slim" == values["arch"]
    assert f.augment.currentText() == "strong" == values["augment"]
    assert f.quarter_skip.isEnabled() and f.quarter_skip.isChecked() == values["quarter_skip"]  # DDRNet's 1/4 skip
    assert f.boundary_head.isEnabled() and f.boundary_head.isChecked() == values["boundary_head"]
    assert f.time_budget.value() == values["time_budget"]
    cfg = view.build_config()
    for key in ("weight_decay", "warmup_epochs", "seed", "name", "loss", "optimizer", "schedule",
                "epochs", "batch_size", "quarter_skip", "boundary_head", "time_budget"):
        want = values[key]
        assert getattr(cfg, key) == (pytest.approx(want) if isinstance(want, float) else want), key
    assert cfg.image_size == tuple(values["image_size"]) and cfg.lr == pytest.approx(values["lr"])
    assert cfg.data == str(view.state.source.root)  # the open dataset stays
    assert view.presets.combo.currentText() == "camvid-fast" and not errors
    assert view.queue.entries == []


def test_crop_and_holdout_round_trip(view):
    f = view.form
    f.set_config(TrainConfig(crop_size=(128, 192), holdout="0006R0,0016E5", weight_decay=0.05))
    assert f.crop.isChecked() and f.crop_h.isEnabled()
    assert (f.crop_h.value(), f.crop_w.value()) == (128, 192)
    assert f.holdout.text() == "0006R0,0016E5"
    cfg = f.build_config()
    assert cfg.crop_size == (128, 192) and cfg.holdout == "0006R0,0016E5"
    assert cfg.weight_decay == pytest.approx(0.05)
    f.set_config(TrainConfig())
    assert not f.crop.isChecked() and not f.crop_h.isEnabled() and f.holdout.text() == ""
    cfg = f.build_config()
    assert cfg.crop_size is None and cfg.holdout == ""


def test_crop_checkbox_and_holdout_field_change_the_config(qtbot, view):
    f = view.form
    assert f.build_config().crop_size is None and not f.crop_w.isEnabled()
    with qtbot.waitSignal(f.changed, timeout=1000):
        f.crop.setChecked(True)
    assert f.crop_h.isEnabled() and f.crop_w.isEnabled()
    f.crop_h.setValue(96)
    f.crop_w.setValue(160)
    assert view.build_config().crop_size == (96, 160)
    with qtbot.waitSignal(f.changed, timeout=1000):
        f.holdout.setText(" 0006R0 , 0001TP ,")
    assert view.build_config().holdout == "0006R0,0001TP"
    f.crop.setChecked(False)
    f.holdout.clear()
    cfg = view.build_config()
    assert cfg.crop_size is None and cfg.holdout == ""


def test_rare_crop_field_needs_a_crop_and_maps_to_the_config(qtbot, view):
    f = view.form
    f.set_config(TrainConfig(augment="light"))
    assert not f.rare_crop.isEnabled() and f.build_config().rare_crop == 0.0
    f.crop.setChecked(True)
    assert f.rare_crop.isEnabled()
    with qtbot.waitSignal(f.changed, timeout=1000):
        f.rare_crop.setValue(40)
    assert f.build_config().rare_crop == pytest.approx(0.4)
    f.crop.setChecked(False)  # no crop to aim, and light augmentation has none of its own
    assert not f.rare_crop.isEnabled() and f.build_config().rare_crop == 0.0
    f.augment.setCurrentText("strong")  # strong crops by itself
    assert f.rare_crop.isEnabled() and f.build_config().rare_crop == pytest.approx(0.4)
    f.set_config(TrainConfig(crop_size=(128, 192), rare_crop=0.25))
    assert f.rare_crop.value() == 25 and f.build_config().rare_crop == pytest.approx(0.25)


def test_widgets_win_over_the_preset_base(view):
    view.presets.select("camvid-fast")
    view.form.arch.setCurrentText("unet")
    view.form.epochs.setValue(3)
    cfg = view.build_config()
    assert (cfg.arch, cfg.epochs) == ("unet", 3)
    assert cfg.weight_decay == pytest.approx(preset_yaml("camvid-fast")["weight_decay"])


def test_queue_preset_fills_the_run_queue(view, errors):
    values = preset_yaml("report-comparison")
    names = [r["name"] for r in values["runs"]]
    view.form.device.setCurrentText("cpu")
    before = view.build_config()
    view.presets.select("report-comparison")
    entries = view.queue.entries
    assert len(entries) == len(values["runs"])
    assert [cfg.name for cfg, _ in entries] == names
    assert all(status == "pending" for _, status in entries)
    for (cfg, _), run in zip(entries, values["runs"]):
        assert cfg.arch == run["arch"]
        assert cfg.optimizer == run.get("optimizer", values["optimizer"])
        assert cfg.image_size == tuple(values["image_size"])
        assert cfg.data == str(view.state.source.root) and cfg.device == "cpu"
        assert cfg.workers == 0
    assert names[0] in view.queue.list.item(0).text()
    assert view.start_btn.text() == f"Start queue ({len(names)})"
    assert view.build_config() == before  # the form itself is unchanged
    assert view.presets.combo.currentText() == CUSTOM and not errors


def test_bad_preset_file_shows_a_dialog(qtbot, tmp_path, errors):
    (tmp_path / "broken.yaml").write_text("arch: [unclosed\n")
    (tmp_path / "badvalue.yaml").write_text("epochs: 0\n")
    (tmp_path / "unknown.yaml").write_text("no_such_key: 1\n")
    picker = PresetPicker(directory=tmp_path)
    qtbot.addWidget(picker)
    got: list = []
    picker.chosen.connect(lambda name, values: got.append(name))
    picker.select("broken")
    assert not got and errors and "broken" in errors[-1]
    assert picker.combo.currentText() == CUSTOM
    picker.select("badvalue")  # valid YAML: passed on; the view turns bad values into a dialog
    assert got == ["badvalue"]


def test_bad_preset_value_shows_a_dialog_in_the_view(view, errors):
    before = view.build_config()
    view.apply_preset("unknown", {"no_such_key": 1})
    view.apply_preset("zero", {"epochs": 0, "runs": [{"name": "a"}]})
    assert len(errors) == 2 and "no_such_key" in errors[0] and "epochs" in errors[1]
    assert view.queue.entries == [] and view.build_config() == before


def test_editing_the_model_drops_the_presets_name(qtbot):
    from core.presets import load_preset
    from guiapp.widgets.train_form import TrainForm
    from core.config import TrainConfig

    form = TrainForm()
    qtbot.addWidget(form)
    form.set_config(TrainConfig.from_dict(load_preset("camvid-fast")))
    assert form.build_config().name == "camvid-fast-ddrnet23slim"
    form.epochs.setValue(3)
    assert form.build_config().name == ""


def test_copy_paste_field_maps_to_the_config(qtbot, view):
    f = view.form
    f.set_config(TrainConfig())
    assert f.copy_paste.value() == 0 and f.build_config().copy_paste == 0.0
    with qtbot.waitSignal(f.changed, timeout=1000):
        f.copy_paste.setValue(30)
    assert f.build_config().copy_paste == pytest.approx(0.3)
    f.set_config(TrainConfig(copy_paste=0.5))
    assert f.copy_paste.value() == 50 and f.build_config().copy_paste == pytest.approx(0.5)
