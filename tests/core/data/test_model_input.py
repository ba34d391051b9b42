import subprocess
import sys

import numpy as np
import pytest
import torch

from core.data.augment import build_transform
from core.data.model_input import IMAGENET_MEAN, IMAGENET_STD, input_batch, resize_image


@pytest.mark.parametrize("size", [(24, 32), (12, 16), (30, 20)])
def test_input_batch_equals_the_albumentations_evaluation_transform(size):
    rng = np.random.default_rng(0)
    images = [rng.integers(0, 256, (24, 32, 3), dtype=np.uint8), rng.integers(0, 256, (48, 40, 3), dtype=np.uint8)]
    x = input_batch(images, size)
    assert x.shape == (2, 3, *size) and x.dtype == torch.float32
    for img, got in zip(images, x):
        want = build_transform("none", size, train=False)(image=img)["image"]
        torch.testing.assert_close(got, want, atol=1e-6, rtol=0)


def test_input_batch_hand_computed_values_and_layout():
    grey = np.full((2, 3, 3), 255, np.uint8)
    x = input_batch([grey], (2, 3), channels_last=True)
    assert x.is_contiguous(memory_format=torch.channels_last)
    want = [(1.0 - m) / s for m, s in zip(IMAGENET_MEAN, IMAGENET_STD)]
    torch.testing.assert_close(x[0, :, 0, 0], torch.tensor(want), atol=1e-6, rtol=0)


def test_resize_image_keeps_an_image_of_the_right_size():
    img = np.zeros((4, 6, 3), np.uint8)
    assert resize_image(img, (4, 6)) is img
    assert resize_image(img, (2, 3)).shape == (2, 3, 3)


def test_training_and_scoring_never_import_albumentations():
    """The batched data path and prediction need no augmentation library (0.6 s of start-up)."""
    code = ("import sys, core.engine.trainer, core.evaluate, core.cli; "
            "print(sorted(m for m in ('albumentations', 'scipy') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
