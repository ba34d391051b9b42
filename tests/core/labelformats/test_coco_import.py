"""COCO JSON -> folder dataset: polygons (COCO's pixel-edge convention), uncompressed and
compressed RLE, category names by name, and bad input naming the file."""
import json

import numpy as np
import pytest

from core.data.source import open_dataset
from core.errors import DataError
from core.labelformats import import_labels
from tests.core.labelformats.conftest import write_rgb


def coco_doc(anns, cats=({"id": 1, "name": "Road"}, {"id": 7, "name": "car"})) -> dict:
    return {"images": [{"id": 1, "file_name": "img/a.png", "height": 4, "width": 5},
                       {"id": 2, "file_name": "img/b.png", "height": 4, "width": 5}],
            "annotations": anns, "categories": list(cats)}


@pytest.fixture
def coco_dir(tmp_path):
    d = tmp_path / "coco"
    write_rgb(d / "img" / "a.png", 4, 5)
    write_rgb(d / "img" / "b.png", 4, 5, seed=1)
    return d


def _import(d, doc, out):
    (d / "ann.json").write_text(json.dumps(doc))
    src = open_dataset(import_labels("coco", d / "ann.json", out))
    return {s.name: src.read_mask(s) for s in src.samples("train")}


def test_polygon_and_both_rle_kinds_give_hand_computed_pixels(coco_dir, tmp_path):
    anns = [
        # polygon on pixel edges: the box x 1..4, y 1..3 covers pixels x 1..3, y 1..2
        {"id": 1, "image_id": 1, "category_id": 1, "segmentation": [[1, 1, 4, 1, 4, 3, 1, 3]]},
        # uncompressed RLE, column-major: ones at rows 2-3 of columns 1-3 (drawn over the road)
        {"id": 2, "image_id": 1, "category_id": 7, "iscrowd": 1,
         "segmentation": {"size": [4, 5], "counts": [6, 2, 2, 2, 2, 2, 4]}},
        # compressed RLE of rows 1-2, columns 1-3
        {"id": 3, "image_id": 2, "category_id": 7, "segmentation": {"size": [4, 5], "counts": "5220003"}},
    ]
    masks = _import(coco_dir, coco_doc(anns), tmp_path / "ds")
    V = 255
    np.testing.assert_array_equal(masks["a"], np.array([
        [V, V, V, V, V],
        [V, 3, 3, 3, V],
        [V, 8, 8, 8, V],
        [V, 8, 8, 8, V]], np.uint8))
    expected_b = np.full((4, 5), V, np.uint8)
    expected_b[1:3, 1:4] = 8
    np.testing.assert_array_equal(masks["b"], expected_b)


def test_image_without_annotations_is_all_void(coco_dir, tmp_path):
    masks = _import(coco_dir, coco_doc([]), tmp_path / "ds")
    assert (masks["a"] == 255).all() and (masks["b"] == 255).all()


@pytest.mark.parametrize("ann, match", [
    ({"segmentation": [[1, 1, 6, 1, 4]]}, r"annotation 9 on 'img/a.png': a polygon must be a flat list"),
    ({"segmentation": [[1, 1, 2, 1, 2, float("nan")]]}, "points must be finite"),
    ({"segmentation": {"size": [5, 5], "counts": "5220003"}},
     r"RLE size \[5, 5\] is not the image's \[4, 5\]"),
    ({"segmentation": {"size": [4, 5], "counts": [6, 2]}}, "RLE counts cover 8 pixels, not the image's 20"),
    ({"segmentation": {"size": [4, 5], "counts": "}}}}"}}, "invalid RLE"),
    ({"category_id": 3}, "category_id 3 is not in 'categories'"),
])
def test_bad_annotations_name_the_file(coco_dir, tmp_path, ann, match):
    a = {"id": 9, "image_id": 1, "category_id": 1, "segmentation": [[0, 0, 1, 0, 1, 1]]} | ann
    with pytest.raises(DataError, match=match) as err:
        _import(coco_dir, coco_doc([a]), tmp_path / "ds")
    assert str(err.value).startswith(str(coco_dir / "ann.json")) and "\n" not in str(err.value)
    assert not (tmp_path / "ds").exists()


def test_unknown_category_and_broken_json(coco_dir, tmp_path):
    a = {"id": 1, "image_id": 1, "category_id": 5, "segmentation": [[0, 0, 1, 0, 1, 1]]}
    with pytest.raises(DataError, match=r"ann\.json: category 'traffic cone' is not a class"):
        _import(coco_dir, coco_doc([a], [{"id": 5, "name": "traffic cone"}]), tmp_path / "ds")
    (coco_dir / "ann.json").write_text('{"images": [}')
    with pytest.raises(DataError, match=r"ann\.json: not valid JSON"):
        import_labels("coco", coco_dir, tmp_path / "ds")


def test_missing_image_is_named(coco_dir, tmp_path):
    (coco_dir / "img" / "b.png").unlink()
    with pytest.raises(DataError, match=r"ann\.json: image 'img/b.png' not found"):
        _import(coco_dir, coco_doc([]), tmp_path / "ds")
