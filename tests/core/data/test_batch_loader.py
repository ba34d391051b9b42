"""BatchLoader: the DataLoader's epoch order, ShardSampler's shards, the right images, seeds."""
import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset

from core.data.model_input import IMAGENET_MEAN, IMAGENET_STD
from core.data.batch_augment import BatchAugment
from core.data.batch_loader import BatchLoader
from core.data.decoded import DecodedSplit, decode_split
from core.data.source import open_dataset
from core.engine.distributed import ShardSampler
from core.errors import ConfigError


def numbered(n=22, h=6, w=8):
    """A split whose image i is filled with grey level i and mask i with class i % 11."""
    images = torch.arange(n, dtype=torch.uint8).view(n, 1, 1, 1).repeat(1, 3, h, w)
    masks = (torch.arange(n, dtype=torch.uint8) % 11).view(n, 1, 1).repeat(1, h, w)
    return DecodedSplit(images, masks, [f"img{i:02d}" for i in range(n)])


def which(x: torch.Tensor) -> list[int]:
    """The image number of each sample of a normalised batch of `numbered` images."""
    grey = x[:, 0, 0, 0] * IMAGENET_STD[0] + IMAGENET_MEAN[0]
    return (grey * 255).round().long().tolist()


def dataloader_batches(n, batch, seed, epoch, world=1, rank=0):
    ds = TensorDataset(torch.arange(n))
    g = torch.Generator().manual_seed(seed * 100_003 + epoch)
    if world == 1:
        loader = DataLoader(ds, batch_size=batch, shuffle=True, drop_last=True, generator=g)
    else:
        loader = DataLoader(ds, batch_size=batch // world, sampler=ShardSampler(ds, g, world, rank, batch),
                            drop_last=True, generator=g)
    return [b[0].tolist() for b in loader]


def test_epoch_order_is_the_dataloaders_and_batches_hold_those_images():
    split = numbered()
    loader = BatchLoader(split, 4, BatchAugment("none", (6, 8)), seed=3)
    for epoch in (0, 1, 7):
        loader.set_epoch(epoch)
        expected = dataloader_batches(22, 4, seed=3, epoch=epoch)
        assert loader.batch_indices() == expected and len(loader) == len(expected) == 5  # drop_last
        got = [(which(x), y[:, 0, 0].tolist()) for x, y in loader]
        assert [g[0] for g in got] == expected
        assert [g[1] for g in got] == [[i % 11 for i in b] for b in expected]
    loader.set_epoch(0)
    first = loader.batch_indices()
    loader.set_epoch(1)
    assert loader.batch_indices() != first


@pytest.mark.parametrize("world", [2, 4])
def test_shards_match_shard_sampler_and_rebuild_the_single_process_batches(world):
    split = numbered(n=26)
    single = BatchLoader(split, 8, BatchAugment("none", (6, 8)), seed=5)
    single.set_epoch(2)
    shards = []
    for rank in range(world):
        loader = BatchLoader(split, 8, BatchAugment("none", (6, 8)), seed=5, rank=rank, world_size=world)
        loader.set_epoch(2)
        assert loader.batch_indices() == dataloader_batches(26, 8, seed=5, epoch=2, world=world, rank=rank)
        assert len(loader) == len(single) == 3
        assert [which(x) for x, _ in loader] == loader.batch_indices()
        shards.append(loader.batch_indices())
    for k, batch in enumerate(single.batch_indices()):
        assert sorted(i for rank in range(world) for i in shards[rank][k]) == sorted(batch)


def test_same_seed_repeats_an_epoch_other_seed_does_not(synth_data):
    split = decode_split(open_dataset(synth_data), "train", (32, 48))
    aug = BatchAugment("strong", (32, 48), crop_size=(24, 32), rare_crop=([2, 6], 0.5), copy_paste=([9], 0.5))
    run = lambda seed: [b for b in BatchLoader(split, 4, aug, seed=seed)]
    a, b, c = run(0), run(0), run(1)
    assert len(a) == 3
    for (xa, ya), (xb, yb) in zip(a, b):
        assert torch.equal(xa, xb) and torch.equal(ya, yb)
    assert not all(torch.equal(xa, xc) for (xa, _), (xc, _) in zip(a, c))
    assert a[0][0].shape == (4, 3, 24, 32) and a[0][1].dtype == torch.int64


def test_ranks_augment_with_their_own_streams():
    split = numbered(n=8)
    aug = BatchAugment("light", (6, 8))
    x0 = next(iter(BatchLoader(split, 4, aug, seed=0, rank=0, world_size=2)))[0]
    x1 = next(iter(BatchLoader(split, 4, aug, seed=0, rank=1, world_size=2)))[0]
    assert x0.shape == x1.shape == (2, 3, 6, 8) and not torch.equal(x0, x1)


def pasted_without_the_donor(loader, epochs=10):
    """Batches that lack image 5 yet hold an all-class-11 mask (pasted from image 5)."""
    count = 0
    for epoch in range(epochs):
        loader.set_epoch(epoch)
        for idx, (_, y) in zip(loader.batch_indices(), loader):
            count += 5 not in idx and bool((y == 11).all(dim=(1, 2)).any())
    return count


def test_donors_come_from_the_whole_split():
    split = numbered(n=12)
    split.masks[5] = 11  # the only image with the pasted class (the others hold i % 11)
    aug = BatchAugment("none", (6, 8), copy_paste=([11], 1.0))
    assert pasted_without_the_donor(BatchLoader(split, 4, aug, seed=0)) > 3
    assert pasted_without_the_donor(BatchLoader(split, 4, aug, seed=0, donors_from_split=False)) == 0


def test_bad_sizes_are_config_errors():
    split = numbered(n=6)
    aug = BatchAugment("none", (6, 8))
    with pytest.raises(ConfigError, match="fewer than the batch size 8"):
        BatchLoader(split, 8, aug)
    with pytest.raises(ConfigError, match="multiple of 4"):
        BatchLoader(split, 6, aug, world_size=4)
    with pytest.raises(ConfigError, match="rank 2 of 2"):
        BatchLoader(split, 2, aug, rank=2, world_size=2)
