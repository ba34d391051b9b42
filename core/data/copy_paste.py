"""Copy-paste of rare-class pixels from another training image (Ghiasi et al., "Simple Copy-Paste
is a Strong Data-Augmentation Method", CVPR 2021, for semantic masks).

Why: on CamVid the preset's errors on Pole are recognition, not placement (benchmarks/RESULTS.md,
"Pole, the class under 0.20"): whole poles are missed and building edges are called poles, and Pole
is only .265 IoU on the training images themselves. Pasting the rare classes' pixels of another
scene shows each thin object against new backgrounds, so context alone cannot explain it.
The pixels go to the same place in the receiving image: CamVid's images share one camera height
and horizon, so a pole or a pedestrian stays on the pavement. No blending, as in the paper.
It runs on the images at training size, before the augmentation pipeline (scale, crop, flip,
colour), which then treats pasted and native pixels alike.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def paste(image: np.ndarray, mask: np.ndarray, donor_image: np.ndarray, donor_mask: np.ndarray,
          classes: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
    """(image, mask) with the donor's pixels of `classes` written over them, as new arrays (the
    inputs, often a dataset's cached arrays, are left untouched). Image [H,W,3], mask [H,W], the
    donor the same size."""
    if donor_image.shape != image.shape or donor_mask.shape != mask.shape:
        raise ValueError(f"copy-paste: donor {donor_image.shape}/{donor_mask.shape} is not the size "
                         f"of the image {image.shape}/{mask.shape}")
    where = np.isin(donor_mask, np.asarray(list(classes), dtype=donor_mask.dtype))
    image, mask = image.copy(), mask.copy()
    image[where] = donor_image[where]
    mask[where] = donor_mask[where]
    return image, mask
