"""BatchAugment and its warp: exact geometry, masks that never blend ids, seeds that repeat."""
import cv2
import numpy as np
import pytest
import torch

from core.data.model_input import AUGMENT_PRESETS, IMAGENET_MEAN, IMAGENET_STD
from core.data.batch_augment import BatchAugment, Recipe, warp
from core.errors import ConfigError

VOID = 255


def gen(seed=0):
    return torch.Generator().manual_seed(seed)


def denorm(x: torch.Tensor) -> torch.Tensor:
    """Back to 0..255 grey levels (float)."""
    mean = torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1)
    std = torch.tensor(IMAGENET_STD).view(1, 3, 1, 1)
    return (x * std + mean) * 255


def random_batch(b=4, h=45, w=61, seed=0, classes=11):
    g = torch.Generator().manual_seed(seed)
    images = torch.randint(0, 256, (b, 3, h, w), dtype=torch.uint8, generator=g)
    masks = torch.randint(0, classes, (b, h, w), dtype=torch.uint8, generator=g)
    return images, masks


def scene(b=1, h=40, w=60):
    """Left third class 1 painted red, the rest class 2 painted blue: asymmetric on purpose."""
    images = torch.zeros(b, 3, h, w, dtype=torch.uint8)
    masks = torch.full((b, h, w), 2, dtype=torch.uint8)
    images[:, 2] = 220
    masks[:, :, : w // 3] = 1
    images[:, :, :, : w // 3] = torch.tensor([220, 0, 0], dtype=torch.uint8).view(3, 1, 1)
    return images, masks


def test_identity_warp_returns_the_input_exactly():
    images, masks = random_batch()
    x, y = warp(images, masks, torch.eye(3, dtype=torch.float64).repeat(4, 1, 1), (45, 61))
    assert torch.equal(x, images.float()) and torch.equal(y, masks.long())


def test_whole_pixel_shift_is_an_exact_crop():
    images, masks = random_batch()
    shift = torch.eye(3, dtype=torch.float64).repeat(4, 1, 1)
    shift[:, 0, 2], shift[:, 1, 2] = 7, 3  # output (x, y) reads source (x + 7, y + 3)
    x, y = warp(images, masks, shift, (20, 30))
    assert torch.equal(x, images[:, :, 3:23, 7:37].float()) and torch.equal(y, masks[:, 3:23, 7:37].long())


def test_none_without_crop_only_normalises():
    images, masks = random_batch()
    x, y = BatchAugment("none", (45, 61))(images, masks, gen())
    assert torch.allclose(denorm(x), images.float(), atol=1e-3) and torch.equal(y, masks.long())


def test_flip_only_recipe_flips_image_and_mask():
    images, masks = random_batch()
    plain, _ = BatchAugment("none", (45, 61))(images, masks, gen())
    x, y = BatchAugment(Recipe(flip_p=1.0), (45, 61))(images, masks, gen())
    assert torch.equal(x, plain.flip(-1)) and torch.equal(y, masks.flip(-1).long())


def blocks(h, w):
    """A mask whose 2x2 blocks carry ids 0, 1, 2, ... row by row (and an image of the same)."""
    r, c = np.mgrid[0:h, 0:w]
    mask = torch.from_numpy(((r // 2) * (w // 2) + c // 2).astype(np.uint8))
    return mask[None, None].repeat(1, 3, 1, 1), mask[None]


def test_known_upscale_puts_a_pixel_on_its_hand_computed_block():
    masks = torch.zeros(1, 4, 6, dtype=torch.uint8)
    masks[0, 1, 2] = 5
    images = masks[:, None].repeat(1, 3, 1, 1) * 40
    # scale exactly 2 with a crop the size of the scaled image: no random offset is left
    x, y = BatchAugment(Recipe(scale=(2.0, 2.0)), (4, 6), crop_size=(8, 12))(images, masks, gen())
    expected = torch.zeros(8, 12, dtype=torch.long)
    expected[2:4, 4:6] = 5  # source pixel (row 1, col 2) covers rows 2-3, cols 4-5
    assert torch.equal(y[0], expected)
    grey = denorm(x)[0, 0].round()
    assert grey[2:4, 4:6].min() > 40 * 5 / 2 and grey[0].max() == 0  # bilinear: peak over the block


def test_known_downscale_is_padded_with_void_around_the_centred_image():
    images, masks = blocks(8, 12)
    # scale 0.5 -> 4x6, centred in a 6x8 window: one void row/column on each side
    x, y = BatchAugment(Recipe(scale=(0.5, 0.5)), (8, 12), crop_size=(6, 8))(images, masks, gen())
    expected = torch.full((6, 8), VOID, dtype=torch.long)
    expected[1:5, 1:7] = torch.arange(24).view(4, 6)  # each 2x2 block became one pixel
    assert torch.equal(y[0], expected)
    grey = denorm(x)[0, 1].round()
    assert torch.equal(grey[1:5, 1:7], torch.arange(24.0).view(4, 6))
    assert (grey[0] == 0).all() and (grey[:, 0] == 0).all()  # black image padding
    assert (y[0] == VOID).sum() == 6 * 8 - 4 * 6


def test_crop_larger_than_the_image_pads_with_void():
    images, masks = scene(1, 20, 30)
    _, y = BatchAugment("none", (20, 30), crop_size=(24, 40))(images, masks, gen())
    assert y.shape == (1, 24, 40) and (y == VOID).sum() == 24 * 40 - 20 * 30
    assert set(y.unique().tolist()) == {1, 2, VOID}


@pytest.mark.parametrize("preset", AUGMENT_PRESETS)
def test_shapes_dtypes_and_only_input_ids_or_void(preset):
    images, masks = random_batch(b=6, classes=5)
    masks[:, :5] = VOID
    for crop in (None, (24, 32)):
        x, y = BatchAugment(preset, (45, 61), crop_size=crop)(images, masks, gen(3))
        size = crop or (45, 61)
        assert x.shape == (6, 3, *size) and x.dtype == torch.float32
        assert y.shape == (6, *size) and y.dtype == torch.int64
        assert set(y.unique().tolist()) <= {0, 1, 2, 3, 4, VOID}


@pytest.mark.parametrize("preset", ["light", "strong"])
def test_image_and_mask_stay_aligned(preset):
    images, masks = scene(b=25)
    x, y = BatchAugment(preset, (40, 60), crop_size=(32, 48))(images, masks, gen(123))
    img, m = denorm(x).numpy(), y.numpy()
    flipped = 0
    for i in range(25):
        assert set(np.unique(m[i])) <= {1, 2, VOID}
        red, blue = img[i, 0] > img[i, 2], img[i, 2] > img[i, 0]
        # away from the seam (interpolated image, nearest mask) the colours match the classes
        inner1, inner2 = (cv2.erode((m[i] == c).astype(np.uint8), np.ones((5, 5))) > 0 for c in (1, 2))
        assert red[inner1].all() and blue[inner2].all()
        cols = np.flatnonzero((m[i] == 1).any(0))
        flipped += bool(cols.size) and cols.mean() > 24
    assert 0 < flipped < 25  # per-sample flips: some, not all


def test_strong_leaves_void_borders_sometimes():
    images, masks = scene(b=30)
    _, y = BatchAugment("strong", (40, 60), crop_size=(32, 48))(images, masks, gen(5))
    assert 0 < sum(bool((y[i] == VOID).any()) for i in range(30)) < 30


def rare_scene(b):
    """Class 3 everywhere except a 4x4 patch of class 2 near the bottom-right corner."""
    images = torch.zeros(b, 3, 120, 160, dtype=torch.uint8)
    masks = torch.full((b, 120, 160), 3, dtype=torch.uint8)
    masks[:, 110:114, 150:154] = 2
    return images, masks


@pytest.mark.parametrize("preset", ["none", "light"])
def test_rare_crops_contain_the_rare_class(preset):
    # A 30x40 window holds the 4x4 patch in ~3% of random placements; aimed windows always do.
    hits = lambda aug, n=40: int((aug(*rare_scene(n), gen(1))[1] == 2).flatten(1).any(1).sum())
    assert hits(BatchAugment(preset, (120, 160), crop_size=(30, 40), rare_crop=([2], 1.0))) == 40
    assert hits(BatchAugment(preset, (120, 160), crop_size=(30, 40))) < 12
    half = hits(BatchAugment(preset, (120, 160), crop_size=(30, 40), rare_crop=([2], 0.5)), n=200)
    assert 70 < half < 135


def test_strong_rare_crops_mostly_contain_the_rare_class():
    # the rotation after the crop may turn an edge pixel out of the window, as in albumentations
    aug = BatchAugment("strong", (120, 160), crop_size=(30, 40), rare_crop=([2], 1.0))
    _, y = aug(*rare_scene(40), gen(2))
    assert int((y == 2).flatten(1).any(1).sum()) >= 36


def test_rare_crop_without_rare_pixels_is_a_plain_crop():
    images, masks = rare_scene(3)
    masks[masks == 2] = 3
    _, y = BatchAugment("none", (120, 160), crop_size=(30, 40), rare_crop=([2], 1.0))(images, masks, gen())
    assert y.shape == (3, 30, 40) and (y == 3).all()


def paste_pair():
    """Receiver: black, class 0. Donor: grey 200, class 4 in a block, class 1 elsewhere."""
    images = torch.zeros(2, 3, 10, 12, dtype=torch.uint8)
    masks = torch.zeros(2, 10, 12, dtype=torch.uint8)
    images[1], masks[1] = 200, 1
    masks[1, 2:5, 3:9] = 4
    return images, masks


def test_copy_paste_pastes_exactly_the_donors_rare_pixels():
    images, masks = paste_pair()
    aug = BatchAugment("none", (10, 12), copy_paste=([4], 1.0))
    donors = (images[[1, 1]], masks[[1, 1]])
    x, y = aug(images, masks, gen(), donors=donors)
    where = masks[1] == 4
    assert torch.equal(y[0], torch.where(where, 4, 0).long())  # only class 4, at the same place
    assert torch.equal(denorm(x)[0, 0].round(), torch.where(where, 200.0, 0.0))
    assert torch.equal(y[1], masks[1].long())  # pasting class 4 onto its own pixels changes nothing


def test_copy_paste_within_the_batch_takes_another_image():
    images, masks = paste_pair()
    _, y = BatchAugment("none", (10, 12), copy_paste=([4], 1.0))(images, masks, gen())
    assert torch.equal(y[0], torch.where(masks[1] == 4, 4, 0).long())
    _, y = BatchAugment("none", (10, 12), copy_paste=([4], 0.0))(images, masks, gen())
    assert (y[0] == 0).all()


def test_whole_batch_and_chosen_rows_paths_agree():
    """The GPU's masked whole-batch ops and the CPU's chosen-rows ops give the same batch."""
    images, masks = random_batch(b=8, h=60, w=80, classes=6)
    kw = {"crop_size": (30, 40), "rare_crop": ([4, 5], 0.5), "copy_paste": ([5], 0.5)}
    recipe = Recipe(scale=(0.5, 2.0), flip_p=0.5, rotate_p=0.5, rotate_deg=10.0, jitter_p=0.8,
                    brightness=0.3, contrast=0.3, saturation=0.3, hue=0.05)
    rows, dense = BatchAugment(recipe, (60, 80), **kw), BatchAugment(recipe, (60, 80), **kw)
    rows.dense, dense.dense = False, True
    a, b = rows(images, masks, gen(4)), dense(images, masks, gen(4))
    assert torch.equal(a[1], b[1]) and torch.allclose(a[0], b[0], atol=1e-5)


def test_same_seed_same_batch_other_seed_other_batch():
    images, masks = random_batch(b=6, h=60, w=80)
    aug = BatchAugment("strong", (60, 80), crop_size=(40, 48), rare_crop=([3], 0.5), copy_paste=([4], 0.5))
    a, b, c = aug(images, masks, gen(11)), aug(images, masks, gen(11)), aug(images, masks, gen(12))
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    assert not torch.equal(a[0], c[0]) and not torch.equal(a[1], c[1])


def test_brightness_scales_every_pixel_by_one_factor_in_range():
    images = torch.full((16, 3, 8, 8), 100, dtype=torch.uint8)
    images[:, :, :4] = 50
    masks = torch.zeros(16, 8, 8, dtype=torch.uint8)
    x, _ = BatchAugment(Recipe(jitter_p=1.0, brightness=0.3), (8, 8))(images, masks, gen())
    ratio = denorm(x) / images.float()
    per_image = ratio.flatten(1)
    assert torch.allclose(per_image, per_image[:, :1].expand_as(per_image), atol=1e-4)
    assert ((per_image[:, 0] > 0.7 - 1e-4) & (per_image[:, 0] < 1.3 + 1e-4)).all()
    assert per_image[:, 0].std() > 0.05  # each image its own factor


def test_hue_and_saturation_leave_grey_pixels_grey():
    images = torch.arange(0, 256, 4, dtype=torch.uint8).view(1, 1, 8, 8).repeat(4, 3, 1, 1)
    recipe = Recipe(jitter_p=1.0, saturation=0.3, hue=0.05)
    x, _ = BatchAugment(recipe, (8, 8))(images, torch.zeros(4, 8, 8, dtype=torch.uint8), gen())
    assert torch.allclose(denorm(x), images.float(), atol=1e-3)


def test_light_brightness_contrast_is_alpha_x_plus_beta():
    images = torch.full((32, 3, 4, 4), 100, dtype=torch.uint8)
    x, _ = BatchAugment(Recipe(bc_p=1.0, bc_limit=0.2), (4, 4))(images, torch.zeros(32, 4, 4, dtype=torch.uint8), gen())
    out = denorm(x)[:, 0, 0, 0]
    # alpha in [0.8, 1.2], beta in [-51, 51]: 100 -> [80 - 51, 120 + 51]
    assert (out > 29 - 1e-3).all() and (out < 171 + 1e-3).all() and out.std() > 5


def test_blur_and_noise_keep_range_and_shape():
    images, masks = random_batch(b=12, h=30, w=40)
    aug = BatchAugment(Recipe(blur_p=1.0), (30, 40))
    x, y = aug(images, masks, gen(6))
    grey = denorm(x)
    assert grey.min() > -1e-3 and grey.max() < 255 + 1e-3
    assert torch.equal(y, masks.long())
    changed = (grey - images.float()).abs().flatten(1).amax(1) > 1
    assert changed.all()  # every image was blurred or got noise


def test_unknown_preset():
    with pytest.raises(ConfigError, match="light"):
        BatchAugment("heavy", (8, 8))


def test_bad_shapes_are_refused():
    with pytest.raises(ValueError, match=r"\[B,3,H,W\]"):
        BatchAugment("none", (8, 8))(torch.zeros(2, 8, 8, dtype=torch.uint8), torch.zeros(2, 8, 8), gen())


def test_preview_draws_show_what_training_does_to_one_image():
    import cv2

    from core.data.batch_augment import preview_draws

    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (60, 80, 3), dtype=np.uint8)
    mask = np.zeros((60, 80), np.uint8)
    mask[:, 40:] = 3
    plain = preview_draws("none", image, mask, (30, 40), 2, seed=1)
    assert len(plain) == 2
    expected = cv2.resize(image, (40, 30), interpolation=cv2.INTER_LINEAR)
    for rgb, m in plain:  # no augmentation: the resized image and mask, exactly
        assert np.array_equal(rgb, expected)
        assert np.array_equal(m, cv2.resize(mask, (40, 30), interpolation=cv2.INTER_NEAREST))
    strong = preview_draws("strong", image, mask, (30, 40), 6, seed=1)
    assert all(rgb.shape == (30, 40, 3) and rgb.dtype == np.uint8 for rgb, _ in strong)
    assert all(set(np.unique(m)) <= {0, 3, 255} for _, m in strong)  # no blended class ids
    assert any(not np.array_equal(strong[0][0], rgb) for rgb, _ in strong[1:])  # each draw differs
    again = preview_draws("strong", image, mask, (30, 40), 6, seed=1)
    assert all(np.array_equal(a[0], b[0]) for a, b in zip(strong, again))
