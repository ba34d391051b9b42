"""decode_split_shared: two processes of one machine decode one shared copy, each its share."""
from __future__ import annotations

import os
import socket
import sys

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from core.data.decoded import decode_split
from core.data.source import open_dataset
from core.errors import DataError

SIZE = (32, 48)


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _worker(rank: int, world: int, port: int, data: str, out: str) -> None:
    os.environ.update(RANK=str(rank), LOCAL_RANK=str(rank), WORLD_SIZE=str(world), LOCAL_WORLD_SIZE=str(world),
                      GROUP_RANK="0", MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    dist.init_process_group("gloo", rank=rank, world_size=world)
    from core.data import shared_split

    decoded_here = []
    real = shared_split.decode_into
    shared_split.decode_into = lambda src, s, img, m: decoded_here.append(s.name) or real(src, s, img, m)
    try:
        split = shared_split.decode_split_shared(open_dataset(data), "train", SIZE, torch.device("cpu"))
        result = {"images": split.images.clone(), "masks": split.masks.clone(),
                  "counts": torch.from_numpy(split.class_counts), "decoded": decoded_here}
        dist.barrier()
        if rank == 0:  # one copy: a pixel written by one process is what the other reads
            split.images[-1, 2, -1, -1] = 255 - int(result["images"][-1, 2, -1, -1])
        dist.barrier()
        result.update({
                  "shared": int(split.images[-1, 2, -1, -1]) == 255 - int(result["images"][-1, 2, -1, -1]),
                  "files_left": [p for p in os.listdir("/dev/shm") if p.startswith("roadseg-split-")]
                  if os.path.isdir("/dev/shm") else []})
    except DataError as e:
        result = {"error": str(e)}
    torch.save(result, f"{out}/rank{rank}.pt")
    dist.barrier()
    dist.destroy_process_group()


def _run(data, tmp_path):
    mp.spawn(_worker, args=(2, _port(), str(data), str(tmp_path)), nprocs=2, join=True)
    return [torch.load(tmp_path / f"rank{r}.pt", weights_only=True) for r in range(2)]


@pytest.mark.skipif(sys.platform != "linux", reason="shared mapping of /dev/shm")
def test_two_processes_share_one_decode_each_doing_half(synth_data, tmp_path):
    single = decode_split(open_dataset(synth_data), "train", SIZE)
    ranks = _run(synth_data, tmp_path)
    for r in ranks:
        assert torch.equal(r["images"], single.images) and torch.equal(r["masks"], single.masks)
        assert torch.equal(r["counts"], torch.from_numpy(single.class_counts))
        assert r["shared"] and r["files_left"] == []  # one mapping, and its name already gone
    names = single.names
    assert ranks[0]["decoded"] == names[0::2] and ranks[1]["decoded"] == names[1::2]


def test_a_bad_file_in_either_share_fails_every_process(synth_data, tmp_path):
    import shutil

    root = tmp_path / "data"
    shutil.copytree(synth_data, root)
    victim = open_dataset(root).samples("train")[3]  # decoded by the second process
    victim.image.write_bytes(b"not an image")
    (tmp_path / "out").mkdir()
    ranks = _run(root, tmp_path / "out")
    for r in ranks:
        assert victim.image.name in r["error"] and "not a readable image" in r["error"]
