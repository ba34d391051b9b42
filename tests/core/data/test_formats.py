"""Each on-disk format: detection, listing, decoding to train ids, errors, and write-back."""
from pathlib import Path

import cv2
import numpy as np
import pytest

from core.classes import CAMVID11, CITYSCAPES19
from core.data.formats import (
    _CITYSCAPES_IDS,
    FORMATS,
    cityscapes_id_table,
    detect_format,
    get_format,
)
from core.data.io import read_index_mask
from core.data.source import open_dataset
from core.errors import ConfigError, DataError

H, W = 6, 8


def _img(path: Path, value: int = 100, size=(H, W)) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), np.full((*size, 3), value, np.uint8))


def _mask(path: Path, mask: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), np.asarray(mask, np.uint8))


def _pattern(values) -> np.ndarray:
    """HxW mask cycling through `values`."""
    return np.resize(np.asarray(values, np.uint8), H * W).reshape(H, W)


def make_camvid(root: Path, n_train=2, n_val=1, values=(0, 3, 10, 11)) -> Path:
    for split, n in (("train", n_train), ("val", n_val)):
        for i in range(n):
            _img(root / split / f"{split}{i}.png")
            _mask(root / f"{split}annot" / f"{split}{i}.png", _pattern(values))
    return root


def make_cityscapes(root: Path, label_ids) -> Path:
    for split, city in (("train", "aachen"), ("val", "lindau")):
        base = f"{city}_000000_000019"
        _img(root / "leftImg8bit" / split / city / f"{base}_leftImg8bit.png")
        _mask(root / "gtFine" / split / city / f"{base}_gtFine_labelIds.png", _pattern(label_ids))
        # files that must be ignored beside it
        _mask(root / "gtFine" / split / city / f"{base}_gtFine_instanceIds.png", _pattern([0]))
    return root


def make_folder(root: Path, splits=None, schema_yaml: str | None = None, values=(0, 1, 255)):
    for split in splits or [None]:
        sub = Path(split) if split else Path()
        for name in ("b", "a"):
            _img(root / "images" / sub / f"{name}.jpg")
            _mask(root / "masks" / sub / f"{name}.png", _pattern(values))
    if schema_yaml:
        (root / "classes.yaml").write_text(schema_yaml)
    return root


SCHEMA3 = ("name: lanes\nvoid_value: 255\nclasses:\n  - {name: road, color: [128, 64, 128]}\n"
           "  - {name: lane, color: [255, 255, 0]}\n  - {name: car, color: [0, 0, 142]}\n")


def test_registry():
    assert list(FORMATS) == ["cityscapes", "folder", "camvid"]
    with pytest.raises(ConfigError, match="camvid"):
        get_format("voc")


def test_camvid_detected_and_decoded(tmp_path):
    root = make_camvid(tmp_path / "cv")
    assert detect_format(root) == "camvid"
    ds = open_dataset(root)
    assert ds.format == "camvid" and ds.schema == CAMVID11 and ds.splits == ["train", "val"]
    train = ds.samples("train")
    assert [s.name for s in train] == ["train0", "train1"] and train[0].split == "train"
    mask = ds.read_mask(train[0])
    assert mask.dtype == np.uint8 and mask.shape == (H, W)
    np.testing.assert_array_equal(mask, _pattern([0, 3, 10, 255]))
    image, mask2 = ds.read_pair(train[0])
    assert image.shape == (H, W, 3) and (mask2 == mask).all()
    with pytest.raises(DataError, match="test"):
        ds.samples("test")


def test_cityscapes_label_ids_become_train_ids(tmp_path):
    # unlabeled 0, road 7, sidewalk 8, parking 9 (void), car 26, bicycle 33, traffic sign 20
    root = make_cityscapes(tmp_path / "cs", [0, 7, 8, 9, 26, 33, 20])
    assert detect_format(root) == "cityscapes"
    ds = open_dataset(root)
    assert ds.schema == CITYSCAPES19 and ds.splits == ["train", "val"]
    (s,) = ds.samples("train")
    assert s.name == "aachen_000000_000019" and s.mask.name.endswith("_gtFine_labelIds.png")
    np.testing.assert_array_equal(ds.read_mask(s), _pattern([255, 0, 1, 255, 13, 18, 7]))


