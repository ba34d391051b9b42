"""--classes without writing YAML: labelme's labels.txt, CVAT's labelmap.txt, and `from-labels`."""
import json

import numpy as np
import pytest
import yaml
from PIL import Image

from core.classes import IGNORE_INDEX
from core.data.source import open_dataset
from core.errors import DataError
from core.labelformats import import_labels
from core.labelformats.class_lists import schema_from_labelmap, schema_from_labels_txt, voc_color
from core.labelformats.classmap import schema_from_arg
from tests.core.labelformats.conftest import labelme_doc, shape, write_rgb

# labelme's examples/semantic_segmentation/labels.txt, as that repository has it
LABELME_LABELS = ("__ignore__\n_background_\naeroplane\nbicycle\nbird\nboat\nbottle\nbus\ncar\ncat\n"
                  "chair\ncow\ndiningtable\ndog\nhorse\nmotorbike\nperson\npotted plant\nsheep\n"
                  "sofa\ntrain\ntv/monitor\n")
# CVAT's "Segmentation mask 1.1" labelmap.txt, as CVAT writes it
CVAT_LABELMAP = "# label:color_rgb:parts:actions\nbackground:0,0,0::\ncar:255,106,77::\nperson:51,221,255::\n"


def test_voc_colour_map_entries():
    # Pascal VOC's palette: background black, aeroplane (128, 0, 0), ..., 255 the ignore colour
    assert [voc_color(i) for i in (0, 1, 2, 3, 15, 255)] == [
        (0, 0, 0), (128, 0, 0), (0, 128, 0), (128, 128, 0), (192, 128, 128), (224, 224, 192)]


def test_labelme_labels_txt_reads_as_labelme2voc_does(tmp_path):
    (tmp_path / "labels.txt").write_text(LABELME_LABELS)
    s = schema_from_arg(tmp_path / "labels.txt")
    assert s.names[:3] == ("_background_", "aeroplane", "bicycle") and s.num_classes == 21
    assert s.names.index("person") == 15 and s.colors[15] == (192, 128, 128)  # labelme2voc: person = 15
    assert s.void_name == "__ignore__" and s.void_color == (224, 224, 192) and s.void_value == IGNORE_INDEX
    (tmp_path / "bad.txt").write_text("_background_\n__ignore__\ncar\n")
    with pytest.raises(DataError, match="__ignore__ must be the first line"):
        schema_from_labels_txt(tmp_path / "bad.txt")


def test_cvat_labelmap_txt(tmp_path):
    (tmp_path / "labelmap.txt").write_text(CVAT_LABELMAP)
    s = schema_from_arg(str(tmp_path / "labelmap.txt"))
    assert s.names == ("car", "person") and s.colors == ((255, 106, 77), (51, 221, 255))
    assert s.void_name == "background" and s.void_color == (0, 0, 0)
    (tmp_path / "only.txt").write_text("background:0,0,0::\n")
    with pytest.raises(DataError, match="only background"):
        schema_from_labelmap(tmp_path / "only.txt")


def _labelme_folder(tmp_path):
    d = tmp_path / "data_annotated"
    write_rgb(d / "2011_000003.jpg", 6, 8)
    write_rgb(d / "2011_000006.jpg", 6, 8, seed=1)
    (d / "2011_000003.json").write_text(json.dumps(labelme_doc("2011_000003.jpg", 6, 8, [
        shape("_background_", [[0, 0], [7, 5]], "rectangle"),
        shape("person", [[1, 1], [4, 1], [4, 4], [1, 4]]),
        shape("__ignore__", [[3, 3], [4, 4]], "rectangle")])))
    (d / "2011_000006.json").write_text(json.dumps(labelme_doc("2011_000006.jpg", 6, 8, [
        shape("sofa", [[0, 3], [7, 5]], "rectangle"), shape("person", [[5, 0], [7, 2]], "rectangle"),
        shape("chair", [[0, 0], [2, 2]], "rectangle")])))
    return d


