"""labelme JSON -> folder dataset: hand-computed pixels, embedded images, and bad input that
fails with one line naming the file (and nothing written)."""
import base64
import json

import cv2
import numpy as np
import pytest

from core.classes import CITYSCAPES19
from core.data.source import open_dataset
from core.errors import DataError
from core.labelformats import import_labels
from tests.core.labelformats.conftest import labelme_doc, shape, write_rgb


def _masks(root, split="train"):
    src = open_dataset(root)
    return {s.name: src.read_mask(s) for s in src.samples(split)}, src


def test_shapes_give_hand_computed_pixels(labelme_dir, expected_labelme, tmp_path):
    out = import_labels("labelme", labelme_dir, tmp_path / "ds", "camvid", "train")
    masks, src = _masks(out)
    assert src.format == "folder" and src.schema.name == "camvid11"
    assert set(masks) == {"a", "b"}
    np.testing.assert_array_equal(masks["a"], expected_labelme["a"])
    np.testing.assert_array_equal(masks["b"], expected_labelme["b"])
    # images are copied byte for byte, masks are PNGs with CamVid's void value 11 on disk
    assert (out / "images" / "train" / "a.jpg").read_bytes() == (labelme_dir / "a.jpg").read_bytes()
    raw = cv2.imread(str(out / "masks" / "train" / "a.png"), cv2.IMREAD_UNCHANGED)
    assert raw[0, 0] == 11 and raw[1, 1] == 3


def test_second_import_adds_a_split_with_the_same_schema(labelme_dir, tmp_path):
    out = import_labels("labelme", labelme_dir / "a.json", tmp_path / "ds", split="train")
    import_labels("labelme", labelme_dir / "b.json", out, split="val")
    src = open_dataset(out)
    assert [s.name for s in src.samples("train")] == ["a"]
    assert [s.name for s in src.samples("val")] == ["b"]
    with pytest.raises(DataError, match="schema camvid11"):
        import_labels("labelme", labelme_dir / "b.json", out, CITYSCAPES19, split="test")
    with pytest.raises(DataError, match="already exists"):
        import_labels("labelme", labelme_dir / "b.json", out, split="val")


def test_embedded_image_data_is_used_when_the_file_is_absent(tmp_path):
    img = np.zeros((4, 5, 3), np.uint8)
    ok, png = cv2.imencode(".png", img)
    doc = labelme_doc("gone/x.png", 4, 5, [shape("road", [[0, 0], [4, 0], [4, 3], [0, 3]])], png.tobytes())
    (tmp_path / "x.json").write_text(json.dumps(doc))
    masks, _ = _masks(import_labels("labelme", tmp_path / "x.json", tmp_path / "ds"))
    assert (masks["x"] == 3).all()
    assert (tmp_path / "ds" / "images" / "train" / "x.png").read_bytes() == png.tobytes()


@pytest.mark.parametrize("doc_text, match", [
    ("{\"shapes\": [", "not valid JSON"),
    ("[1, 2]", "expected a JSON dict"),
    (json.dumps({"imagePath": "a.png"}), "missing 'shapes'"),
])
def test_broken_json_is_one_line_naming_the_file(tmp_path, doc_text, match):
    write_rgb(tmp_path / "in" / "a.png", 4, 4)
    (tmp_path / "in" / "a.json").write_text(doc_text)
    with pytest.raises(DataError, match=match) as err:
        import_labels("labelme", tmp_path / "in", tmp_path / "ds")
    assert str(err.value).startswith(str(tmp_path / "in" / "a.json")) and "\n" not in str(err.value)
    assert not (tmp_path / "ds").exists()


def test_points_that_are_not_numbers_name_file_and_shape(labelme_dir, tmp_path):
    doc = json.loads((labelme_dir / "b.json").read_text())
    doc["shapes"].append(shape("car", [[1, 1], ["a", 1], [3, 4]]))
    (labelme_dir / "b.json").write_text(json.dumps(doc))
    with pytest.raises(DataError) as err:
        import_labels("labelme", labelme_dir, tmp_path / "ds")
    msg = str(err.value)
    assert msg.startswith(str(labelme_dir / "b.json")) and "shape 2 (polygon 'car')" in msg
    assert "list of [x, y] numbers" in msg
    assert not (tmp_path / "ds").exists()  # a.json was fine, but nothing is written
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".ds.")]


def test_point_on_the_border_is_inside(tmp_path):
    write_rgb(tmp_path / "a.png", 4, 4)
    (tmp_path / "a.json").write_text(json.dumps(labelme_doc("a.png", 4, 4, [
        shape("road", [[0, 0], [4, 0], [4, 4], [0, 4]])])))
    masks, _ = _masks(import_labels("labelme", tmp_path / "a.json", tmp_path / "ds"))
    assert (masks["a"] == 3).all()


def test_unknown_label_names_file_and_label(labelme_dir, tmp_path):
    doc = json.loads((labelme_dir / "a.json").read_text())
    doc["shapes"][1]["label"] = "lamppost"
    (labelme_dir / "a.json").write_text(json.dumps(doc))
    with pytest.raises(DataError, match=r"a\.json: label 'lamppost' is not a class of schema camvid11"):
        import_labels("labelme", labelme_dir, tmp_path / "ds")
    assert not (tmp_path / "ds").exists()


def test_background_names_are_void_and_size_mismatch_is_caught(tmp_path):
    write_rgb(tmp_path / "a.png", 4, 4)
    (tmp_path / "a.json").write_text(json.dumps(labelme_doc("a.png", 4, 4, [
        shape("road", [[0, 0], [3, 3]], "rectangle"), shape("_background_", [[0, 0], [1, 1]], "rectangle")])))
    masks, _ = _masks(import_labels("labelme", tmp_path / "a.json", tmp_path / "ds"))
    assert (masks["a"][:2, :2] == 255).all() and (masks["a"][2:, :] == 3).all()
    (tmp_path / "a.json").write_text(json.dumps(labelme_doc("a.png", 5, 4, [])))
    with pytest.raises(DataError, match="5x4 but the image is 4x4"):
        import_labels("labelme", tmp_path / "a.json", tmp_path / "ds2")


def test_labelme_mask_shape(tmp_path):
    write_rgb(tmp_path / "a.png", 5, 5)
    part = np.array([[1, 0], [1, 1]], np.uint8) * 255
    data = base64.b64encode(cv2.imencode(".png", part)[1].tobytes()).decode()
    sh = shape("car", [[2, 1], [3, 2]], "mask") | {"mask": data}
    (tmp_path / "a.json").write_text(json.dumps(labelme_doc("a.png", 5, 5, [sh])))
    masks, _ = _masks(import_labels("labelme", tmp_path / "a.json", tmp_path / "ds"))
    assert sorted(zip(*np.nonzero(masks["a"] == 8))) == [(1, 2), (2, 2), (2, 3)]
