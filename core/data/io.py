"""Reading images and index masks, and writing masks atomically.

Files are read as bytes and decoded with cv2.imdecode (not cv2.imread) so paths with non-ASCII
characters work on Windows too; failures become DataError naming the file and what is wrong
(empty, not image data at all, corrupt or truncated). PNG bytes are checked chunk by chunk
(CRC, truncation) with Pillow before OpenCV sees them: libpng prints its own complaints straight
to stderr, which would break the CLI's one-line errors, and Pillow's reason is clearer anyway.
OpenCV's own log lines are silenced for the same reason: the DataError says it once. (libjpeg
may still print one of its warnings, e.g. "Corrupt JPEG data" or "unknown JFIF revision
number", for a damaged JPEG that decodes anyway.)
Masks are written to a temporary file beside the target and moved into place with os.replace,
so a crash or a full disk never leaves a half-written label file where a good one was.
"""
from __future__ import annotations

import io as _bytes_io
import os
import tempfile
import warnings
from pathlib import Path

import cv2
import numpy as np

from core.errors import DataError

IMAGE_EXTS = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp")

cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_FATAL)
# Pillow's TIFF header reader (image_size) warns about damaged tags; the decode that follows
# raises a DataError for the file if it matters, so the warning would only add stray lines.
warnings.filterwarnings("ignore", category=UserWarning, module=r"PIL\.TiffImagePlugin")

# leading bytes of each format we list in IMAGE_EXTS
_SIGNATURES = ((b"\x89PNG\r\n\x1a\n", "PNG"), (b"\xff\xd8\xff", "JPEG"), (b"BM", "BMP"),
               (b"II*\x00", "TIFF"), (b"MM\x00*", "TIFF"))
_PNG_END = b"\x00\x00\x00\x00IEND\xaeB`\x82"  # the IEND chunk every PNG ends with


def is_image_file(path: Path) -> bool:
    """An image by its suffix; hidden files (macOS `._x.png`, our own `.x.png.tmp`) never are."""
    return path.suffix.lower() in IMAGE_EXTS and not path.name.startswith(".") and path.is_file()


def _read_bytes(path: Path) -> np.ndarray:
    try:
        return np.fromfile(path, dtype=np.uint8)
    except OSError as e:
        raise DataError(f"{path}: cannot read file ({e.strerror or e})") from e


def _kind(data: np.ndarray) -> str | None:
    head = data[:12].tobytes()
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WebP"
    return next((kind for sig, kind in _SIGNATURES if head.startswith(sig)), None)


def _why_not_decodable(data: np.ndarray) -> str | None:
    """Why these bytes cannot be a sound image, or None if they may be (OpenCV decides)."""
    if data.size == 0:
        return "empty file, 0 bytes"
    kind = _kind(data)
    if kind is None:
        return "its content is not PNG, JPEG, BMP, TIFF or WebP data"
    if kind == "PNG":
        from PIL import Image, UnidentifiedImageError

        if data[-4096:].tobytes().rfind(_PNG_END) < 0:  # Pillow stops at IEND without checking it
            return "corrupt or truncated PNG: no intact end chunk"
        try:
            with Image.open(_bytes_io.BytesIO(data.tobytes())) as im:
                im.verify()
        except UnidentifiedImageError:
            return "corrupt PNG header"
        except Exception as e:  # noqa: BLE001 - Pillow raises OSError, SyntaxError, ValueError...
            reason = (str(e).splitlines() or [type(e).__name__])[0]
            return f"corrupt or truncated PNG: {reason}"
    return None


def _decode(path: Path, flags: int, what: str, data: np.ndarray | None = None) -> np.ndarray:
    """Decode a file's bytes (read from `path` unless given, e.g. from a shard) with OpenCV;
    DataError naming `path` and saying why when it is not a sound image."""
    data = _read_bytes(path) if data is None else np.frombuffer(data, np.uint8)
    why = _why_not_decodable(data)
    if why is None:
        try:
            img = cv2.imdecode(data, flags)
        except cv2.error:
            img = None
        if img is not None and img.size:
            return img
        why = f"corrupt or truncated {_kind(data)} data"
    raise DataError(f"{path}: not a readable {what} ({why})")


def read_image(path: str | Path, data: bytes | None = None) -> np.ndarray:
    """HxWx3 uint8 RGB. Grey, alpha and 16-bit files are converted by OpenCV's IMREAD_COLOR.
    `data`: the file's bytes when they come from elsewhere (a shard); `path` then names them.

    EXIF orientation is ignored: masks are stored pixel-for-pixel against the stored image, and
    rotating only the photo would misalign the pair.
    """
    path = Path(path)
    img = _decode(path, cv2.IMREAD_COLOR | cv2.IMREAD_IGNORE_ORIENTATION, "image", data)
    if img.dtype != np.uint8 or img.ndim != 3 or img.shape[2] != 3:  # IMREAD_COLOR should ensure it
        raise DataError(f"{path}: unsupported image layout {img.dtype} {img.shape}")
    return cv2.cvtColor(img, cv2.COLOR_BGR2RGB)


def read_index_mask(path: str | Path, data: bytes | None = None) -> np.ndarray:
    """Raw HxW uint8 values of a single-channel index mask (no class mapping yet); `data` as in
    read_image.

    A 3-channel file whose channels are all equal is accepted (a grey mask saved as RGB);
    a colour-coded mask is refused, since its colours are not class indices.
    """
    path = Path(path)
    raw = _decode(path, cv2.IMREAD_UNCHANGED, "mask image", data)
    if raw.ndim == 3:
        if raw.shape[2] not in (1, 3, 4):
            raise DataError(f"{path}: mask with {raw.shape[2]} channels; expected one (class index)")
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
        if not np.issubdtype(raw.dtype, np.integer):
            raise DataError(f"{path}: {raw.dtype} mask; index masks must hold integer class values")
        lo, hi = int(raw.min()), int(raw.max())
        if lo < 0 or hi > 255:
            raise DataError(f"{path}: {raw.dtype} mask with values {lo}..{hi}; "
                            "class values must lie in 0..255")
        raw = raw.astype(np.uint8)
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
