"""Augmentation presets: output shapes, image and mask moved together, void padding."""
import cv2
import numpy as np
import pytest
import torch

from core.data.augment import AUGMENT_PRESETS, IMAGENET_MEAN, IMAGENET_STD, build_transform
from core.errors import ConfigError

SIZE = (32, 48)


def _scene(h=40, w=60):
    """Left third class 1 painted red, the rest class 2 painted blue: asymmetric on purpose."""
    image = np.zeros((h, w, 3), np.uint8)
    mask = np.full((h, w), 2, np.uint8)
    image[..., 2] = 220
    mask[:, : w // 3] = 1
    image[:, : w // 3] = (220, 0, 0)
    return image, mask


def _denorm(t: torch.Tensor) -> np.ndarray:
    x = t.numpy().transpose(1, 2, 0) * np.array(IMAGENET_STD) + np.array(IMAGENET_MEAN)
    return x * 255


@pytest.mark.parametrize("preset", AUGMENT_PRESETS)
@pytest.mark.parametrize("train", [True, False])
def test_shapes_and_types(preset, train):
    image, mask = _scene()
    out = build_transform(preset, SIZE, train=train, seed=0)(image=image, mask=mask)
    assert out["image"].shape == (3, *SIZE) and out["image"].dtype == torch.float32
    assert out["mask"].shape == SIZE


@pytest.mark.parametrize("preset", ["light", "strong"])
def test_image_and_mask_stay_aligned(preset):
    image, mask = _scene()
    t = build_transform(preset, SIZE, train=True, seed=123)
    flipped = 0
    for _ in range(25):
        out = t(image=image, mask=mask)
        img, m = _denorm(out["image"]), out["mask"].numpy()
        assert set(np.unique(m)) <= {1, 2, 255}  # nearest-neighbour: no blended ids
        red, blue = img[..., 0] > img[..., 2], img[..., 2] > img[..., 0]
        # away from the one-pixel seam (interpolated image, nearest mask) colours match classes
        inner1, inner2 = (cv2.erode((m == c).astype(np.uint8), np.ones((3, 3))) > 0 for c in (1, 2))
        assert red[inner1].all() and blue[inner2].all()
        cols = np.flatnonzero((m == 1).any(0))
        flipped += bool(cols.size) and cols.mean() > SIZE[1] / 2
    assert 0 < flipped < 25  # the flip happened sometimes, not always


def test_strong_pads_masks_with_void():
    image, mask = _scene()
    t = build_transform("strong", SIZE, train=True, seed=5)
    outs = [t(image=image, mask=mask)["mask"].numpy() for _ in range(30)]
    assert any((m == 255).any() for m in outs)  # scale < 1 and rotations leave void borders


def test_eval_is_plain_resize_whatever_the_preset():
    image, mask = _scene()
    a = build_transform("strong", SIZE, train=False)(image=image, mask=mask)
    b = build_transform("none", SIZE, train=True)(image=image, mask=mask)
    assert torch.equal(a["image"], b["image"]) and torch.equal(a["mask"], b["mask"])


def test_seed_repeats():
    image, mask = _scene()
    a = build_transform("strong", SIZE, seed=9)(image=image, mask=mask)
    b = build_transform("strong", SIZE, seed=9)(image=image, mask=mask)
    assert torch.equal(a["image"], b["image"]) and torch.equal(a["mask"], b["mask"])


def test_unknown_preset():
    with pytest.raises(ConfigError, match="light"):
        build_transform("heavy", SIZE)


@pytest.mark.parametrize("preset", AUGMENT_PRESETS)
def test_crop_size_gives_training_crops_and_whole_images_for_eval(preset):
    image, mask = _scene(64, 96)
    train = build_transform(preset, (64, 96), train=True, seed=0, crop_size=(24, 40))
    out = train(image=image, mask=mask)
    assert out["image"].shape == (3, 24, 40) and out["mask"].shape == (24, 40)
    evaluate = build_transform(preset, (64, 96), train=False, crop_size=(24, 40))
    assert evaluate(image=image, mask=mask)["mask"].shape == (64, 96)


def test_crop_larger_than_image_pads_with_void():
    image, mask = _scene(20, 30)
    out = build_transform("none", (20, 30), train=True, seed=0, crop_size=(24, 40))(image=image, mask=mask)
    m = out["mask"].numpy()
    assert m.shape == (24, 40) and (m == 255).sum() == 24 * 40 - 20 * 30
    assert set(np.unique(m)) == {1, 2, 255}


def _rare_scene():
    """Class 3 everywhere except a 4x4 patch of class 2 in the bottom-right corner."""
    image = np.zeros((120, 160, 3), np.uint8)
    mask = np.full((120, 160), 3, np.uint8)
    mask[110:114, 150:154] = 2
    return image, mask


def _rare_hits(transform, n=40):
    image, mask = _rare_scene()
    return sum(bool((transform(image=image, mask=mask)["mask"] == 2).any()) for _ in range(n))


@pytest.mark.parametrize("preset", ["none", "strong"])
def test_rare_crop_centres_crops_on_rare_classes(preset):
    # A 30x40 window holds the 4x4 patch in ~3% of random placements; aimed windows always hold it.
    kw = dict(train=True, seed=0, crop_size=(30, 40))
    aimed = build_transform(preset, (120, 160), rare_crop=([2], 1.0), **kw)
    plain = build_transform(preset, (120, 160), **kw)
    assert _rare_hits(aimed) == 40
    assert _rare_hits(plain) < 12
    half = _rare_hits(build_transform(preset, (120, 160), rare_crop=([2], 0.5), **kw), n=200)
    assert 70 < half < 135  # ~half aimed (+ the few random hits)


def test_rare_crop_without_rare_pixels_is_a_plain_crop():
    image, mask = _rare_scene()
    mask[mask == 2] = 3
    out = build_transform("none", (120, 160), seed=0, crop_size=(30, 40), rare_crop=([2], 1.0))(
        image=image, mask=mask)
    assert out["mask"].shape == (30, 40) and (out["mask"] == 3).all()
