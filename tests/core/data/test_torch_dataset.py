"""SegmentationDataset: item shapes and dtypes, caching, and pickling for spawned workers."""
import multiprocessing as mp
import pickle

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader

from core.data.source import open_dataset
from core.data.torch_dataset import SegmentationDataset
from core.errors import ConfigError

SIZE = (32, 48)


@pytest.fixture(scope="module")
def source(synth_data):
    return open_dataset(synth_data)


def test_item_shapes_and_dtypes(source):
    ds = SegmentationDataset(source, "train", SIZE, augment="strong", train=True)
    assert len(ds) == 12 and ds.names[0] == "synth_00000" and ds.schema.name == "camvid11"
    image, mask = ds[0]
    assert image.shape == (3, *SIZE) and image.dtype == torch.float32
    assert mask.shape == SIZE and mask.dtype == torch.int64
    assert set(mask.unique().tolist()) <= set(range(11)) | {255}
    assert ds[-1][1].shape == SIZE
    with pytest.raises(IndexError):
        ds[12]


def test_cache_holds_resized_uint8_pairs(source):
    cached = SegmentationDataset(source, "val", SIZE, cache=True, train=False)
    plain = SegmentationDataset(source, "val", SIZE, cache=False, train=False)
    for i in range(len(cached)):
        a, b = cached[i], plain[i]
        assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    assert len(cached._cached) == 4 and not plain._cached
    image, mask = cached._cached[0]
    assert image.shape == (*SIZE, 3) and image.dtype == np.uint8 and mask.dtype == np.uint8


def test_eval_items_are_deterministic(source):
    ds = SegmentationDataset(source, "val", SIZE, augment="strong", train=False)
    assert torch.equal(ds[1][0], ds[1][0])


def test_pickles_without_the_transform(source):
    ds = SegmentationDataset(source, "val", SIZE, augment="light")
    ds[0]
    back = pickle.loads(pickle.dumps(ds))
    assert back._transform is None and len(back._cached) == 1
    assert back[0][0].shape == (3, *SIZE)


def test_bad_preset_fails_at_construction(source):
    with pytest.raises(ConfigError):
        SegmentationDataset(source, "train", SIZE, augment="wild")


def test_dataloader_with_spawned_worker(source):
    ds = SegmentationDataset(source, "val", SIZE, augment="light")
    loader = DataLoader(ds, batch_size=2, num_workers=1,
                        multiprocessing_context=mp.get_context("spawn"))
    batches = list(loader)
    assert len(batches) == 2
    images, masks = batches[0]
    assert images.shape == (2, 3, *SIZE) and masks.dtype == torch.int64


def test_augmenting_never_alters_the_cache(source):
    ds = SegmentationDataset(source, "val", SIZE, augment="strong")
    ds.load(0)
    before = [a.copy() for a in ds._cached[0]]
    for _ in range(20):
        ds[0]
    assert all(np.array_equal(a, b) for a, b in zip(before, ds._cached[0], strict=True))


def test_copy_paste_brings_another_images_rare_pixels(source):
    from core.data.copy_paste import paste

    rare = [2, 9]  # Pole and Pedestrian in the synthetic scenes
    ds = SegmentationDataset(source, "train", SIZE, augment="none", train=True,
                             copy_paste=(rare, 1.0))
    plain = SegmentationDataset(source, "train", SIZE, augment="none", train=True)
    changed = 0
    for i in range(len(ds)):
        image, mask = ds[i]
        own = ds.load(i)
        # the item is this image with some other image's Pole/Pedestrian pixels pasted in
        donors = [j for j in range(len(ds)) if j != i
                  and np.array_equal(mask.numpy(), paste(*own, *ds.load(j), rare)[1])]
        assert donors
        changed += not torch.equal(mask, plain[i][1])
        assert np.array_equal(ds.load(i)[1], plain.load(i)[1])  # the cache is left as read
    assert changed >= len(ds) // 2
    # share 0 (or no rare classes) leaves the items alone
    for off in ((rare, 0.0), ([], 1.0)):
        same = SegmentationDataset(source, "train", SIZE, augment="none", train=True, copy_paste=off)
        assert same.copy_paste is None and torch.equal(same[0][1], plain[0][1])


def test_copy_paste_repeats_with_the_seed(source):
    def masks():
        torch.manual_seed(5)
        ds = SegmentationDataset(source, "train", SIZE, augment="none", copy_paste=([2, 9], 0.5))
        return [ds[i][1] for i in range(len(ds))]

    first, second = masks(), masks()
    assert all(torch.equal(a, b) for a, b in zip(first, second))
