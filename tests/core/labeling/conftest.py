"""A tiny SAM 2 of the real architecture (transformers' Sam2Model, random weights), saved the
way a downloaded model is: as a save_pretrained folder, or inside a Hugging Face hub cache."""
from __future__ import annotations

from pathlib import Path

import pytest

SIZE = 128  # the tiny model's input side (the real ones use 1024)
REPO = "roadseg-tests/tiny-sam2"


def save_tiny_sam2(folder: Path) -> Path:
    from transformers import Sam2Config, Sam2ImageProcessor, Sam2Model, Sam2Processor
    from transformers.models.sam2.configuration_sam2 import (Sam2HieraDetConfig, Sam2MaskDecoderConfig,
                                                             Sam2PromptEncoderConfig, Sam2VisionConfig)
    import torch

    torch.manual_seed(0)
    backbone = Sam2HieraDetConfig(hidden_size=16, num_attention_heads=1, image_size=[SIZE, SIZE],
                                  blocks_per_stage=[1, 1, 2, 1], embed_dim_per_stage=[16, 32, 64, 128],
                                  num_attention_heads_per_stage=[1, 1, 2, 2], window_size_per_stage=[8, 4, 4, 4],
                                  global_attention_blocks=[3], window_positional_embedding_background_size=[4, 4])
    vision = Sam2VisionConfig(backbone_config=backbone, backbone_channel_list=[128, 64, 32, 16],
                              backbone_feature_sizes=[[SIZE // 4] * 2, [SIZE // 8] * 2, [SIZE // 16] * 2],
                              fpn_hidden_size=32)
    config = Sam2Config(vision_config=vision,
                        prompt_encoder_config=Sam2PromptEncoderConfig(hidden_size=32, image_size=SIZE, patch_size=16),
                        mask_decoder_config=Sam2MaskDecoderConfig(hidden_size=32, mlp_dim=64, num_attention_heads=2,
                                                                  iou_head_hidden_dim=32))
    Sam2Model(config).eval().save_pretrained(folder)
    Sam2Processor(image_processor=Sam2ImageProcessor(size={"height": SIZE, "width": SIZE}),
                  target_size=SIZE).save_pretrained(folder)
    return folder


def hub_cache_with(folder: Path, cache: Path, repo: str = REPO, commit: str = "0" * 40) -> Path:
    """Lay `folder`'s files out as huggingface_hub's cache holds a downloaded repo."""
    base = cache / f"models--{repo.replace('/', '--')}"
    snap = base / "snapshots" / commit
    snap.mkdir(parents=True)
    for f in folder.iterdir():
        (snap / f.name).write_bytes(f.read_bytes())
    (base / "refs").mkdir()
    (base / "refs" / "main").write_text(commit)
    return cache


@pytest.fixture(scope="session")
def tiny_sam2(tmp_path_factory) -> Path:
    pytest.importorskip("transformers")
    return save_tiny_sam2(tmp_path_factory.mktemp("tiny-sam2"))
