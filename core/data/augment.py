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
from core.data.model_input import AUGMENT_PRESETS, IMAGENET_MEAN, IMAGENET_STD
from core.errors import ConfigError


def resize_transform(image_size: tuple[int, int]) -> A.Resize:
    h, w = image_size
    return A.Resize(h, w, interpolation=cv2.INTER_LINEAR, mask_interpolation=cv2.INTER_NEAREST)


def _light(h: int, w: int, focus=None) -> list:
    return [
        A.HorizontalFlip(p=0.5),
        A.Affine(scale=(0.9, 1.1), translate_percent=(-0.05, 0.05), border_mode=cv2.BORDER_CONSTANT,
                 fill=0, fill_mask=IGNORE_INDEX, p=0.5),
        A.RandomBrightnessContrast(brightness_limit=0.2, contrast_limit=0.2, p=0.5),
    ]


def _crop(h: int, w: int, focus: tuple[list[int], float] | None = None) -> list:
    """A random h x w window; padded with void first where the image is smaller.

    `focus = (rare_classes, share)`: that share of the windows is placed around a random pixel
    of one of those classes (albumentations' CropNonEmptyMaskIfExists; a plain random window when
    the image has none), so thin and rare classes are seen more often without reweighting the
    loss. Class id 0 cannot be targeted that way (the library treats 0 as background).
    """
    pad = A.PadIfNeeded(h, w, border_mode=cv2.BORDER_CONSTANT, fill=0, fill_mask=IGNORE_INDEX)
    rare, share = focus if focus is not None else ([], 0.0)
    rare = [c for c in rare if c != 0]
    if not rare or share <= 0:
        return [pad, A.RandomCrop(h, w)]
    others = [c for c in range(256) if c not in rare]  # every other id, void included
    return [pad, A.OneOf([A.RandomCrop(h, w, p=1.0 - share),
                          A.CropNonEmptyMaskIfExists(h, w, ignore_values=others, p=share)], p=1.0)]


def _strong(h: int, w: int, focus=None) -> list:
    return [
        A.RandomScale(scale_limit=(-0.5, 1.0), p=1.0),  # factor 0.5 .. 2.0
        *_crop(h, w, focus),
        A.HorizontalFlip(p=0.5),
        A.Rotate(limit=10, border_mode=cv2.BORDER_CONSTANT, fill=0, fill_mask=IGNORE_INDEX, p=0.5),
        A.ColorJitter(brightness=0.3, contrast=0.3, saturation=0.3, hue=0.05, p=0.8),
        A.OneOf([
            A.GaussianBlur(blur_limit=(3, 5), p=1.0),
            A.MotionBlur(blur_limit=(3, 7), p=1.0),
            A.GaussNoise(std_range=(0.02, 0.08), p=1.0),
        ], p=0.4),
    ]


_PRESETS = {"none": lambda h, w, focus=None: [], "light": _light, "strong": _strong}


def build_transform(preset: str, image_size: tuple[int, int], train: bool = True,
                    seed: int | None = None, crop_size: tuple[int, int] | None = None,
                    rare_crop: tuple[list[int], float] | None = None) -> A.Compose:
    """Resize (+ preset augmentations when train) + ImageNet normalisation + ToTensorV2.

    The evaluation transform (train=False) is the resize only, whatever the preset.
    `seed` makes the random draws repeatable (albumentations' own generator).
    `crop_size` (train only) makes every training sample a random crop of that size: `strong`
    crops after its random scaling, the others crop last. A fully convolutional network trained
    on crops predicts whole images, and a smaller crop buys more steps in the same time.
    `rare_crop = (class ids, share)` centres that share of the training crops on those classes
    (see `_crop`); it needs a crop (crop_size, or the strong preset's own).
    """
    if preset not in _PRESETS:
        raise ConfigError(
            f"unknown augmentation preset {preset!r} (choose from {', '.join(AUGMENT_PRESETS)})"
        )
    h, w = (int(v) for v in image_size)
    steps = [resize_transform((h, w))]
    if train:
        ch, cw = (int(v) for v in crop_size) if crop_size is not None else (h, w)
        steps += _PRESETS[preset](ch, cw, rare_crop)
        if crop_size is not None and preset != "strong":
            steps += _crop(ch, cw, rare_crop)
    steps += [A.Normalize(mean=IMAGENET_MEAN, std=IMAGENET_STD), ToTensorV2()]
    return A.Compose(steps, seed=seed)
