"""Named augmentation presets (albumentations 2.x) applied to image and mask together.

Every pipeline starts by resizing to the run's image size, so a dataset may cache the resized
pair and the pipeline's own Resize becomes a no-op. Geometric transforms move the mask with
nearest-neighbour interpolation and pad it with IGNORE_INDEX, so padding never counts as a class.
"""
from __future__ import annotations

import albumentations as A
import cv2
from albumentations.pytorch import ToTensorV2

from core.classes import IGNORE_INDEX
from core.errors import ConfigError

AUGMENT_PRESETS = ("none", "light", "strong")
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def resize_transform(image_size: tuple[int, int]) -> A.Resize:
    h, w = image_size
    return A.Resize(h, w, interpolation=cv2.INTER_LINEAR, mask_interpolation=cv2.INTER_NEAREST)


def _light(h: int, w: int) -> list:
    return [
        A.HorizontalFlip(p=0.5),
        A.Affine(scale=(0.9, 1.1), translate_percent=(-0.05, 0.05), border_mode=cv2.BORDER_CONSTANT,
                 fill=0, fill_mask=IGNORE_INDEX, p=0.5),
        A.RandomBrightnessContrast(brightness_limit=0.2, contrast_limit=0.2, p=0.5),
    ]


def _crop(h: int, w: int) -> list:
    """A random h x w window; padded with void first where the image is smaller."""
    return [A.PadIfNeeded(h, w, border_mode=cv2.BORDER_CONSTANT, fill=0, fill_mask=IGNORE_INDEX),
            A.RandomCrop(h, w)]


def _strong(h: int, w: int) -> list:
    return [
        A.RandomScale(scale_limit=(-0.5, 1.0), p=1.0),  # factor 0.5 .. 2.0
        *_crop(h, w),
        A.HorizontalFlip(p=0.5),
        A.Rotate(limit=10, border_mode=cv2.BORDER_CONSTANT, fill=0, fill_mask=IGNORE_INDEX, p=0.5),
        A.ColorJitter(brightness=0.3, contrast=0.3, saturation=0.3, hue=0.05, p=0.8),
        A.OneOf([
            A.GaussianBlur(blur_limit=(3, 5), p=1.0),
            A.MotionBlur(blur_limit=(3, 7), p=1.0),
            A.GaussNoise(std_range=(0.02, 0.08), p=1.0),
        ], p=0.4),
    ]


_PRESETS = {"none": lambda h, w: [], "light": _light, "strong": _strong}


def build_transform(preset: str, image_size: tuple[int, int], train: bool = True,
                    seed: int | None = None, crop_size: tuple[int, int] | None = None) -> A.Compose:
    """Resize (+ preset augmentations when train) + ImageNet normalisation + ToTensorV2.

    The evaluation transform (train=False) is the resize only, whatever the preset.
    `seed` makes the random draws repeatable (albumentations' own generator).
    `crop_size` (train only) makes every training sample a random crop of that size: `strong`
    crops after its random scaling, the others crop last. A fully convolutional network trained
    on crops predicts whole images, and a smaller crop buys more steps in the same time.
    """
    if preset not in _PRESETS:
        raise ConfigError(
            f"unknown augmentation preset {preset!r} (choose from {', '.join(AUGMENT_PRESETS)})"
        )
    h, w = (int(v) for v in image_size)
    steps = [resize_transform((h, w))]
    if train:
        ch, cw = (int(v) for v in crop_size) if crop_size is not None else (h, w)
        steps += _PRESETS[preset](ch, cw)
        if crop_size is not None and preset != "strong":
            steps += _crop(ch, cw)
    steps += [A.Normalize(mean=IMAGENET_MEAN, std=IMAGENET_STD), ToTensorV2()]
    return A.Compose(steps, seed=seed)
