"""numpy <-> Qt image glue, so views can show core's uint8 RGB arrays without copying code around."""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QIcon, QImage, QPixmap


def rgb_to_qimage(rgb: np.ndarray) -> QImage:
    """HxWx3 uint8 RGB -> QImage that owns its pixels (safe after `rgb` is freed)."""
    rgb = np.ascontiguousarray(rgb, dtype=np.uint8)
    h, w = rgb.shape[:2]
    return QImage(rgb.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()


def rgb_to_pixmap(rgb: np.ndarray, max_w: int | None = None, max_h: int | None = None) -> QPixmap:
    """RGB array -> QPixmap, optionally scaled down (smoothly) to fit max_w x max_h."""
    pix = QPixmap.fromImage(rgb_to_qimage(rgb))
    if max_w and max_h:
        pix = pix.scaled(max_w, max_h, Qt.AspectRatioMode.KeepAspectRatio,
                         Qt.TransformationMode.SmoothTransformation)
    return pix


def blend(image: np.ndarray, colour_mask: np.ndarray, alpha: float,
          valid: np.ndarray | None = None) -> np.ndarray:
    """Alpha-blend a colourised mask over an RGB image; pixels where `valid` is False stay image."""
    out = image.astype(np.float32) * (1 - alpha) + colour_mask.astype(np.float32) * alpha
    if valid is not None:
        out[~valid] = image[~valid]
    return out.clip(0, 255).astype(np.uint8)


def colour_icon(rgb: tuple[int, int, int], size: int = 14) -> QIcon:
    """A small filled square in a class colour, for legends and tables."""
    pix = QPixmap(size, size)
    pix.fill(QColor(*rgb))
    return QIcon(pix)
