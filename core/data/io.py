"""Reading images and index masks, and writing masks atomically.

Files are read as bytes and decoded with cv2.imdecode (not cv2.imread) so paths with non-ASCII
characters work on Windows too; failures become DataError naming the file. Masks are written
to a temporary file beside the target and moved into place with os.replace, so a crash or a full
disk never leaves a half-written label file where a good one was.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

import cv2
import numpy as np

from core.errors import DataError

IMAGE_EXTS = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp")


def is_image_file(path: Path) -> bool:
    return path.is_file() and path.suffix.lower() in IMAGE_EXTS


def _read_bytes(path: Path) -> np.ndarray:
    try:
        return np.fromfile(path, dtype=np.uint8)
    except OSError as e:
        raise DataError(f"{path}: cannot read file ({e.strerror or e})") from e


def read_image(path: str | Path) -> np.ndarray:
    """HxWx3 uint8 RGB. Grey, alpha and 16-bit files are converted by OpenCV's IMREAD_COLOR.

    EXIF orientation is ignored: masks are stored pixel-for-pixel against the stored image, and
    rotating only the photo would misalign the pair.
    """
    path = Path(path)
    img = cv2.imdecode(_read_bytes(path), cv2.IMREAD_COLOR | cv2.IMREAD_IGNORE_ORIENTATION)
    if img is None:
        raise DataError(f"{path}: not a readable image")
    return cv2.cvtColor(img, cv2.COLOR_BGR2RGB)


def read_index_mask(path: str | Path) -> np.ndarray:
    """Raw HxW uint8 values of a single-channel index mask (no class mapping yet).

    A 3-channel file whose channels are all equal is accepted (a grey mask saved as RGB);
    a colour-coded mask is refused, since its colours are not class indices.
    """
    path = Path(path)
    raw = cv2.imdecode(_read_bytes(path), cv2.IMREAD_UNCHANGED)
    if raw is None:
        raise DataError(f"{path}: not a readable mask image")
    if raw.ndim == 3:
        if raw.shape[2] == 4:
            raw = raw[:, :, :3]
        if raw.shape[2] == 1 or (np.array_equal(raw[:, :, 0], raw[:, :, 1])
                                 and np.array_equal(raw[:, :, 0], raw[:, :, 2])):
            raw = raw[:, :, 0]
        else:
            raise DataError(
                f"{path}: colour (RGB) mask found where a single-channel index mask is expected "
                "(each pixel value must be a class index)"
            )
    if raw.dtype != np.uint8:
        if np.issubdtype(raw.dtype, np.integer) and raw.size and int(raw.max()) <= 255:
            raw = raw.astype(np.uint8)
        else:
            raise DataError(f"{path}: {raw.dtype} mask with values above 255 is not supported")
    return np.ascontiguousarray(raw)


def image_size(path: str | Path) -> tuple[int, int]:
    """(H, W) of an image file, from its header when Pillow can read it (no full decode)."""
    path = Path(path)
    try:
        from PIL import Image

        with Image.open(path) as im:
            w, h = im.size
            return h, w
    except Exception:  # noqa: BLE001 - any header failure: fall back to a full decode
        return read_image(path).shape[:2]


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """Write data to path via a temporary file in the same folder and os.replace."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException as e:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if isinstance(e, OSError):
            raise DataError(f"{path}: cannot write ({e.strerror or e})") from e
        raise


def write_index_mask(path: str | Path, raw: np.ndarray) -> None:
    """Atomically write a single-channel uint8 mask in a lossless format chosen by the suffix."""
    path = Path(path)
    if path.suffix.lower() not in (".png", ".bmp", ".tif", ".tiff"):
        raise DataError(f"{path}: masks can only be written losslessly as PNG/BMP/TIFF")
    raw = np.ascontiguousarray(raw, dtype=np.uint8)
    ok, buf = cv2.imencode(path.suffix.lower(), raw)
    if not ok:
        raise DataError(f"{path}: cannot encode mask")
    atomic_write_bytes(path, buf.tobytes())


def write_image(path: str | Path, rgb: np.ndarray) -> None:
    """Atomically write an RGB uint8 image (format from the suffix)."""
    path = Path(path)
    ok, buf = cv2.imencode(path.suffix.lower(), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    if not ok:
        raise DataError(f"{path}: cannot encode image")
    atomic_write_bytes(path, buf.tobytes())
