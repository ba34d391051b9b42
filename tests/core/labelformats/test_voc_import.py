"""Pascal VOC / CVAT "Segmentation mask 1.1" -> folder dataset: colours through labelmap.txt,
ImageSets as splits, VOC's boundary colour as void, unknown colours naming the mask file."""
import numpy as np
import pytest
from PIL import Image

from core.classes import CAMVID11
from core.data.source import open_dataset
from core.errors import DataError
from core.labelformats import import_labels
from tests.core.labelformats.conftest import write_rgb

ROAD, CAR, BG, EDGE = (10, 20, 30), (200, 0, 0), (0, 0, 0), (224, 224, 192)


def cvat_export(root, colours: np.ndarray, lists=("default",)):
    (root / "SegmentationClass").mkdir(parents=True)
    Image.fromarray(colours).save(root / "SegmentationClass" / "f1.png")
    write_rgb(root / "JPEGImages" / "f1.jpg", *colours.shape[:2])
    (root / "labelmap.txt").write_text("# label:color_rgb:parts:actions\nbackground:0,0,0::\n"
                                       "road:10,20,30::\nCar:200,0,0::\n")
    (root / "ImageSets" / "Segmentation").mkdir(parents=True)
    for name in lists:
        (root / "ImageSets" / "Segmentation" / f"{name}.txt").write_text("f1\n")
    return root


def test_colours_map_through_labelmap(tmp_path):
    colours = np.array([[ROAD, ROAD, CAR], [BG, EDGE, CAR]], np.uint8)
    out = import_labels("cvat", cvat_export(tmp_path / "cvat", colours), tmp_path / "ds", split="val")
    src = open_dataset(out)
    assert src.splits == ["val"]  # CVAT's `default` list becomes --split
    np.testing.assert_array_equal(src.read_mask(src.samples("val")[0]),
                                  np.array([[3, 3, 8], [255, 255, 8]], np.uint8))


def test_named_lists_are_splits(tmp_path):
    colours = np.array([[ROAD, CAR]], np.uint8)
    src = open_dataset(import_labels("voc", cvat_export(tmp_path / "voc", colours, ("trainval",)),
                                     tmp_path / "ds"))
    assert src.splits == ["trainval"]


def test_unknown_colour_names_the_mask_file(tmp_path):
    colours = np.array([[ROAD, (1, 2, 3)]], np.uint8)
    root = cvat_export(tmp_path / "cvat", colours)
    with pytest.raises(DataError, match=r"f1\.png: colours \(1, 2, 3\) are not in labelmap\.txt"):
        import_labels("cvat", root, tmp_path / "ds")
    assert not (tmp_path / "ds").exists()


def test_unknown_label_in_labelmap_and_malformed_line(tmp_path):
    root = cvat_export(tmp_path / "cvat", np.array([[ROAD]], np.uint8))
    (root / "labelmap.txt").write_text("background:0,0,0::\nzebra crossing:1,1,1::\n")
    with pytest.raises(DataError, match=r"labelmap\.txt: label 'zebra crossing' is not a class"):
        import_labels("cvat", root, tmp_path / "ds")
    (root / "labelmap.txt").write_text("background:0,0,0::\nroad:10,20::\n")
    with pytest.raises(DataError, match=r"labelmap\.txt: line 2 is not 'name:r,g,b::'"):
        import_labels("cvat", root, tmp_path / "ds")


def test_without_labelmap_the_schema_colours_are_used(tmp_path):
    colours = np.array([[CAMVID11.colors[3], CAMVID11.colors[0], CAMVID11.void_color]], np.uint8)
    root = cvat_export(tmp_path / "camvid_colour", colours)
    (root / "labelmap.txt").unlink()
    src = open_dataset(import_labels("voc", root, tmp_path / "ds"))
    np.testing.assert_array_equal(src.read_mask(src.samples("train")[0]), [[3, 0, 255]])


def test_missing_image_or_mask_is_named(tmp_path):
    root = cvat_export(tmp_path / "cvat", np.array([[ROAD]], np.uint8))
    (root / "ImageSets" / "Segmentation" / "default.txt").write_text("f1\nf2\n")
    with pytest.raises(DataError, match=r"'f2' is listed for 'train' but SegmentationClass/f2\.png"):
        import_labels("cvat", root, tmp_path / "ds")
    (root / "ImageSets" / "Segmentation" / "default.txt").write_text("f1\n")
    (root / "JPEGImages" / "f1.jpg").unlink()
    with pytest.raises(DataError, match=r"f1\.png: no image JPEGImages/f1\.\*"):
        import_labels("cvat", root, tmp_path / "ds")


def test_a_class_coloured_like_void_names_both_and_the_void_color_key(tmp_path):
    colours = np.array([[BG, ROAD]], np.uint8)
    root = cvat_export(tmp_path / "voc", colours)
    (root / "labelmap.txt").unlink()
    schema = tmp_path / "classes.yaml"
    schema.write_text("name: mine\nclasses:\n  - {name: background, color: [0, 0, 0]}\n"
                      "  - {name: road, color: [10, 20, 30]}\n")
    with pytest.raises(DataError) as e:
        import_labels("voc", root, tmp_path / "ds", str(schema))
    text = str(e.value)
    assert "colour (0, 0, 0) stands for both class 'background' and void ('void')" in text
    assert "`void_color: [255, 255, 255]`" in text and "\n" not in text
    schema.write_text(schema.read_text() + "void_color: [255, 255, 255]\n")  # the fix it names works
    src = open_dataset(import_labels("voc", root, tmp_path / "ds", str(schema)))
    np.testing.assert_array_equal(src.read_mask(src.samples("train")[0]), [[0, 1]])
