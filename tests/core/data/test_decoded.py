"""decode_split: the same pixels as SegmentationDataset, every bad file named, storage decision."""
import shutil

import cv2
import numpy as np
import pytest
import torch

from core.data.decoded import decode_split, fits_on_device, split_bytes, storage_for
from core.data.source import open_dataset
from core.data.torch_dataset import SegmentationDataset
from core.errors import DataError


@pytest.fixture(scope="module")
def source(synth_data):
    return open_dataset(synth_data)


@pytest.mark.parametrize("size", [(64, 96), (40, 56)])
def test_same_pixels_as_the_dataset_cache(source, size):
    decoded = decode_split(source, "train", size)
    ds = SegmentationDataset(source, "train", size, cache=False)
    assert decoded.names == ds.names and len(decoded) == 12
    assert decoded.images.shape == (12, 3, *size) and decoded.images.dtype == torch.uint8
    assert decoded.masks.shape == (12, *size) and decoded.masks.dtype == torch.uint8
    for i in range(len(ds)):
        image, mask = ds.load(i)
        assert np.array_equal(decoded.images[i].permute(1, 2, 0).numpy(), image)
        assert np.array_equal(decoded.masks[i].numpy(), mask)
    assert decoded.nbytes == 12 * 4 * size[0] * size[1]


@pytest.mark.parametrize("size", [(64, 96), (40, 56)])
def test_class_counts_are_of_the_full_resolution_masks(source, size):
    """Counted before the resize, so statistics from them equal a read of the masks on disk."""
    decoded = decode_split(source, "train", size)
    assert decoded.class_counts.shape == (12, 256)
    for i, sample in enumerate(source.samples("train")):
        mask = source.read_mask(sample)
        assert mask.shape == (64, 96)
        assert np.array_equal(decoded.class_counts[i], np.bincount(mask.ravel(), minlength=256))


def test_loop_and_thread_pool_agree_and_report_progress(source):
    seen = []
    a = decode_split(source, "val", (32, 48), threads=1, progress=lambda d, n: seen.append((d, n)))
    b = decode_split(source, "val", (32, 48), threads=3)
    assert torch.equal(a.images, b.images) and torch.equal(a.masks, b.masks) and a.names == b.names
    assert seen == [(1, 4), (2, 4), (3, 4), (4, 4)]


@pytest.fixture
def broken(synth_data, tmp_path):
    """A copy of the synthetic set with a garbage image, a truncated image and a mask of the wrong
    size in its train split."""
    root = tmp_path / "data"
    shutil.copytree(synth_data, root)
    src = open_dataset(root)
    samples = src.samples("train")
    samples[1].image.write_bytes(b"this is not an image")
    data = samples[4].image.read_bytes()
    samples[4].image.write_bytes(data[: len(data) // 2])
    mask = cv2.imread(str(samples[7].mask), cv2.IMREAD_UNCHANGED)
    cv2.imwrite(str(samples[7].mask), mask[:-3])
    return src, [samples[1], samples[4], samples[7]]


def test_every_bad_file_is_named_with_the_readers_own_error(broken):
    src, bad = broken
    with pytest.raises(DataError) as info:
        decode_split(src, "train", (32, 48), threads=2)
    message = str(info.value)
    assert "\n" not in message and message.startswith("3 of the 12 'train' files cannot be used: ")
    for sample in bad:
        with pytest.raises(DataError) as one:
            src.read_pair(sample)
        assert str(one.value) in message
    assert str(bad[0].image) in message and str(bad[1].image) in message and str(bad[2].mask) in message
    assert message.index(str(bad[0].image)) < message.index(str(bad[1].image)) < message.index(str(bad[2].mask))


def test_one_bad_file_gives_exactly_the_readers_error(synth_data, tmp_path):
    root = tmp_path / "data"
    shutil.copytree(synth_data, root)
    src = open_dataset(root)
    sample = src.samples("val")[2]
    sample.image.write_bytes(b"")
    with pytest.raises(DataError) as info:
        decode_split(src, "val", (32, 48))
    assert str(info.value) == f"{sample.image}: not a readable image (empty file, 0 bytes)"


def test_split_bytes_and_the_device_decision():
    camvid = split_bytes(367, (360, 480))
    assert camvid == 367 * 4 * 360 * 480 == 253_670_400
    assert fits_on_device(camvid, free_bytes=80 * 2**30)  # an 80 GiB GPU: on the device
    assert not fits_on_device(camvid, free_bytes=900_000_000)  # 225 MB allowed: pinned host memory
    assert fits_on_device(250, free_bytes=1000) and not fits_on_device(251, free_bytes=1000)
    assert fits_on_device(500, free_bytes=1000, share=0.5)
    assert storage_for("cpu", camvid) == "cpu" and storage_for(None, 10**12) == "cpu"


def test_decoded_split_lives_on_the_cpu_when_asked(source):
    decoded = decode_split(source, "val", (32, 48), device="cpu")
    assert decoded.device == torch.device("cpu") and decoded.image_size == (32, 48)
