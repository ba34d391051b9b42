import pytest

from core.config import TrainConfig, parse_size
from core.errors import ConfigError


def test_parse_size_forms():
    assert parse_size("360x480") == (360, 480)
    assert parse_size("64X96") == (64, 96)
    assert parse_size([32, 48]) == (32, 48)
    for bad in ("360", "axb", "4x4", "1x2x3"):
        with pytest.raises(ConfigError):
            parse_size(bad)


def test_yaml_round_trip(tmp_path):
    cfg = TrainConfig(data="d", arch="segformer", encoder="resnet50", loss="focal", optimizer="sgd",
                      nesterov=True, image_size=(180, 240), seed=7, out="o", dropout=0.2)
    path = tmp_path / "c.yaml"
    cfg.to_yaml(path)
    assert TrainConfig.from_yaml(path) == cfg
    assert "!!python" not in path.read_text()  # safe_dump: plain values only


def test_wce_defaults_to_median_weights():
    assert TrainConfig(loss="wce").class_weights == "median"
    assert TrainConfig(loss="wce", class_weights="enet").class_weights == "enet"
    assert TrainConfig(loss="ce").class_weights == "none"


@pytest.mark.parametrize("bad", [dict(epochs=0), dict(batch_size=0), dict(dropout=1.0), dict(lr=0),
                                 dict(precision="fp8"), dict(output_stride=4), dict(rare_crop=1.5),
                                 dict(copy_paste=-0.1), dict(copy_paste=2.0),
                                 dict(rare_crop=0.5, augment="light"), dict(time_budget=-1),
                                 dict(time_budget=float("nan"))])
def test_bad_values_raise(bad):
    with pytest.raises(ConfigError):
        TrainConfig(**bad)


def test_unknown_key_and_bad_yaml(tmp_path):
    with pytest.raises(ConfigError, match="unknown config key"):
        TrainConfig.from_dict({"arch": "unet", "colour": "red"})
    p = tmp_path / "bad.yaml"
    p.write_text("arch: [unclosed")
    with pytest.raises(ConfigError, match="bad.yaml"):
        TrainConfig.from_yaml(p)
    p.write_text("!!python/object/apply:os.system ['echo hi']")
    with pytest.raises(ConfigError):
        TrainConfig.from_yaml(p)


def test_rare_crop_needs_a_crop():
    assert TrainConfig(rare_crop=0.5, crop_size=(24, 32), augment="light").rare_crop == 0.5
    assert TrainConfig(rare_crop=0.5, augment="strong").rare_crop == 0.5  # strong crops by itself
    with pytest.raises(ConfigError, match="crop"):
        TrainConfig(rare_crop=0.5, augment="none")