def test_labels_txt_import_equals_labelme2voc_png_import(tmp_path):
    """The labelme JSONs imported with labels.txt give the same masks as labelme2voc's
    SegmentationClass PNGs (VOC palette, void 255) imported as VOC with the same labels.txt."""
    d = _labelme_folder(tmp_path)
    (tmp_path / "labels.txt").write_text(LABELME_LABELS)
    out = import_labels("labelme", d, tmp_path / "ds", tmp_path / "labels.txt")
    src = open_dataset(out)
    masks = {s.name: src.read_mask(s) for s in src.samples("train")}
    a = masks["2011_000003"]
    assert a[0, 0] == 0 and a[2, 2] == 15 and a[3, 3] == IGNORE_INDEX  # _background_ 0, person 15
    assert masks["2011_000006"][0, 3] == 0  # no shape there: labelme2voc's masks start as _background_
    assert yaml.safe_load((out / "classes.yaml").read_text())["void_name"] == "__ignore__"
    # labelme2voc's output of the same shapes: palette PNGs holding the class ids, 255 for ignore
    voc = tmp_path / "data_dataset_voc"
    palette = [v for i in range(256) for v in voc_color(i)]
    for name, mask in masks.items():
        write_rgb(voc / "JPEGImages" / f"{name}.jpg", 6, 8)
        png = Image.fromarray(mask, "P")
        png.putpalette(palette)
        (voc / "SegmentationClass").mkdir(parents=True, exist_ok=True)
        png.save(voc / "SegmentationClass" / f"{name}.png")
    src2 = open_dataset(import_labels("voc", voc, tmp_path / "ds2", tmp_path / "labels.txt"))
    for s in src2.samples("train"):
        np.testing.assert_array_equal(src2.read_mask(s), masks[s.name])


def test_from_labels_builds_and_writes_the_schema(tmp_path):
    d = _labelme_folder(tmp_path)
    out = import_labels("labelme", d, tmp_path / "ds", "from-labels")
    saved = yaml.safe_load((out / "classes.yaml").read_text())
    names = [c["name"] for c in saved["classes"]]
    assert names == ["person", "sofa", "chair"]  # first met, void names left out
    colours = [tuple(c["color"]) for c in saved["classes"]]
    assert len(set(colours + [tuple(saved["void_color"])])) == 4
    src = open_dataset(out)
    a = src.read_mask(src.samples("train")[0])
    assert a[2, 2] == 0 and a[0, 0] == IGNORE_INDEX  # _background_ is void without labels.txt
    b = src.read_mask(src.samples("train")[1])
    assert b[0, 3] == IGNORE_INDEX  # ... and so is what no shape covers
    # a second import into the same dataset keeps its classes, whatever order the names come in
    (tmp_path / "more").mkdir()
    write_rgb(tmp_path / "more" / "x.png", 6, 8)
    (tmp_path / "more" / "x.json").write_text(json.dumps(labelme_doc("x.png", 6, 8, [
        shape("chair", [[0, 0], [2, 2]], "rectangle")])))
    import_labels("labelme", tmp_path / "more", out, "from-labels", split="val")
    src = open_dataset(out)
    assert src.schema.names == ("person", "sofa", "chair")
    assert src.read_mask(src.samples("val")[0])[0, 0] == 2


def test_from_labels_for_coco_and_voc(tmp_path):
    d = tmp_path / "coco"
    write_rgb(d / "a.png", 4, 5)
    doc = {"images": [{"id": 1, "file_name": "a.png", "height": 4, "width": 5}],
           "categories": [{"id": 9, "name": "truck"}, {"id": 2, "name": "road"}],
           "annotations": [{"id": 1, "image_id": 1, "category_id": 9, "segmentation": [[0, 0, 5, 0, 5, 2, 0, 2]]}]}
    (d / "ann.json").write_text(json.dumps(doc))
    src = open_dataset(import_labels("coco", d / "ann.json", tmp_path / "ds", "from-labels"))
    assert src.schema.names == ("road", "truck")  # category id order
    assert (src.read_mask(src.samples("train")[0])[:2] == 1).all()
    voc = tmp_path / "voc"
    (voc / "SegmentationClass").mkdir(parents=True)
    with pytest.raises(DataError, match="no labelmap.txt to take the class names from"):
        import_labels("voc", voc, tmp_path / "ds2", "from-labels")


def test_only_void_labels_is_an_error(tmp_path):
    write_rgb(tmp_path / "a.png", 4, 4)
    (tmp_path / "a.json").write_text(json.dumps(labelme_doc("a.png", 4, 4, [
        shape("__ignore__", [[0, 0], [1, 1]], "rectangle")])))
    with pytest.raises(DataError, match="no class labels found"):
        import_labels("labelme", tmp_path / "a.json", tmp_path / "ds", "from-labels")
