"""core.labeling.click_segment with a tiny SAM 2 of the real architecture: loading from a folder
and from the hub cache offline, prompts reaching the model in the model's coordinates, masks at
the image's size, and a missing or broken model as one clear line."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from core.errors import ModelError
from core.labeling.click_segment import ClickSegmenter
from tests.core.labeling.conftest import REPO, SIZE, hub_cache_with

IMAGE = np.random.default_rng(0).integers(0, 256, (90, 120, 3), np.uint8)


@pytest.fixture(scope="module")
def seg(tiny_sam2):
    return ClickSegmenter(tiny_sam2)


def test_embed_once_then_masks_at_the_image_size(seg):
    emb = seg.embed(IMAGE, "a")
    assert emb.key == "a" and emb.size == (90, 120) and emb.seconds >= 0
    assert [tuple(f.shape[-2:]) for f in emb.features] == [(SIZE // 4,) * 2, (SIZE // 8,) * 2, (SIZE // 16,) * 2]
    for points, labels, box in [([(30, 40)], [1], None), ([(30, 40), (60, 20)], [1, 0], None),
                                ([], [], (10, 10, 80, 70)), ([(30, 40)], [1], (80, 70, 10, 10))]:
        mask = seg.segment(emb, points, labels, box)
        assert mask.shape == (90, 120) and mask.dtype == bool
    assert not seg.segment(emb).any()  # no prompt: no proposal


def test_prompts_reach_the_model_scaled_to_its_input(seg, monkeypatch):
    emb = seg.embed(IMAGE, "a")
    seen = []
    forward = seg.model.forward

    def spy(**kw):
        seen.append(kw)
        return forward(**kw)

    monkeypatch.setattr(seg.model, "forward", spy)
    seg.segment(emb, [(30, 45)], [1])
    one = seen[-1]
    assert one["multimask_output"] is True  # one click: the best of the model's three answers
    assert one["input_points"].flatten().tolist() == pytest.approx([30 * SIZE / 120, 45 * SIZE / 90])
    assert one["input_labels"].tolist() == [[[1]]]
    seg.segment(emb, [(30, 45), (100, 10)], [1, 0], box=(110, 80, 20, 5))
    two = seen[-1]
    assert two["multimask_output"] is False
    assert two["input_labels"].tolist() == [[[1, 0]]]
    # the box comes in corner order whatever way it was dragged
    assert two["input_boxes"].flatten().tolist() == pytest.approx([20 * SIZE / 120, 5 * SIZE / 90,
                                                                   110 * SIZE / 120, 80 * SIZE / 90])


def test_the_best_scored_of_three_answers_is_taken(seg, monkeypatch):
    emb = seg.embed(IMAGE, "a")
    low = torch.full((1, 1, 3, SIZE // 4, SIZE // 4), -10.0)
    low[0, 0, 1, :8, :8] = 10.0  # answer 1: the top-left corner

    class Out:
        pred_masks = low
        iou_scores = torch.tensor([[[0.1, 0.9, 0.3]]])

    monkeypatch.setattr(seg.model, "forward", lambda **kw: Out())
    mask = seg.segment(emb, [(5, 5)], [1])
    assert mask[:10, :10].all() and not mask[40:, 60:].any()


def test_loads_from_the_hub_cache_offline(tiny_sam2, tmp_path, monkeypatch):
    cache = hub_cache_with(tiny_sam2, tmp_path / "hub")
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    import huggingface_hub.constants as c

    monkeypatch.setattr(c, "HF_HUB_CACHE", str(cache))
    monkeypatch.setattr(c, "HF_HUB_OFFLINE", True)
    seg = ClickSegmenter(REPO)
    assert seg.segment(seg.embed(IMAGE), [(50, 50)], [1]).shape == (90, 120)


def test_a_missing_model_offline_is_one_line_saying_how_to_get_it(tmp_path, monkeypatch):
    import huggingface_hub.constants as c

    monkeypatch.setattr(c, "HF_HUB_CACHE", str(tmp_path / "empty"))
    monkeypatch.setattr(c, "HF_HUB_OFFLINE", True)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ModelError) as err:
        ClickSegmenter("facebook/sam2.1-hiera-tiny")
    msg = str(err.value)
    assert "\n" not in msg and "HF_HUB_OFFLINE is set" in msg and "hf download facebook/sam2.1-hiera-tiny" in msg


def test_a_broken_or_foreign_model_folder_is_one_line(tiny_sam2, tmp_path):
    with pytest.raises(ModelError, match="no config.json"):
        ClickSegmenter(tmp_path)
    broken = tmp_path / "broken"
    broken.mkdir()
    for f in tiny_sam2.iterdir():
        (broken / f.name).write_bytes(f.read_bytes())
    (broken / "model.safetensors").write_bytes(b"not safetensors")
    with pytest.raises(ModelError) as err:
        ClickSegmenter(broken)
    assert "\n" not in str(err.value) and str(broken) in str(err.value)
    cfg = json.loads((broken / "config.json").read_text())
    cfg["model_type"] = "no-such-model"
    (broken / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(ModelError, match="cannot load it as a SAM-family model|neither a folder"):
        ClickSegmenter(broken)
