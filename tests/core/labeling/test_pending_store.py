"""PendingStore: images beyond the memory bound wait on disk, and the report does not change."""
from types import SimpleNamespace

import numpy as np
import pytest

from core.labeling.issue_options import IssueOptions
from core.labeling.label_issues import score_label_issues
from core.labeling.pending_store import PendingStore, nbytes


def item(name, n):
    return SimpleNamespace(name=name, shape=(4, 5), at=np.arange(n, dtype=np.int32), sc=np.full(n, 0.5, np.float16))


def test_items_past_the_bound_go_to_disk_and_come_back_in_order(tmp_path):
    store = PendingStore(in_memory=2 * nbytes(item("a", 10)), folder=tmp_path)
    for i, name in enumerate("abcde"):
        store.append(item(name, 10))
    assert len(store) == 5 and store.spilled == 3 and store.shapes == [(4, 5)] * 5
    assert len(list(list(tmp_path.iterdir())[0].iterdir())) == 3
    back = list(store)
    assert [b.name for b in back] == list("abcde")
    assert all(np.array_equal(b.at, np.arange(10)) and b.sc.dtype == np.float16 for b in back)
    store.close()
    assert list(tmp_path.iterdir()) == []


def test_a_split_scored_through_the_disk_gives_the_same_report():
    rng = np.random.default_rng(0)
    data = {}
    for i in range(6):
        labels = rng.integers(0, 3, (24, 32)).astype(np.uint8)
        labels[:3] = 255
        logits = rng.normal(size=(3, 24, 32)).astype(np.float32) + 2 * np.eye(3)[labels % 3].transpose(2, 0, 1)
        probs = np.exp(logits) / np.exp(logits).sum(0)
        data[f"im{i}"] = (labels, probs.astype(np.float32))
    samples = [SimpleNamespace(name=n) for n in data]
    score = lambda in_memory: score_label_issues(  # noqa: E731
        samples, lambda s: data[s.name][1], lambda s: data[s.name][0], 3,
        IssueOptions(min_pixels=4), in_memory=in_memory)
    memory, disk = score(10**9), score(0)
    assert memory.order() == disk.order()
    for a, b in zip(memory.ranked(), disk.ranked()):
        assert (a.quality, a.relative, a.share) == pytest.approx((b.quality, b.relative, b.share))
        assert a.regions == b.regions and len(a.regions) > 0
