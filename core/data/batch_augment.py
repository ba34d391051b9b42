"""The augmentation presets (core.data.augment) as tensor ops on whole batches, on any device.

Why: albumentations works one numpy sample at a time on the CPU; a GPU step is over before a
batch is ready. Here a batch of decoded uint8 tensors is augmented where it lives:
- the geometry (random scale, crop, rare-class crop, flip, rotation, affine) is composed per
  sample into one 3x3 matrix and applied with ONE grid (affine_grid below) + F.grid_sample for the batch
  (bilinear for images, nearest for masks, black / void outside the source);
- the colour changes (brightness, contrast, saturation, hue) are one 3x3 matrix plus an offset
  per sample, one batched matmul; blur and noise run on the chosen samples only on the CPU
  (where that saves work) and on the whole batch, masked, elsewhere (no host synchronisation).
The warped image is rounded to whole grey levels, as albumentations' uint8 output is, so an
identity warp returns its input exactly. Every random number comes from the caller's
torch.Generator (on the tensors' device): a seed repeats a run. The distributions follow the
albumentations presets; the colour-jitter order is fixed (brightness, contrast, saturation,
hue) and hue turns colours about the grey axis, a linear stand-in for an HSV hue shift.

Plain torch rather than kornia.augmentation: kornia draws from torch's global generator (no
Generator argument, so a seed on the device cannot drive it), warps once per geometric op, and
ran a similar strong pipeline 4-7x slower than this on a 2-core EPYC (batch 8 at 360x480: 56
against 250 img/s with 1 torch thread, 9 against 68 with 2; 2026-12-04,
benchmarks/bench_batch_augment.py).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np
import torch
import torch.nn.functional as F

from core.classes import IGNORE_INDEX
from core.data.model_input import AUGMENT_PRESETS, IMAGENET_MEAN, IMAGENET_STD
from core.errors import ConfigError

GREY = (0.299, 0.587, 0.114)
_KERNEL = 7  # the largest blur kernel (motion blur up to 7 pixels)


@dataclass(frozen=True)
class Recipe:
    """Probabilities and ranges of one preset; a field at 0 / None turns its step off."""

    scale: tuple[float, float] | None = None  # resize factor before the crop (strong)
    affine_p: float = 0.0  # scale about the centre + translate, before the crop (light)
    affine_scale: tuple[float, float] = (1.0, 1.0)
    affine_translate: float = 0.0  # fraction of the image size, either way
    flip_p: float = 0.0
    rotate_p: float = 0.0  # about the crop centre, after the crop
    rotate_deg: float = 0.0
    jitter_p: float = 0.0  # torchvision-style colour jitter
    brightness: float = 0.0
    contrast: float = 0.0
    saturation: float = 0.0
    hue: float = 0.0  # fraction of the colour circle, either way
    bc_p: float = 0.0  # albumentations RandomBrightnessContrast: x * (1 + a) + b * 255
    bc_limit: float = 0.0
    blur_p: float = 0.0  # one of: Gaussian blur (3-5), motion blur (3-7), Gaussian noise
    noise_std: tuple[float, float] = (0.02, 0.08)  # of the full 0..255 range


RECIPES = {
    "none": Recipe(),
    "light": Recipe(flip_p=0.5, affine_p=0.5, affine_scale=(0.9, 1.1), affine_translate=0.05,
                    bc_p=0.5, bc_limit=0.2),
    "strong": Recipe(scale=(0.5, 2.0), flip_p=0.5, rotate_p=0.5, rotate_deg=10.0, jitter_p=0.8,
                     brightness=0.3, contrast=0.3, saturation=0.3, hue=0.05, blur_p=0.4),
}

# columns of the one uniform draw per batch
(_PASTE, _DONOR, _SCALE, _AFF, _AFF_S, _AFF_TX, _AFF_TY, _RARE, _RARE_PICK, _RARE_X, _RARE_Y,
 _CROP_X, _CROP_Y, _FLIP, _ROT, _ROT_A, _JIT, _JB, _JC, _JS, _JH, _BC, _BC_A, _BC_B, _BLUR,
 _BLUR_KIND, _BLUR_SIZE, _BLUR_SIGMA, _BLUR_ANGLE, _NOISE) = range(30)
_DRAWS = 30


def exact_dtype(device) -> torch.dtype:
    """float64 for the per-sample matrices and draws (pixel-exact at any image size); MPS has
    no float64, so float32 there."""
    return torch.float32 if torch.device(device).type == "mps" else torch.float64


def const(values, device, dtype=torch.float32) -> torch.Tensor:
    """A small constant on `device` without a host sync (a plain CPU->GPU copy waits for the GPU)."""
    return torch.tensor(values, dtype=dtype).to(device, non_blocking=True)


def pixel_to_normalized(h: int, w: int, device=None) -> torch.Tensor:
    """3x3 matrix from pixel coordinates (x, y) to grid_sample's (align_corners=False) [-1, 1]."""
    return const([[2.0 / w, 0.0, 1.0 / w - 1.0], [0.0, 2.0 / h, 1.0 / h - 1.0], [0.0, 0.0, 1.0]],
                 device, exact_dtype(device))