def test_cityscapes_write_back_as_label_ids(tmp_path):
    ds = open_dataset(make_cityscapes(tmp_path / "cs", [7]))
    (s,) = ds.samples("val")
    train_ids = _pattern([0, 1, 13, 18, 255, 10])
    ds.write_mask(s, train_ids)
    np.testing.assert_array_equal(read_index_mask(s.mask), _pattern([7, 8, 26, 33, 0, 23]))
    np.testing.assert_array_equal(ds.read_mask(s), train_ids)


def test_cityscapes_table_is_the_official_one():
    table = dict(cityscapes_id_table())
    assert len(table) == 34 and table[7] == 0 and table[24] == 11 and table[33] == 18
    assert sorted(t for t in table.values() if t != 255) == list(range(19))
    labels = pytest.importorskip("cityscapesscripts.helpers.labels")
    official = {lab.id: lab.trainId for lab in labels.labels if lab.id >= 0}
    assert dict(_CITYSCAPES_IDS) == official  # the built-in copy used without the package


def test_folder_with_classes_yaml(tmp_path):
    root = make_folder(tmp_path / "f", schema_yaml=SCHEMA3, values=(0, 1, 2, 255))
    assert detect_format(root) == "folder"
    ds = open_dataset(root)
    assert ds.splits == ["all"] and ds.schema.names == ("road", "lane", "car")
    samples = ds.samples("all")
    assert [s.name for s in samples] == ["a", "b"]
    np.testing.assert_array_equal(ds.read_mask(samples[0]), _pattern([0, 1, 2, 255]))


def test_folder_split_subfolders_and_default_schema(tmp_path):
    ds = open_dataset(make_folder(tmp_path / "f", splits=["val", "train"], values=(0, 10, 11)))
    assert ds.splits == ["train", "val"] and ds.schema == CAMVID11
    np.testing.assert_array_equal(ds.read_mask(ds.samples("val")[0]), _pattern([0, 10, 255]))


def test_folder_mixing_loose_images_and_splits(tmp_path):
    root = make_folder(tmp_path / "f", splits=["train"])
    _img(root / "images" / "loose.png")
    with pytest.raises(DataError, match="both images"):
        open_dataset(root)


@pytest.mark.parametrize("fmt", ["camvid", "folder", "cityscapes"])
def test_write_mask_round_trip(tmp_path, fmt):
    root = {"camvid": lambda p: make_camvid(p),
            "folder": lambda p: make_folder(p, schema_yaml=SCHEMA3),
            "cityscapes": lambda p: make_cityscapes(p, [7])}[fmt](tmp_path / fmt)
    ds = open_dataset(root)
    s = ds.samples(ds.splits[0])[0]
    new = _pattern([1, 2, 255, 0])
    assert ds.write_mask(s, new) == s.mask
    np.testing.assert_array_equal(open_dataset(root).read_mask(s), new)
    assert not [p for p in s.mask.parent.iterdir() if p.name.endswith(".tmp")]


def test_camvid_void_written_as_11(tmp_path):
    ds = open_dataset(make_camvid(tmp_path / "cv"))
    s = ds.samples("train")[0]
    ds.write_mask(s, _pattern([255, 4]))
    np.testing.assert_array_equal(read_index_mask(s.mask), _pattern([11, 4]))


def test_write_mask_refuses_bad_masks(tmp_path):
    ds = open_dataset(make_camvid(tmp_path / "cv"))
    s = ds.samples("train")[0]
    with pytest.raises(DataError, match="ids \\[11\\]"):
        ds.write_mask(s, _pattern([0, 11]))
    with pytest.raises(DataError, match="image is 6x8"):
        ds.write_mask(s, np.zeros((H + 1, W), np.uint8))
    with pytest.raises(DataError, match="HxW"):
        ds.write_mask(s, np.zeros((H, W, 3), np.uint8))


# ---- bad data: every error names the file at fault ----

def test_value_outside_schema(tmp_path):
    ds = open_dataset(make_camvid(tmp_path / "cv", values=(0, 12, 40)))
    s = ds.samples("train")[0]
    with pytest.raises(DataError, match="12, 40") as e:
        ds.read_mask(s)
    assert str(s.mask) in str(e.value)


