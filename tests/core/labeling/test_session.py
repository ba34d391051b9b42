import shutil

import numpy as np
import pytest

from core.classes import IGNORE_INDEX
from core.data import io
from core.data.source import open_dataset
from core.errors import DataError
from core.evaluate import Prediction
from core.labeling.session import LabelSession


@pytest.fixture
def source(synth_data, tmp_path):
    root = tmp_path / "ds"
    shutil.copytree(synth_data, root)
    return open_dataset(root)


def _session(source):
    return LabelSession(source, source.samples("train")[0])


def test_stroke_is_one_undo_step(source):
    s = _session(source)
    orig = s.mask.copy()
    s.begin_stroke()
    s.stroke_to((5, 5), (5, 5), 5, value=2)
    s.stroke_to((5, 5), (40, 5), 5, value=2)
    rect = s.end_stroke()
    assert rect is not None and (s.mask[5, 5:41] == 2).all() and s.dirty
    s.undo()
    assert np.array_equal(s.mask, orig) and not s.dirty
    s.redo()
    assert (s.mask[5, 5:41] == 2).all()


def test_fill_polygon_eraser_and_take_prediction(source):
    s = _session(source)
    s.fill_polygon([(0, 0), (20, 0), (20, 20), (0, 20)], 4)
    assert (s.mask[:21, :21] == 4).all()
    assert s.flood_fill(3, 3, 6) is not None and (s.mask[:21, :21] == 6).all()
    assert s.flood_fill(3, 3, 6) is None  # same class: nothing to do
    s.stroke_to((3, 3), (3, 3), 3, value=IGNORE_INDEX)
    assert s.mask[3, 3] == IGNORE_INDEX
    assert s.stroke_to((3, 3), (3, 3), 3, from_prediction=True) is None  # no prediction yet
    h, w = s.shape
    s.prediction = Prediction(np.full((h, w), 9, np.uint8), np.zeros((h, w), np.float32))
    outside = s.mask[10:, 10:].copy()
    s.stroke_to((3, 3), (3, 3), 3, from_prediction=True)
    assert (s.mask[2:5, 2:5] == 9).all() and np.array_equal(s.mask[10:, 10:], outside)
    assert len(s.history) == 4  # polygon, fill, eraser, take-prediction (the no-op fill is not a step)


def test_save_backs_up_once_and_restores(source):
    s = _session(source)
    path = s.mask_path
    original_bytes = path.read_bytes()
    orig = s.mask.copy()
    s.fill_polygon([(0, 0), (30, 0), (30, 30)], 1)
    s.save()
    assert not s.dirty and s.has_backup
    assert np.array_equal(source.read_mask(s.sample), s.mask)
    backup = source.root / ".roadseg-backup" / path.relative_to(source.root)
    assert backup.read_bytes() == original_bytes
    s.stroke_to((50, 50), (60, 50), 3, value=2)
    s.save()
    assert backup.read_bytes() == original_bytes
    again = open_dataset(source.root)  # the backup folder is not mistaken for a split
    assert again.splits == source.splits
    assert [len(again.samples(k)) for k in again.splits] == [len(source.samples(k)) for k in source.splits]
    s.restore_original()
    assert path.read_bytes() == original_bytes and np.array_equal(s.mask, orig)
    assert not s.dirty and not s.has_backup
    s.undo()  # the restore itself can be undone
    assert s.dirty and s.mask[50, 55] == 2


def test_failed_save_keeps_file_and_memory(source, monkeypatch):
    s = _session(source)
    path = s.mask_path
    before = path.read_bytes()
    s.fill_polygon([(0, 0), (30, 0), (30, 30)], 1)
    edited = s.mask.copy()

    def broken_replace(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(io.os, "replace", broken_replace)
    with pytest.raises(DataError):
        s.save()
    assert path.read_bytes() == before and s.dirty and np.array_equal(s.mask, edited)
    assert not [p for p in path.parent.iterdir() if p.suffix == ".tmp"]


def test_cityscapes_edit_is_saved_as_label_ids_with_backup(tmp_path):
    """A Cityscapes mask stays a labelIds PNG (road = 7, car = 26) after an edit."""
    import cv2

    root = tmp_path / "cs"
    img_dir, gt_dir = root / "leftImg8bit" / "val" / "ulm", root / "gtFine" / "val" / "ulm"
    img_dir.mkdir(parents=True)
    gt_dir.mkdir(parents=True)
    cv2.imwrite(str(img_dir / "ulm_000000_000019_leftImg8bit.png"), np.zeros((16, 24, 3), np.uint8))
    label_ids = np.full((16, 24), 7, np.uint8)  # road everywhere
    mask_file = gt_dir / "ulm_000000_000019_gtFine_labelIds.png"
    cv2.imwrite(str(mask_file), label_ids)
    original = mask_file.read_bytes()
    src = open_dataset(root)
    s = LabelSession(src, src.samples("val")[0])
    assert (s.mask == 0).all()  # train id 0 = road
    s.fill_polygon([(0, 0), (10, 0), (10, 10), (0, 10)], 13)  # train id 13 = car
    s.save()
    raw = cv2.imread(str(mask_file), cv2.IMREAD_UNCHANGED)
    assert raw[5, 5] == 26 and raw[15, 20] == 7
    assert (root / ".roadseg-backup" / "gtFine" / "val" / "ulm" / mask_file.name).read_bytes() == original
    again = open_dataset(root)  # the backup folder is not mistaken for data
    assert again.splits == ["val"] and len(again.samples("val")) == 1


def test_a_segmented_region_is_one_undo_step_and_can_keep_what_is_labelled(source):
    s = _session(source)
    before = s.mask.copy()
    region = np.zeros(s.shape, bool)
    region[10:30, 20:50] = True
    s.mask[12, 22] = IGNORE_INDEX  # one void pixel inside the region
    start = s.mask.copy()
    rect = s.paint_region(region, 5)
    assert rect.x0 >= 20 and rect.y0 >= 10 and rect.x1 <= 50 and rect.y1 <= 30 and (s.mask[region] == 5).all()
    assert (s.mask[~region] == start[~region]).all() and len(s.history) == 1
    s.undo()
    assert np.array_equal(s.mask, start)
    s.paint_region(region, 5, only_void=True)  # Alt+Enter: only pixels still void
    expected = start.copy()
    expected[12, 22] = 5
    assert np.array_equal(s.mask, expected)
    assert s.paint_region(np.zeros(s.shape, bool), 5) is None  # nothing to paint: no step
    with pytest.raises(ValueError, match="region"):
        s.paint_region(np.zeros((3, 3), bool), 5)
    assert before.shape == s.mask.shape
