"""StreamedSplit: the same batches as the in-memory path, read ahead, resumed unread, bad files named."""
import os
import shutil

import pytest
import torch

from core.data import streamed as streamed_module
from core.data.batch_augment import BatchAugment
from core.data.batch_loader import BatchLoader
from core.data.decoded import decode_split
from core.data.source import open_dataset
from core.data.streamed import StreamedSplit, check_headers
from core.errors import DataError

SIZE = (32, 48)


def augment():
    """Every draw the loader makes: geometry, colour, rare-class crops and copy-paste donors."""
    return BatchAugment("strong", SIZE, crop_size=(24, 32), rare_crop=([2, 6], 0.5), copy_paste=([9], 0.5))


def epochs(loader, count=2):
    out = []
    for epoch in range(count):
        loader.set_epoch(epoch)
        out.append(list(loader))
    return out


@pytest.mark.parametrize("world", [1, 2])
def test_streamed_batches_are_the_in_memory_batches(synth_data, world):
    source = open_dataset(synth_data)
    memory = decode_split(source, "train", SIZE)
    stream = StreamedSplit(source, "train", SIZE, threads=2, prefetch=2)
    for rank in range(world):
        a = epochs(BatchLoader(memory, 4, augment(), seed=7, rank=rank, world_size=world))
        b = epochs(BatchLoader(stream, 4, augment(), seed=7, rank=rank, world_size=world))
        assert [len(e) for e in a] == [len(e) for e in b] == [3, 3]
        for ea, eb in zip(a, b):
            for (xa, ya), (xb, yb) in zip(ea, eb):
                assert xa.shape == (4 // world, 3, 24, 32)
                assert torch.equal(xa, xb) and torch.equal(ya, yb)
    stream.close()


def test_iter_from_yields_the_rest_of_the_epoch_without_reading_the_skipped_pairs(synth_data, monkeypatch):
    source = open_dataset(synth_data)
    stream = StreamedSplit(source, "train", SIZE, threads=1)
    loader = BatchLoader(stream, 4, augment(), seed=2)
    loader.set_epoch(1)
    full = list(loader)
    read = []
    real = streamed_module.decode_into
    monkeypatch.setattr(streamed_module, "decode_into",
                        lambda src, sample, *rest: read.append(sample.name) or real(src, sample, *rest))
    rest = list(loader.iter_from(2))
    assert len(rest) == 1
    assert torch.equal(rest[0][0], full[2][0]) and torch.equal(rest[0][1], full[2][1])
    wanted = {stream.names[i] for i in loader.batch_indices()[2]}
    assert wanted <= set(read)
    assert len(read) == 8  # the batch's 4 pairs and its 4 copy-paste donors, not the epoch's 12 + 12


def test_reading_ahead_stays_within_prefetch_batches(synth_data, monkeypatch):
    source = open_dataset(synth_data)
    stream = StreamedSplit(source, "train", SIZE, threads=1, prefetch=1)
    submitted = []
    real = stream._submit
    monkeypatch.setattr(stream, "_submit", lambda idx, pinned: submitted.append(idx) or real(idx, pinned))
    requests = [[0, 1], [2, 3], [4, 5], [6, 7], [8, 9]]
    gen = stream.batches(requests, torch.device("cpu"))
    first = next(gen)
    assert first[0].shape == (2, 3, *SIZE) and first[0].dtype == torch.uint8
    assert len(submitted) == 3  # the batch yielded, one ahead, and the one queued as it left
    rest = list(gen)
    assert len(rest) == 4 and submitted == requests
    stream.close()


def corrupt_copy(synth_data, tmp_path):
    root = tmp_path / "data"
    shutil.copytree(synth_data, root)
    source = open_dataset(root)
    victim = source.samples("train")[5]
    data = victim.image.read_bytes()
    victim.image.write_bytes(data[: len(data) // 2])  # a truncated body: its header still reads
    return root, victim


def test_a_file_that_fails_mid_stream_raises_its_data_error(synth_data, tmp_path):
    root, victim = corrupt_copy(synth_data, tmp_path)
    source = open_dataset(root)
    check_headers(source, "train")  # the header is intact: only the decode finds it
    stream = StreamedSplit(source, "train", SIZE, threads=2)
    requests = [[i] for i in range(len(stream))]
    got = []
    with pytest.raises(DataError, match=victim.image.name):
        for pair in stream.batches(requests, torch.device("cpu")):
            got.append(pair)
    assert len(got) == 5  # the pairs before it arrived
    stream.close()


def test_header_pass_names_every_missing_or_mismatched_file(synth_data, tmp_path):
    import cv2
    import numpy as np

    root = tmp_path / "data"
    shutil.copytree(synth_data, root)
    samples = open_dataset(root).samples("train")
    source = open_dataset(root)
    samples[1].image.write_bytes(b"")
    cv2.imwrite(str(samples[3].mask), np.zeros((10, 10), np.uint8))
    with pytest.raises(DataError) as e:
        check_headers(source, "train")
    text = str(e.value)
    assert text.startswith("2 of the 12 'train' files cannot be used")
    assert samples[1].image.name in text and "empty file" in text
    assert f"{samples[3].mask}: mask is 10x10" in text


@pytest.mark.skipif(not hasattr(os, "getpriority"), reason="per-thread nice is Linux's")
def test_cpu_training_decodes_on_one_low_priority_thread(synth_data):
    import threading

    from core.data.streamed import decode_settings

    assert decode_settings("cpu") == {"threads": 1, "nice": 19} and decode_settings(None)["threads"] == 1
    assert decode_settings("cuda") == {}  # a GPU keeps the whole pool at normal priority
    stream = StreamedSplit(open_dataset(synth_data), "train", SIZE, **decode_settings("cpu"))
    seen = []

    def probe():
        seen.append((threading.current_thread().name, os.getpriority(os.PRIO_PROCESS, threading.get_native_id())))

    stream._executor().submit(probe).result()
    base = os.getpriority(os.PRIO_PROCESS, 0)
    assert seen[0][0].startswith("roadseg-stream") and seen[0][1] == min(19, base + 19)
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == base  # the caller keeps its own
    stream.close()