def test_cityscapes_value_outside_table(tmp_path):
    ds = open_dataset(make_cityscapes(tmp_path / "cs", [7, 34]))
    with pytest.raises(DataError, match="labelIds.png: mask values 34"):
        ds.read_mask(ds.samples("train")[0])


def test_rgb_mask_where_index_expected(tmp_path):
    root = make_camvid(tmp_path / "cv")
    colour = np.zeros((H, W, 3), np.uint8)
    colour[:, :4] = (128, 0, 0)
    cv2.imwrite(str(root / "trainannot" / "train0.png"), colour)
    ds = open_dataset(root)
    with pytest.raises(DataError, match="trainannot/train0.png: colour"):
        ds.read_mask(ds.samples("train")[0])


def test_size_mismatch(tmp_path):
    root = make_camvid(tmp_path / "cv")
    _mask(root / "trainannot" / "train1.png", np.zeros((H + 2, W), np.uint8))
    ds = open_dataset(root)
    s = ds.samples("train")[1]
    for read in (ds.read_mask, ds.read_pair):
        with pytest.raises(DataError, match="train1.png: mask is 8x8 but its image"):
            read(s)


def test_missing_mask(tmp_path):
    root = make_camvid(tmp_path / "cv")
    (root / "valannot" / "val0.png").unlink()
    with pytest.raises(DataError, match="val/val0.png: no mask"):
        open_dataset(root)
    root = make_cityscapes(tmp_path / "cs", [7])
    next((root / "gtFine" / "val").rglob("*_labelIds.png")).unlink()
    with pytest.raises(DataError, match="lindau_000000_000019_leftImg8bit.png: no mask"):
        open_dataset(root)


def test_unreadable_image(tmp_path):
    root = make_folder(tmp_path / "f")
    (root / "images" / "a.jpg").write_bytes(b"\x00garbage")
    ds = open_dataset(root)
    s = ds.samples("all")[0]
    with pytest.raises(DataError, match="a.jpg: not a readable image"):
        ds.read_image(s)
    with pytest.raises(DataError, match="a.jpg"):
        ds.read_mask(s)  # the size check needs the image too


def test_duplicate_stems(tmp_path):
    root = make_folder(tmp_path / "f")
    _img(root / "images" / "a.png")
    with pytest.raises(DataError, match="share the name 'a'"):
        open_dataset(root)


def test_not_a_dataset(tmp_path):
    (tmp_path / "random").mkdir()
    with pytest.raises(DataError, match="not a known dataset layout"):
        open_dataset(tmp_path / "random")
    with pytest.raises(DataError, match="does not exist"):
        open_dataset(tmp_path / "nowhere")
    with pytest.raises(ConfigError, match="unknown dataset format"):
        open_dataset(make_camvid(tmp_path / "cv"), format="pascal")


def test_explicit_format_and_bad_schema_yaml(tmp_path):
    root = make_folder(tmp_path / "f", schema_yaml="classes: 3")
    with pytest.raises(DataError, match="classes.yaml"):
        open_dataset(root, format="folder")


def test_hold_out_moves_a_sequence_into_its_own_split(tmp_path):
    root = make_camvid(tmp_path / "cv", n_train=4)  # train0..train3
    ds = open_dataset(root)
    held = ds.hold_out("train1,train3")
    assert [s.name for s in held.samples("train")] == ["train0", "train2"]
    assert [s.name for s in held.samples("holdout")] == ["train1", "train3"]
    assert all(s.split == "holdout" for s in held.samples("holdout"))
    assert [s.name for s in held.samples("val")] == ["val0"]
    np.testing.assert_array_equal(held.read_mask(held.samples("holdout")[0]), _pattern([0, 3, 10, 255]))
    assert len(ds.samples("train")) == 4  # the original is untouched
    with pytest.raises(DataError, match="no 'train' image name starts with nope"):
        ds.hold_out("nope")
    with pytest.raises(DataError, match="leaves the 'train' split empty"):
        ds.hold_out("train")
    with pytest.raises(DataError, match="at least one"):
        ds.hold_out(" , ")
    with pytest.raises(DataError, match="already exists"):
        held.hold_out("train0")
