"""`roadseg convert`: labelme in, VOC / COCO / Cityscapes out, and bad input as one error line."""
import json

import numpy as np

from core.cli.main import main
from core.data.source import open_dataset
from tests.core.labelformats.conftest import LABELME_A, labelme_doc, labelme_dir, shape, write_rgb  # noqa: F401


def test_labelme_to_folder_then_to_voc_and_back(labelme_dir, tmp_path, capsys):  # noqa: F811
    assert main(["convert", "--from", "labelme", "--to", "folder", "--input", str(labelme_dir),
                 "--out", str(tmp_path / "ds"), "--split", "val"]) == 0
    assert "ds: 2 images written, 0 shapes clipped" in capsys.readouterr().out
    src = open_dataset(tmp_path / "ds")
    assert src.splits == ["val"]
    np.testing.assert_array_equal(src.read_mask(src.samples("val")[0]), LABELME_A)
    assert main(["convert", "--from", "folder", "--to", "voc", "--input", str(tmp_path / "ds"),
                 "--out", str(tmp_path / "voc")]) == 0
    assert main(["convert", "--from", "cvat", "--to", "folder", "--input", str(tmp_path / "voc"),
                 "--out", str(tmp_path / "back")]) == 0
    back = open_dataset(tmp_path / "back")
    assert back.splits == ["val"]
    np.testing.assert_array_equal(back.read_mask(back.samples("val")[0]), LABELME_A)


def test_labelme_straight_to_coco(labelme_dir, tmp_path):  # noqa: F811
    assert main(["convert", "--from", "labelme", "--to", "coco", "--input", str(labelme_dir),
                 "--out", str(tmp_path / "coco")]) == 0
    doc = json.loads((tmp_path / "coco" / "train" / "_annotations.coco.json").read_text())
    assert sorted(i["file_name"] for i in doc["images"]) == ["a.jpg", "b.png"]


def test_camvid_layout_to_cityscapes_one_split(synth_data, tmp_path, capsys):
    assert main(["convert", "--from", "camvid", "--to", "cityscapes", "--input", str(synth_data),
                 "--out", str(tmp_path / "cs"), "--split", "val"]) == 0
    back = open_dataset(tmp_path / "cs")
    assert back.format == "cityscapes" and back.splits == ["val"]
    assert len(back.samples("val")) == len(open_dataset(synth_data).samples("val"))


def test_bad_input_is_one_line_and_exit_2(tmp_path, capsys):
    write_rgb(tmp_path / "in" / "a.png", 4, 4)
    (tmp_path / "in" / "a.json").write_text("{not json")
    assert main(["convert", "--from", "labelme", "--to", "folder", "--input", str(tmp_path / "in"),
                 "--out", str(tmp_path / "ds")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"roadseg: error: {tmp_path / 'in' / 'a.json'}: not valid JSON")
    assert "\n" not in err and not (tmp_path / "ds").exists()
    tram = shape("tram", [[0, 0], [1, 1]], "rectangle")
    (tmp_path / "in" / "a.json").write_text(json.dumps(labelme_doc("a.png", 4, 4, [tram])))
    assert main(["convert", "--from", "labelme", "--to", "voc", "--input", str(tmp_path / "in"),
                 "--out", str(tmp_path / "voc")]) == 2
    assert "label 'tram' is not a class of schema camvid11" in capsys.readouterr().err
    assert main(["convert", "--from", "labelme", "--to", "voc", "--input", str(tmp_path / "in"),
                 "--out", str(tmp_path / "voc"), "--classes", "cityscapes"]) == 2
    assert "schema cityscapes19" in capsys.readouterr().err
    assert main(["convert", "--from", "folder", "--to", "voc", "--input", str(tmp_path / "in"),
                 "--out", str(tmp_path / "voc"), "--classes", "camvid"]) == 2
    assert "--classes is for imported labels" in capsys.readouterr().err