def normalized_to_pixel(h: int, w: int, device=None) -> torch.Tensor:
    """The inverse of pixel_to_normalized: x = (w n + w - 1) / 2."""
    return const([[w / 2.0, 0.0, (w - 1) / 2.0], [0.0, h / 2.0, (h - 1) / 2.0], [0.0, 0.0, 1.0]],
                 device, exact_dtype(device))


def affine_grid(theta: torch.Tensor, h: int, w: int) -> torch.Tensor:
    """F.affine_grid(theta, [B, 1, h, w], align_corners=False), built by broadcasting: the same
    grid (to float rounding) in a quarter of the time on a CPU, where F.affine_grid's batched
    matmul with an inner size of 3 is slow (6 ms against 0.5 ms for 8 x 240 x 320, 1 thread)."""
    dev = theta.device
    xs = (torch.arange(w, device=dev, dtype=theta.dtype) * 2 + 1) / w - 1
    ys = ((torch.arange(h, device=dev, dtype=theta.dtype) * 2 + 1) / h - 1).view(h, 1)
    t = theta.view(-1, 2, 3, 1, 1)
    grid = torch.empty((t.shape[0], h, w, 2), dtype=theta.dtype, device=dev)
    torch.add(t[:, 0, 0] * xs, t[:, 0, 1] * ys + t[:, 0, 2], out=grid[..., 0])  # written in place:
    torch.add(t[:, 1, 0] * xs, t[:, 1, 1] * ys + t[:, 1, 2], out=grid[..., 1])  # no stack copy
    return grid


