"""The real CamVid (SegNet split) beside the repo loads as-is; skipped where it is missing."""
import numpy as np

from core.data.source import open_dataset
from core.data.stats import compute_stats


def test_camvid_opens_with_the_expected_splits(camvid_root):
    ds = open_dataset(camvid_root)
    assert ds.format == "camvid" and ds.schema.name == "camvid11"
    assert ds.splits == ["train", "val"]
    assert len(ds.samples("train")) == 367 and len(ds.samples("val")) == 101
    image, mask = ds.read_pair(ds.samples("train")[0])
    assert image.shape == (360, 480, 3) and mask.shape == (360, 480)


def test_camvid_masks_decode_to_train_ids(camvid_root):
    ds = open_dataset(camvid_root)
    stats = compute_stats(ds, "val")  # reads every val mask through the validating decoder
    assert stats.num_images == 101 and stats.total_pixels == 101 * 360 * 480
    assert stats.pixel_counts.sum() + stats.void_pixels == stats.total_pixels
    assert (stats.image_counts > 0).all()  # all 11 classes occur in val
    train = compute_stats(ds, "train")
    assert train.num_images == 367 and train.pixel_counts.sum() > 0.9 * train.total_pixels
    mask = ds.read_mask(ds.samples("train")[0])
    assert set(np.unique(mask).tolist()) <= set(range(11)) | {255}
