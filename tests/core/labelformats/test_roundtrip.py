"""Import -> export -> import gives the same masks pixel for pixel, for every format."""
import shutil

import cv2
import numpy as np
import pytest

from core.classes import CITYSCAPES19
from core.data.source import open_dataset
from core.labelformats import export_labels, import_labels


def _all_masks(src) -> dict[tuple[str, str], np.ndarray]:
    return {(sp, s.name): src.read_mask(s) for sp in src.splits for s in src.samples(sp)}


def _assert_same(a, b):
    ma, mb = _all_masks(a), _all_masks(b)
    assert sorted(ma) == sorted(mb)
    for key in ma:
        np.testing.assert_array_equal(ma[key], mb[key], err_msg=str(key))


@pytest.mark.parametrize("fmt", ["voc", "coco"])
def test_labelme_import_export_import(labelme_dir, expected_labelme, tmp_path, fmt):
    first = open_dataset(import_labels("labelme", labelme_dir, tmp_path / "first"))
    exported = export_labels(first, fmt, tmp_path / fmt)
    again = open_dataset(import_labels(fmt, exported, tmp_path / "again"))
    _assert_same(first, again)
    np.testing.assert_array_equal(again.read_mask(again.samples("train")[0]), expected_labelme["a"])


@pytest.mark.parametrize("fmt", ["folder", "voc", "coco"])
def test_dataset_with_splits_round_trips(synth_data, tmp_path, fmt):
    """The synthetic CamVid-layout set (train and val, every class and void) survives each format."""
    src = open_dataset(synth_data)
    exported = export_labels(src, fmt, tmp_path / fmt)
    back = open_dataset(exported if fmt == "folder" else import_labels(fmt, exported, tmp_path / "back"))
    assert back.splits == src.splits
    _assert_same(src, back)
    for sp in src.splits:  # images travel with the masks, byte for byte
        for s in src.samples(sp):
            t = next(x for x in back.samples(sp) if x.name == s.name)
            assert t.image.read_bytes() == s.image.read_bytes()


def test_cityscapes_round_trip(synth_data, tmp_path):
    """Cityscapes-19 labels -> labelIds -> read back as Cityscapes: the same train ids."""
    root = tmp_path / "cs19"
    shutil.copytree(synth_data / "train", root / "images" / "train")
    (root / "masks" / "train").mkdir(parents=True)
    rng = np.random.default_rng(0)
    for img in sorted((root / "images" / "train").iterdir()):
        h, w = cv2.imread(str(img)).shape[:2]
        mask = rng.integers(0, 19, (h, w), dtype=np.uint8)
        mask[: h // 4] = 255
        cv2.imwrite(str(root / "masks" / "train" / f"{img.stem}.png"), mask)
    (root / "classes.yaml").write_text(__import__("yaml").safe_dump(CITYSCAPES19.to_dict()))
    src = open_dataset(root)
    back = open_dataset(export_labels(src, "cityscapes", tmp_path / "out"))
    assert back.format == "cityscapes" and back.schema == CITYSCAPES19
    _assert_same(src, back)
    again = open_dataset(export_labels(back, "cityscapes", tmp_path / "out2"))  # Cityscapes -> itself
    _assert_same(back, again)
