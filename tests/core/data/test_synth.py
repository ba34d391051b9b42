"""Synthetic road scenes: CamVid layout, determinism to the byte, and every class showing up."""
import hashlib

import numpy as np
import pytest

from core.data.source import open_dataset
from core.data.synth import generate_synthetic, render_scene
from core.errors import ConfigError


def _digest(root):
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*.png"))}


def test_layout_and_masks(synth_data):
    ds = open_dataset(synth_data)
    assert ds.format == "camvid" and ds.schema.name == "camvid11"
    assert ds.splits == ["train", "val"]
    assert len(ds.samples("train")) == 12 and len(ds.samples("val")) == 4
    image, mask = ds.read_pair(ds.samples("val")[0])
    assert image.shape == (64, 96, 3) and mask.shape == (64, 96)
    assert set(np.unique(mask)) <= set(range(11)) | {255}


def test_same_seed_same_bytes(tmp_path):
    a = generate_synthetic(tmp_path / "a", count=3, size=(40, 56), seed=7)
    b = generate_synthetic(tmp_path / "b", count=3, size=(40, 56), seed=7)
    c = generate_synthetic(tmp_path / "c", count=3, size=(40, 56), seed=8)
    assert _digest(a) == _digest(b)
    assert _digest(a) != _digest(c)
    assert len(_digest(a)) == 6  # 3 images + 3 masks


def test_all_classes_appear_across_a_small_set():
    seen = set()
    for i in range(6):
        image, mask = render_scene(np.random.default_rng([0, i]), (90, 120))
        assert image.shape == (90, 120, 3) and image.dtype == np.uint8
        seen |= set(np.unique(mask).tolist())
    assert seen == set(range(11)) | {255}


def test_not_separable_by_colour_alone():
    """A colour -> class lookup learned on some scenes labels new scenes poorly."""
    def scene(i):
        image, mask = render_scene(np.random.default_rng([5, i]), (60, 80))
        q = (image // 16).reshape(-1, 3).astype(np.int64)
        return q[:, 0] * 256 + q[:, 1] * 16 + q[:, 2], mask.ravel()

    votes = np.zeros((4096, 256), np.int64)
    for i in range(6):
        k, m = scene(i)
        np.add.at(votes, (k, m), 1)
    lookup = votes.argmax(1)
    accuracies = []
    for i in range(6, 9):
        k, m = scene(i)
        labelled = m != 255
        accuracies.append((lookup[k][labelled] == m[labelled]).mean())
    assert np.mean(accuracies) < 0.8


def test_progress_and_val_fraction(tmp_path):
    calls = []
    root = generate_synthetic(tmp_path / "d", count=5, size=(32, 48), seed=1, val_fraction=0.4,
                              progress=lambda done, total: calls.append((done, total)))
    assert calls == [(i, 5) for i in range(1, 6)]
    ds = open_dataset(root)
    assert len(ds.samples("train")) == 3 and len(ds.samples("val")) == 2


def test_planted_label_errors_are_listed_and_only_those_masks_change(tmp_path):
    import json

    from core.data.synth import LABEL_ERRORS_FILE
    from core.labeling.planted_errors import TYPES

    args = dict(count=24, size=(180, 240), seed=3, val_fraction=0.5)
    clean = open_dataset(generate_synthetic(tmp_path / "clean", **args))
    root = generate_synthetic(tmp_path / "planted", label_errors=0.5, **args)
    planted = open_dataset(root)
    listing = json.loads((root / LABEL_ERRORS_FILE).read_text())
    kinds = {e["name"]: e["kind"] for e in listing["errors"]}
    assert listing["split"] == "val" and set(kinds.values()) <= set(TYPES)
    assert len(kinds) >= 4  # 12 val images, half of them, as many types as have something to corrupt
    for a, b in zip(clean.samples("val"), planted.samples("val")):
        changed = int((clean.read_mask(a) != planted.read_mask(b)).sum())
        if a.name in kinds:
            assert changed == next(e["pixels"] for e in listing["errors"] if e["name"] == a.name) > 0
        else:
            assert changed == 0
    assert _digest(tmp_path / "clean" / "train") == _digest(root / "train")  # train untouched
    assert _digest(tmp_path / "clean" / "trainannot") == _digest(root / "trainannot")
    assert not (tmp_path / "clean" / LABEL_ERRORS_FILE).exists()


@pytest.mark.parametrize("kwargs", [dict(count=0), dict(count=2, size=(8, 8)),
                                    dict(count=2, val_fraction=1.0),
                                    dict(count=4, val_fraction=0.0, label_errors=0.3),
                                    dict(count=4, label_errors=1.5)])
def test_bad_arguments(tmp_path, kwargs):
    with pytest.raises(ConfigError):
        generate_synthetic(tmp_path / "x", **kwargs)