def warp(images: torch.Tensor, masks: torch.Tensor, out_to_src: torch.Tensor,
         out_size: tuple[int, int]) -> tuple[torch.Tensor, torch.Tensor]:
    """Resample a batch through per-sample 3x3 matrices mapping OUTPUT pixel (x, y, 1) to SOURCE
    pixel coordinates. Images (uint8 or float, [B,3,H,W]) -> float [B,3,h,w] in whole grey levels,
    black outside; masks [B,H,W] -> int64 [B,h,w] by nearest neighbour, IGNORE_INDEX outside."""
    h_in, w_in = images.shape[2:]
    h, w = int(out_size[0]), int(out_size[1])
    dev = images.device
    theta = (pixel_to_normalized(h_in, w_in, device=dev) @ out_to_src.to(dev, exact_dtype(dev))
             @ normalized_to_pixel(h, w, device=dev))
    grid = affine_grid(theta[:, :2].float(), h, w)
    x = F.grid_sample(images.float(), grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    x = x.round_()
    m = F.grid_sample(masks[:, None].float() + 1.0, grid, mode="nearest", padding_mode="zeros",
                      align_corners=False)[:, 0]
    y = m.long() - 1  # 0 outside the source -> -1 -> void
    y = y.masked_fill_(y < 0, IGNORE_INDEX)
    return x, y


def in_classes(masks: torch.Tensor, classes: list[int]) -> torch.Tensor:
    """Boolean mask of the pixels whose id is one of `classes` (a few compares beat torch.isin)."""
    out = masks == classes[0]
    for c in classes[1:]:
        out |= masks == c
    return out


def _eye(b: int, dev) -> torch.Tensor:
    return torch.eye(3, dtype=exact_dtype(dev), device=dev).repeat(b, 1, 1)


def _affine(a: torch.Tensor | None, tx: torch.Tensor, ty: torch.Tensor) -> torch.Tensor:
    """Batch of [[a00 a01 tx][a10 a11 ty][0 0 1]] from a [B,2,2] (None: identity) and offsets."""
    b = tx.shape[0]
    m = _eye(b, tx.device)
    if a is not None:
        m[:, :2, :2] = a
    m[:, 0, 2], m[:, 1, 2] = tx, ty
    return m


def _classes_and_share(option: tuple[list[int], float] | None) -> tuple[list[int], float] | None:
    """(class ids, share), or None when either is empty (the option is off)."""
    if not option or not option[0] or option[1] <= 0:
        return None
    return [int(c) for c in option[0]], float(option[1])


class BatchAugment:
    """`(images uint8 [B,3,H,W], masks uint8 [B,H,W], generator) -> (x float [B,3,h,w]
    ImageNet-normalised, y int64 [B,h,w])`; (h, w) is crop_size, else the input size.

    `preset`: "none" / "light" / "strong" or a Recipe. `rare_crop = (class ids, share)`: that share
    of the crops is placed around a random pixel of one of those classes (a uniformly random
    spot of the window, as albumentations' CropNonEmptyMaskIfExists does; a plain crop when the
    image has none). `copy_paste = (class ids, share)`: that share of the images first gets
    those classes' pixels of another image at the same place (the `donors` batch when given,
    else another image of the same batch).
    """

    def __init__(self, preset: str | Recipe, image_size: tuple[int, int],
                 crop_size: tuple[int, int] | None = None,
                 rare_crop: tuple[list[int], float] | None = None,
                 copy_paste: tuple[list[int], float] | None = None):
        if isinstance(preset, Recipe):
            self.recipe = preset
        elif preset in RECIPES:
            self.recipe = RECIPES[preset]
        else:
            raise ConfigError(
                f"unknown augmentation preset {preset!r} (choose from {', '.join(AUGMENT_PRESETS)})")
        self.image_size = (int(image_size[0]), int(image_size[1]))
        self.crop_size = (int(crop_size[0]), int(crop_size[1])) if crop_size is not None else None
        self.out_size = self.crop_size or self.image_size
        self.rare = _classes_and_share(rare_crop)
        self.paste = _classes_and_share(copy_paste)
        self._crops = self.crop_size is not None or self.recipe.scale is not None
        self.dense: bool | None = None  # None: masked whole-batch ops off the CPU, chosen rows on it

    def _is_dense(self, t: torch.Tensor) -> bool:
        """Whole-batch masked ops (no host sync: GPUs) or ops on the chosen rows only (CPU, where
        finding the rows costs nothing and skipping the others saves work). Same results."""
        return t.device.type != "cpu" if self.dense is None else self.dense

    # ---------------------------------------------------------------- the call
    def __call__(self, images: torch.Tensor, masks: torch.Tensor, generator: torch.Generator,
                 donors: tuple[torch.Tensor, torch.Tensor] | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        if images.ndim != 4 or images.shape[1] != 3 or masks.shape != (images.shape[0], *images.shape[2:]):
            raise ValueError(f"BatchAugment: images [B,3,H,W] and masks [B,H,W] expected, got "
                             f"{tuple(images.shape)} and {tuple(masks.shape)}")
        b = images.shape[0]
        dev = images.device
        u = torch.rand((b, _DRAWS), generator=generator, device=dev, dtype=exact_dtype(dev))
        if self.paste is not None:
            images, masks = self._copy_paste(images, masks, u, donors)
        if self._crops or self._geometric():
            x, y = warp(images, masks, self._matrices(masks, u), self.out_size)
        else:
            x, y = images.float(), masks.long()
        x = self._colour(x, u)
        if self.recipe.blur_p > 0:
            x = self._blur_noise(x, u, generator)
        mean = const([255.0 * m for m in IMAGENET_MEAN], dev).view(1, 3, 1, 1)
        inv_std = const([1.0 / (255.0 * s) for s in IMAGENET_STD], dev).view(1, 3, 1, 1)
        return x.sub_(mean).mul_(inv_std), y

    def _geometric(self) -> bool:
        r = self.recipe
        return r.flip_p > 0 or r.rotate_p > 0 or r.affine_p > 0

    # ---------------------------------------------------------------- copy-paste
    def _copy_paste(self, images, masks, u, donors):
        b = images.shape[0]
        classes, share = self.paste
        if donors is None:
            if b < 2:
                return images, masks
            shift = 1 + (u[:, _DONOR] * (b - 1)).long().clamp_(max=b - 2)  # any other image
            idx = (torch.arange(b, device=images.device) + shift) % b
            donor_images, donor_masks = images[idx], masks[idx]
        else:
            donor_images, donor_masks = donors
        pick = u[:, _PASTE] < share
        if not self._is_dense(images):
            rows = pick.nonzero()[:, 0]
            if not rows.numel():
                return images, masks
            images, masks = images.clone(), masks.clone()
            where = in_classes(donor_masks[rows], classes)
            images[rows] = torch.where(where[:, None], donor_images[rows], images[rows])
            masks[rows] = torch.where(where, donor_masks[rows], masks[rows])
            return images, masks
        where = in_classes(donor_masks, classes) & pick.view(b, 1, 1)
        return torch.where(where[:, None], donor_images, images), torch.where(where, donor_masks, masks)

    # ---------------------------------------------------------------- geometry
    def _matrices(self, masks: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
        """Per-sample output-pixel -> source-pixel matrices [B,3,3] (float64 where supported)."""
        r = self.recipe
        b, h, w = masks.shape
        dev = masks.device
        f64 = {"dtype": exact_dtype(dev), "device": dev}
        zero = torch.zeros(b, **f64)
        # 1. before the crop: source -> "pre" frame of size (hp, wp)
        if r.scale is not None:
            lo, hi = r.scale
            s = lo + (hi - lo) * u[:, _SCALE]
            hp, wp = torch.round(h * s).clamp_(min=1), torch.round(w * s).clamp_(min=1)
            sx, sy = wp / w, hp / h
            a = torch.zeros(b, 2, 2, **f64)
            a[:, 0, 0], a[:, 1, 1] = sx, sy
            pre = _affine(a, 0.5 * sx - 0.5, 0.5 * sy - 0.5)  # pixel centres stay pixel centres
        else:
            hp, wp = torch.full((b,), float(h), **f64), torch.full((b,), float(w), **f64)
            pre = _eye(b, dev)
        if r.affine_p > 0:
            lo, hi = r.affine_scale
            on = u[:, _AFF] < r.affine_p
            s = torch.where(on, lo + (hi - lo) * u[:, _AFF_S], 1.0)
            tx = torch.where(on, (2 * u[:, _AFF_TX] - 1) * r.affine_translate * w, 0.0)
            ty = torch.where(on, (2 * u[:, _AFF_TY] - 1) * r.affine_translate * h, 0.0)
            cx, cy = (w - 1) / 2, (h - 1) / 2
            a = torch.zeros(b, 2, 2, **f64)
            a[:, 0, 0], a[:, 1, 1] = s, s
            pre = _affine(a, cx - s * cx + tx, cy - s * cy + ty) @ pre
        # 2. the crop: a window of out_size in the pre frame, centred where the frame is smaller
        ch, cw = self.out_size
        if self._crops:
            ox = self._offsets(wp, cw, u[:, _CROP_X])
            oy = self._offsets(hp, ch, u[:, _CROP_Y])
            if self.rare is not None:
                aim = u[:, _RARE] < self.rare[1]
                px, py, has = self._rare_pixel(masks, u[:, _RARE_PICK], aim)
                p = pre @ torch.stack((px, py, torch.ones_like(px)), 1)[:, :, None]
                rx = (p[:, 0, 0].round() - (u[:, _RARE_X] * cw).floor()).clamp(min=zero).minimum((wp - cw).clamp(min=0))
                ry = (p[:, 1, 0].round() - (u[:, _RARE_Y] * ch).floor()).clamp(min=zero).minimum((hp - ch).clamp(min=0))
                aim &= has
                ox = torch.where(aim & (wp >= cw), rx, ox)
                oy = torch.where(aim & (hp >= ch), ry, oy)
            pre = _affine(None, -ox, -oy) @ pre
        # 3. after the crop (strong): flip, then rotation about the window's centre
        post = _eye(b, dev)
        if r.flip_p > 0:
            flip = u[:, _FLIP] < r.flip_p
            a = _eye(b, dev)[:, :2, :2]
            a[:, 0, 0] = torch.where(flip, -1.0, 1.0)
            post = _affine(a, torch.where(flip, cw - 1.0, 0.0), zero) @ post
        if r.rotate_p > 0:
            on = u[:, _ROT] < r.rotate_p
            ang = torch.where(on, (2 * u[:, _ROT_A] - 1) * math.radians(r.rotate_deg), 0.0)
            cos, sin = torch.cos(ang), torch.sin(ang)
            cx, cy = (cw - 1) / 2, (ch - 1) / 2
            a = torch.stack((torch.stack((cos, -sin), 1), torch.stack((sin, cos), 1)), 1)
            post = _affine(a, cx - cos * cx + sin * cy, cy - sin * cx - cos * cy) @ post
        return torch.linalg.inv_ex(post @ pre).inverse  # no error check: no host sync on CUDA

    @staticmethod
    def _offsets(size: torch.Tensor, crop: int, u: torch.Tensor) -> torch.Tensor:
        """Whole-pixel window offsets: uniform where the frame is larger, centred where smaller."""
        room = size - crop
        return torch.where(room >= 0, (u * (room + 1)).floor().minimum(room.clamp(min=0)),
                           -torch.floor(-room / 2))

    def _rare_pixel(self, masks: torch.Tensor, u: torch.Tensor, aim: torch.Tensor):
        """(x, y, has) of a uniformly random rare-class pixel per sample. On the CPU only the
        samples whose crop is aimed are searched; elsewhere all of them (no host sync)."""
        b, h, w = masks.shape
        idx = torch.zeros(b, dtype=torch.long, device=masks.device)
        has = torch.zeros(b, dtype=torch.bool, device=masks.device)
        rows = None if self._is_dense(masks) else aim.nonzero()[:, 0]
        if rows is not None and not rows.numel():
            return idx.to(u.dtype), idx.to(u.dtype), has
        sub = masks if rows is None else masks[rows]
        csum = in_classes(sub, self.rare[0]).view(sub.shape[0], -1).cumsum(1, dtype=torch.int32)
        count = csum[:, -1]
        uu = u if rows is None else u[rows]
        k = (uu * count).floor().to(torch.int32).minimum((count - 1).clamp(min=0)) + 1
        found = torch.searchsorted(csum, k[:, None].contiguous())[:, 0].clamp_(max=h * w - 1)
        if rows is None:
            idx, has = found, count > 0
        else:
            idx[rows], has[rows] = found, count > 0
        return (idx % w).to(u.dtype), (idx // w).to(u.dtype), has

    # ---------------------------------------------------------------- colour
    def _colour(self, x: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
        r = self.recipe
        if r.jitter_p <= 0 and r.bc_p <= 0:
            return x
        b, dev = x.shape[0], x.device
        a = torch.eye(3, device=dev).repeat(b, 1, 1)
        off = torch.zeros(b, 3, device=dev)
        uf = u.float()
        if r.jitter_p > 0:
            on = uf[:, _JIT] < r.jitter_p
            fac = lambda col, lim: torch.where(on, 1 - lim + 2 * lim * uf[:, col], 1.0)
            br, co, sa = fac(_JB, r.brightness), fac(_JC, r.contrast), fac(_JS, r.saturation)
            ang = torch.where(on, (2 * uf[:, _JH] - 1) * r.hue * 2 * math.pi, 0.0)
            grey = const(GREY, dev)
            eye = torch.eye(3, device=dev)
            sat = sa.view(b, 1, 1) * eye + (1 - sa).view(b, 1, 1) * grey.view(1, 1, 3)  # s x + (1 - s) grey
            k = torch.full((3,), 1 / math.sqrt(3), device=dev)
            cross = const([[0.0, -1, 1], [1, 0, -1], [-1, 1, 0]], dev) / math.sqrt(3)
            cos, sin = torch.cos(ang).view(b, 1, 1), torch.sin(ang).view(b, 1, 1)
            hue = cos * eye + sin * cross + (1 - cos) * torch.outer(k, k)  # turn about the grey axis
            mean_grey = (x.mean((2, 3)) @ grey)  # contrast pulls towards the image's mean grey
            a = (co * br).view(b, 1, 1) * (hue @ sat)
            off = ((1 - co) * br * mean_grey).view(b, 1).expand(b, 3)
        if r.bc_p > 0:
            on = uf[:, _BC] < r.bc_p
            alpha = torch.where(on, 1 + (2 * uf[:, _BC_A] - 1) * r.bc_limit, 1.0)
            beta = torch.where(on, (2 * uf[:, _BC_B] - 1) * r.bc_limit * 255.0, 0.0)
            a = alpha.view(b, 1, 1) * a
            off = alpha.view(b, 1) * off + beta.view(b, 1)
        flat = torch.baddbmm(off[:, :, None], a, x.view(b, 3, -1))
        return flat.view_as(x).clamp_(0.0, 255.0)

    # ---------------------------------------------------------------- blur and noise
    def _kernels(self, u: torch.Tensor, kind: torch.Tensor) -> torch.Tensor:
        """[n,7,7] per-sample blur kernels: Gaussian (size 3/5, sigma 0.5-3) or a motion-blur
        line (length 3/5/7, any angle), each summing to one."""
        n, dev = u.shape[0], u.device
        r = torch.arange(_KERNEL, device=dev, dtype=torch.float32) - _KERNEL // 2
        dy, dx = r.view(1, -1, 1), r.view(1, 1, -1)
        uf = u.float()
        g_half = torch.where(uf[:, _BLUR_SIZE] < 0.5, 1.0, 2.0).view(n, 1, 1)
        sigma = (0.5 + 2.5 * uf[:, _BLUR_SIGMA]).view(n, 1, 1)
        gauss = torch.exp(-(dx ** 2 + dy ** 2) / (2 * sigma ** 2))
        gauss = gauss * ((dx.abs() <= g_half) & (dy.abs() <= g_half))
        m_half = (1 + (uf[:, _BLUR_SIZE] * 3).floor().clamp(max=2)).view(n, 1, 1)  # 1..3 -> 3..7 px
        ang = (uf[:, _BLUR_ANGLE] * math.pi).view(n, 1, 1)
        # a line of 2 * m_half + 1 points through the centre, each rounded to its pixel
        t = r.view(1, 1, -1)
        px = (t * torch.cos(ang)).round() + _KERNEL // 2
        py = (t * torch.sin(ang)).round() + _KERNEL // 2
        on = (t.abs() <= m_half).float()
        line = torch.zeros(n, _KERNEL * _KERNEL, device=dev)
        line = line.scatter_add_(1, (py * _KERNEL + px).long().view(n, -1), on.expand(n, 1, -1).reshape(n, -1))
        line = line.view(n, _KERNEL, _KERNEL).clamp_(max=1.0)
        k = torch.where((kind == 0).view(n, 1, 1), gauss, line)
        return k / k.sum((1, 2), keepdim=True)

    def _blur_noise(self, x: torch.Tensor, u: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        b = x.shape[0]
        on = u[:, _BLUR] < self.recipe.blur_p
        kind = (u[:, _BLUR_KIND] * 3).floor().clamp(max=2)  # 0 Gaussian, 1 motion, 2 noise
        blur, noisy = on & (kind < 2), on & (kind == 2)
        if not self._is_dense(x):
            rows = blur.nonzero()[:, 0]
            if rows.numel():
                x[rows] = self._convolve(x[rows], self._kernels(u[rows], kind[rows]))
            rows = noisy.nonzero()[:, 0]
            if rows.numel():
                x[rows] = self._add_noise(x[rows], u[rows], generator)
            return x
        x = torch.where(blur.view(b, 1, 1, 1), self._convolve(x, self._kernels(u, kind)), x)
        return torch.where(noisy.view(b, 1, 1, 1), self._add_noise(x, u, generator), x)

    @staticmethod
    def _convolve(x: torch.Tensor, kernels: torch.Tensor) -> torch.Tensor:
        n, c, h, w = x.shape
        p = _KERNEL // 2
        padded = F.pad(x.reshape(1, n * c, h, w), (p, p, p, p), mode="reflect")
        weight = kernels.repeat_interleave(c, 0)[:, None].to(x.dtype)
        return F.conv2d(padded, weight, groups=n * c).view(n, c, h, w)

    def _add_noise(self, x: torch.Tensor, u: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        lo, hi = self.recipe.noise_std
        std = ((lo + (hi - lo) * u[:, _NOISE]) * 255.0).float().view(-1, 1, 1, 1)
        noise = torch.randn(x.shape, generator=generator, device=x.device, dtype=x.dtype)
        return (x + noise * std).clamp_(0.0, 255.0)


def preview_draws(preset: str, image: np.ndarray, mask: np.ndarray, image_size: tuple[int, int],
                  draws: int, seed: int | None = None) -> list[tuple[np.ndarray, np.ndarray]]:
    """`draws` random results of `preset` on one image (RGB uint8 HxWx3) and its mask, as
    (RGB uint8, mask uint8) at `image_size`: what training does to it, for the Dataset view's
    preview. One batch of copies through the same BatchAugment the trainer uses."""
    h, w = (int(v) for v in image_size)
    image = cv2.resize(image, (w, h), interpolation=cv2.INTER_LINEAR)
    mask = cv2.resize(mask, (w, h), interpolation=cv2.INTER_NEAREST)
    images = torch.from_numpy(np.ascontiguousarray(image.transpose(2, 0, 1)))[None].repeat(draws, 1, 1, 1)
    masks = torch.from_numpy(mask)[None].repeat(draws, 1, 1)
    generator = torch.Generator()
    generator.manual_seed(seed if seed is not None else int(torch.randint(2**62, (1,)).item()))
    x, y = BatchAugment(preset, (h, w))(images, masks, generator)
    mean = torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1)
    std = torch.tensor(IMAGENET_STD).view(1, 3, 1, 1)
    rgb = ((x * std + mean) * 255.0).round().clamp(0, 255).to(torch.uint8).permute(0, 2, 3, 1).numpy()
    return [(rgb[i], y[i].to(torch.uint8).numpy()) for i in range(draws)]
