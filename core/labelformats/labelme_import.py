"""labelme JSON -> index masks: polygons, rectangles, circles and masks, painted in file order.

One JSON per image (labelme's own layout), its image found through `imagePath` (relative to the
JSON) or, when that file is absent, taken from the embedded `imageData`. Later shapes cover
earlier ones; pixels no shape covers are void. Shapes without an area (point, line, linestrip)
are skipped: they label no pixels. Names map to the schema as core.labelformats.classmap says.
"""
from __future__ import annotations

import base64
import binascii
from pathlib import Path

import cv2
import numpy as np

from core.classes import IGNORE_INDEX, ClassSchema
from core.data import io
from core.errors import DataError
from core.labelformats import rasterize
from core.labelformats.classmap import ClassMap
from core.labelformats.folder_writer import LabelledImage
from core.labelformats.jsonfile import field, read_json

NO_AREA = ("point", "line", "linestrip", "points")


def _json_files(src: Path) -> list[Path]:
    if src.is_file():
        return [src]
    if not src.is_dir():
        raise DataError(f"{src}: no such labelme file or folder")
    files = sorted(p for p in src.rglob("*.json") if not p.name.startswith("."))
    if not files:
        raise DataError(f"{src}: no labelme .json files in this folder")
    return files


def _embedded_image(data: dict, path: Path) -> tuple[bytes, str]:
    try:
        raw = base64.b64decode(data["imageData"], validate=True)
    except (binascii.Error, TypeError, ValueError):
        raise DataError(f"{path}: 'imageData' is not base64 image data") from None
    head = raw[:8]
    suffix = ".png" if head.startswith(b"\x89PNG") else ".jpg" if head.startswith(b"\xff\xd8") else ".png"
    return raw, suffix


def _paint_mask_shape(mask: np.ndarray, shape: dict, pts: np.ndarray, value: int,
                      path: Path, what: str) -> None:
    """labelme's "mask" shape: a base64 PNG covering the box between its two points."""
    try:
        raw = base64.b64decode(shape["mask"], validate=True)
        part = cv2.imdecode(np.frombuffer(raw, np.uint8), cv2.IMREAD_GRAYSCALE)
    except (KeyError, binascii.Error, TypeError, ValueError, cv2.error):
        part = None
    if part is None:
        raise DataError(f"{path}: {what}: 'mask' is not a base64 PNG")
    x0, y0 = np.rint(pts.min(0)).astype(int)
    h, w = part.shape
    if y0 + h > mask.shape[0] or x0 + w > mask.shape[1]:
        raise DataError(f"{path}: {what}: polygon outside the image (its mask reaches past the border)")
    mask[y0:y0 + h, x0:x0 + w][part > 0] = value


def _labels(data: dict, path: Path, classes: ClassMap, hw: tuple[int, int]) -> np.ndarray:
    declared = (data.get("imageHeight"), data.get("imageWidth"))
    if None not in declared and tuple(declared) != tuple(hw):
        raise DataError(f"{path}: imageHeight x imageWidth is {declared[0]}x{declared[1]} "
                        f"but the image is {hw[0]}x{hw[1]}")
    mask = np.full(hw, IGNORE_INDEX, np.uint8)
    for i, shape in enumerate(field(data, "shapes", path, list)):
        if not isinstance(shape, dict):
            raise DataError(f"{path}: shape {i + 1} is not an object")
        kind = str(shape.get("shape_type") or "polygon")
        label = field(shape, "label", path, str, f"shape {i + 1}")
        what = f"shape {i + 1} ({kind} {label!r})"
        if kind in NO_AREA:
            continue
        value = classes.id_of(label, path)
        pts = rasterize.as_points(shape.get("points"), path, what,
                                  {"polygon": 3}.get(kind, 2))
        rasterize.check_inside(pts, hw, path, what)
        if kind == "polygon":
            rasterize.fill_polygon(mask, pts, value)
        elif kind == "rectangle":
            rasterize.fill_rectangle(mask, pts, value)
        elif kind == "circle":
            rasterize.fill_circle(mask, pts, value)
        elif kind == "mask":
            _paint_mask_shape(mask, shape, pts, value, path, what)
        else:
            raise DataError(f"{path}: {what}: unsupported shape type {kind!r} "
                            "(polygon, rectangle, circle, mask; point/line shapes are skipped)")
    return mask


def read_labelme(src: str | Path, schema: ClassSchema, split: str = "train") -> list[LabelledImage]:
    """One LabelledImage per labelme JSON under `src` (a file or a folder, searched recursively).

    Class names and image paths are checked here, before anything is written."""
    classes = ClassMap(schema)
    items = []
    for path in _json_files(Path(src).expanduser()):
        data = read_json(path)
        for i, shape in enumerate(field(data, "shapes", path, list)):
            if isinstance(shape, dict) and str(shape.get("shape_type") or "polygon") not in NO_AREA:
                classes.id_of(field(shape, "label", path, str, f"shape {i + 1}"), path)
        image_path = data.get("imagePath")
        image = None
        if isinstance(image_path, str) and image_path:  # labelme on Windows writes backslashes
            image = path.parent / image_path.replace("\\", "/")
        item = LabelledImage(split, (image or path).stem, path,
                             lambda hw, d=data, p=path: _labels(d, p, classes, hw))
        if image is not None and image.is_file() and io.is_image_file(image):
            item.image = image
        elif data.get("imageData"):
            item.image_bytes, item.image_suffix = _embedded_image(data, path)
        else:
            raise DataError(f"{path}: image {image_path!r} not found beside it, and no imageData")
        items.append(item)
    return items
