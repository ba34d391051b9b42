"""What a network is fed: RGB resized to the run's image size, scaled by ImageNet's mean and std.

Both training data paths (albumentations per sample, core.data.batch_augment on whole batches)
and prediction use these numbers. Prediction normalises on the model's device after one uint8
transfer per batch (a quarter of the bytes of float32, and no per-pixel work on the host), and
needs no augmentation library: a run on the batched path never imports albumentations.
"""
from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np
import torch

AUGMENT_PRESETS = ("none", "light", "strong")  # implemented by core.data.augment and core.data.batch_augment
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def resize_image(image: np.ndarray, image_size: tuple[int, int]) -> np.ndarray:
    """`image` (HxWx3 uint8) at `image_size` (h, w), bilinear; the same array when it fits."""
    h, w = (int(v) for v in image_size)
    if image.shape[:2] == (h, w):
        return image
    return cv2.resize(image, (w, h), interpolation=cv2.INTER_LINEAR)


def input_batch(images: Sequence[np.ndarray], image_size: tuple[int, int],
                device: torch.device | str = "cpu", channels_last: bool = False) -> torch.Tensor:
    """RGB uint8 images (any sizes) as the network's float32 input [B,3,h,w] on `device`."""
    batch = np.stack([resize_image(img, image_size) for img in images])
    x = torch.from_numpy(batch).to(device, non_blocking=True).permute(0, 3, 1, 2).float()
    mean = torch.tensor([255.0 * m for m in IMAGENET_MEAN], device=x.device).view(1, 3, 1, 1)
    inv_std = torch.tensor([1.0 / (255.0 * s) for s in IMAGENET_STD], device=x.device).view(1, 3, 1, 1)
    x = (x - mean) * inv_std
    return x.contiguous(memory_format=torch.channels_last if channels_last else torch.contiguous_format)
