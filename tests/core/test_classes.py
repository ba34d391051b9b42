"""Class schemas: presets match the published tables, colours/palette, YAML loading and errors."""
import numpy as np
import pytest

from core.classes import (
    CAMVID11,
    CITYSCAPES19,
    IGNORE_INDEX,
    SCHEMAS,
    ClassSchema,
    get_schema,
    load_schema_yaml,
)
from core.errors import DataError


def test_camvid11_matches_the_camvid_table():
    s = get_schema("camvid11")
    assert s is CAMVID11 and s.num_classes == 11 and s.void_value == 11
    assert s.names[3] == "Road" and s.colors[3] == (128, 64, 128)
    assert s.names[4] == "Pavement" and s.colors[4] == (60, 40, 222)
    assert s.names[10] == "Bicyclist" and s.colors[10] == (0, 128, 192)
    assert s.void_color == (0, 0, 0)


def test_cityscapes19_train_ids():
    s = get_schema("cityscapes19")
    assert s is CITYSCAPES19 and s.num_classes == 19 and s.void_value == 255
    assert s.names[0] == "road" and s.names[13] == "car" and s.names[18] == "bicycle"
    assert s.colors[10] == (70, 130, 180)  # sky
    assert set(SCHEMAS) == {"camvid11", "cityscapes19"}


def test_unknown_schema_names_the_presets():
    with pytest.raises(DataError, match="camvid11"):
        get_schema("nope")


def test_palette_and_colorize():
    pal = CAMVID11.palette()
    assert pal.shape == (256, 3) and pal.dtype == np.uint8
    assert tuple(pal[0]) == (128, 128, 128) and tuple(pal[IGNORE_INDEX]) == (0, 0, 0)
    mask = np.array([[0, 3], [255, 10]], np.uint8)
    rgb = CAMVID11.colorize(mask)
    assert rgb.shape == (2, 2, 3) and rgb.dtype == np.uint8
    assert tuple(rgb[0, 1]) == (128, 64, 128) and tuple(rgb[1, 0]) == (0, 0, 0)
    assert tuple(rgb[1, 1]) == (0, 128, 192)


def test_dict_round_trip_and_hashable():
    d = CAMVID11.to_dict()
    assert d["classes"][1] == {"name": "Building", "color": [128, 0, 0]}
    back = ClassSchema.from_dict(d)
    assert back == CAMVID11 and hash(back) == hash(CAMVID11)


@pytest.mark.parametrize("kwargs, msg", [
    (dict(names=("a", "b"), colors=((0, 0, 0),)), "colours"),
    (dict(names=("a", "a"), colors=((0, 0, 0), (1, 1, 1))), "unique"),
    (dict(names=("a", "b"), colors=((0, 0, 0), (1, 1, 1)), void_value=1), "void_value"),
    (dict(names=("a",), colors=((0, 0, 300),)), "0..255"),
])
def test_invalid_schema(kwargs, msg):
    with pytest.raises(ValueError, match=msg):
        ClassSchema(name="x", **kwargs)


def test_load_schema_yaml(tmp_path):
    p = tmp_path / "classes.yaml"
    p.write_text("name: lanes\nvoid_value: 200\nclasses:\n"
                 "  - {name: road, color: [128, 64, 128]}\n"
                 "  - {name: lane, color: [255, 255, 0]}\n")
    s = load_schema_yaml(p)
    assert s.name == "lanes" and s.names == ("road", "lane") and s.void_value == 200
    assert s.colors[1] == (255, 255, 0)


@pytest.mark.parametrize("text, msg", [
    ("classes: [{name: a, color: [1, 2]}]", "invalid class schema"),
    ("name: x", "missing key"),
    ("- just\n- a list", "mapping"),
    ("classes: [unclosed", "not valid YAML"),
    ("classes: [{name: a, color: [1, 2, 3]}]\nvoid_value: 0", "void_value"),
])
def test_bad_schema_yaml_names_the_file(tmp_path, text, msg):
    p = tmp_path / "classes.yaml"
    p.write_text(text)
    with pytest.raises(DataError, match=msg) as e:
        load_schema_yaml(p)
    assert str(p) in str(e.value)


def test_missing_schema_yaml(tmp_path):
    with pytest.raises(DataError, match="cannot read"):
        load_schema_yaml(tmp_path / "none.yaml")
