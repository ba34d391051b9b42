"""Exports: VOC palette PNG + labelmap.txt, COCO RLE JSON and Cityscapes labelIds hold the
expected values; saved hand corrections are exported; a non-empty output folder is refused."""
import json
import shutil

import cv2
import numpy as np
import pytest
from PIL import Image

from core.classes import CAMVID11, ClassSchema
from core.data.source import open_dataset
from core.errors import DataError
from core.labeling.backup import backup_path
from core.labeling.session import LabelSession
from core.labelformats import export_labels, import_labels
from core.labelformats.cityscapes_export import label_id_table
from core.labelformats.coco_import import decode_rle


@pytest.fixture
def hand_ds(labelme_dir, tmp_path):
    """The labelme fixture imported: two 6x8 images with hand-computed masks."""
    return open_dataset(import_labels("labelme", labelme_dir, tmp_path / "hand"))


def test_voc_palette_png_and_labelmap(hand_ds, expected_labelme, tmp_path):
    out = export_labels(hand_ds, "voc", tmp_path / "voc")
    im = Image.open(out / "SegmentationClass" / "a.png")
    assert im.mode == "P"
    np.testing.assert_array_equal(np.array(im), expected_labelme["a"])  # index = train id, 255 void
    rgb = np.array(im.convert("RGB"))
    assert tuple(rgb[1, 1]) == CAMVID11.colors[3] and tuple(rgb[0, 0]) == CAMVID11.void_color
    lines = (out / "labelmap.txt").read_text().splitlines()
    assert lines[1] == "background:0,0,0::" and lines[2] == "Sky:128,128,128::" and len(lines) == 13
    assert (out / "ImageSets" / "Segmentation" / "train.txt").read_text().split() == ["a", "b"]
    assert (out / "JPEGImages" / "a.jpg").is_file()


def test_coco_rle_per_class(hand_ds, expected_labelme, tmp_path):
    out = export_labels(hand_ds, "coco", tmp_path / "coco", split="train")
    doc = json.loads((out / "train" / "_annotations.coco.json").read_text())
    assert [c["name"] for c in doc["categories"]] == list(CAMVID11.names)
    assert doc["categories"][0]["id"] == 1
    image_a = next(i for i in doc["images"] if i["file_name"] == "a.jpg")
    anns = {a["category_id"]: a for a in doc["annotations"] if a["image_id"] == image_a["id"]}
    assert sorted(anns) == [1, 4, 9, 10]  # Sky, Road, Car, Pedestrian (+1)
    expected = expected_labelme["a"]
    for cat, a in anns.items():
        assert isinstance(a["segmentation"]["counts"], str) and a["iscrowd"] == 0
        region = decode_rle({"size": a["segmentation"]["size"],
                                   "counts": a["segmentation"]["counts"].encode()})
        np.testing.assert_array_equal(region.astype(bool), expected == cat - 1)
        assert a["area"] == int((expected == cat - 1).sum())
    assert anns[9]["bbox"] == [5.0, 0.0, 3.0, 3.0]  # the car rectangle x 5..7, y 0..2


def test_cityscapes_label_ids_for_camvid_names(hand_ds, expected_labelme, tmp_path):
    lut = label_id_table(CAMVID11)
    # Sky 23, Building 11, Pole 17, Road 7, Pavement->sidewalk 8, Tree->vegetation 21,
    # SignSymbol->traffic sign 20, Fence 13, Car 26, Pedestrian->person 24, Bicyclist->rider 25
    assert lut[:11].tolist() == [23, 11, 17, 7, 8, 21, 20, 13, 26, 24, 25] and lut[255] == 0
    out = export_labels(hand_ds, "cityscapes", tmp_path / "cs")
    city = "hand"
    raw = cv2.imread(str(out / "gtFine" / "train" / city / "a_gtFine_labelIds.png"), cv2.IMREAD_UNCHANGED)
    V = 0
    assert raw[:, 0].tolist() == [V, V, V, 23, 23, 23] and raw[2].tolist() == [V, 7, 7, 24, 7, 26, 26, 26]
    back = open_dataset(out)  # opens as a Cityscapes dataset: train ids road 0, person 11, car 13, sky 10
    assert back.format == "cityscapes"
    m = back.read_mask(next(s for s in back.samples("train") if s.name == "a"))
    assert m[2].tolist() == [255, 0, 0, 11, 0, 13, 13, 13] and m[5, 0] == 10


def test_cityscapes_refuses_a_class_it_lacks(tmp_path, labelme_dir):
    schema = ClassSchema("lanes", ("road", "lane marking"), ((1, 1, 1), (2, 2, 2)))
    ds = tmp_path / "ds"
    (ds / "images" / "train").mkdir(parents=True)
    (ds / "masks" / "train").mkdir(parents=True)
    shutil.copy(labelme_dir / "b.png", ds / "images" / "train" / "b.png")
    cv2.imwrite(str(ds / "masks" / "train" / "b.png"), np.ones((6, 8), np.uint8))
    (ds / "classes.yaml").write_text(json.dumps(schema.to_dict()))
    with pytest.raises(DataError, match="lane marking have no Cityscapes label"):
        export_labels(open_dataset(ds), "cityscapes", tmp_path / "cs")
    assert not (tmp_path / "cs").exists()


@pytest.mark.parametrize("fmt", ["folder", "voc", "coco", "cityscapes"])
def test_export_includes_saved_hand_corrections(synth_data, tmp_path, fmt):
    """Edit one mask as the label editor does (LabelSession.save), then export: the exported
    mask holds the correction, not the original kept in the backup folder."""
    root = tmp_path / "synth"
    shutil.copytree(synth_data, root)
    src = open_dataset(root)
    sample = src.samples("train")[0]
    session = LabelSession(src, sample)
    session.fill_polygon([(0, 0), (20, 0), (20, 10), (0, 10)], CAMVID11.names.index("Car"))
    session.save()
    assert backup_path(root, sample.mask).is_file()
    corrected = open_dataset(root).read_mask(sample)
    assert (corrected[:11, :21] == 8).all()
    out = export_labels(open_dataset(root), fmt, tmp_path / fmt)
    if fmt == "cityscapes":
        back = open_dataset(out)
        got = back.read_mask(next(s for s in back.samples("train") if s.name == sample.name))
        assert (got[:11, :21] == 13).all()  # Cityscapes train id of car
        return
    back = open_dataset(out if fmt == "folder" else import_labels(fmt, out, tmp_path / "back"))
    got = back.read_mask(next(s for s in back.samples("train") if s.name == sample.name))
    np.testing.assert_array_equal(got, corrected)


def test_export_refuses_a_non_empty_folder(hand_ds, tmp_path):
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "keep.txt").write_text("mine")
    with pytest.raises(DataError, match="busy: output folder is not empty"):
        export_labels(hand_ds, "voc", tmp_path / "busy")
    assert [p.name for p in (tmp_path / "busy").iterdir()] == ["keep.txt"]
    with pytest.raises(DataError, match="no split 'test'"):
        export_labels(hand_ds, "coco", tmp_path / "c", split="test")
