"""labelme JSON -> index masks: polygons, rectangles, circles and masks, painted in file order.

One JSON per image (labelme's own layout), its image found through `imagePath` (relative to the
JSON) or, when that file is absent, taken from the embedded `imageData`. Shapes are drawn as
labelme2voc draws them (core.labelformats.rasterize), clipped at the image border; later shapes
cover earlier ones; pixels no shape covers are void, or `_background_` when the schema has that
class (a labels.txt schema: labelme2voc's convention). Shapes without an area (point, line,
linestrip) label no pixels here (labelme2voc would draw them as 10-pixel strokes and dots). Names map to the schema as core.labelformats.classmap says.
"""
from __future__ import annotations

import base64
import binascii
from pathlib import Path

import cv2
import numpy as np

from core.classes import ClassSchema
from core.data import io
from core.errors import DataError
from core.labelformats import rasterize
from core.labelformats.class_lists import BACKGROUND
from core.labelformats.classmap import ClassMap
from core.labelformats.folder_writer import LabelledImage
from core.labelformats.import_report import ImportReport
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


def _mask_part(shape: dict, path: Path, what: str) -> np.ndarray:
    """labelme's "mask" shape: a base64 PNG covering the box between its two points."""
    try:
        raw = base64.b64decode(shape["mask"], validate=True)
        part = cv2.imdecode(np.frombuffer(raw, np.uint8), cv2.IMREAD_GRAYSCALE)
    except (KeyError, binascii.Error, TypeError, ValueError, cv2.error):
        part = None
    if part is None:
        raise DataError(f"{path}: {what}: 'mask' is not a base64 PNG")
    return part > 0


def _paint(painter: rasterize.ShapePainter, shape: dict, kind: str, pts: np.ndarray, value: int,
           hw: tuple[int, int], path: Path, what: str, report: ImportReport) -> None:
    """One shape onto the canvas, clipped to the image; skipped (and reported) when it covers nothing."""
    if kind not in ("polygon", "rectangle", "circle", "mask"):
        raise DataError(f"{path}: {what}: unsupported shape type {kind!r} "
                        "(polygon, rectangle, circle, mask; point/line shapes are skipped)")
    if kind == "mask":
        part = _mask_part(shape, path, what)
        if len(pts) < 1:
            report.skipped.append(f"{path.name}: {what}: no corner point")
            return
        x0, y0 = (int(v) for v in np.rint(pts.min(0)))
        if x0 >= hw[1] or y0 >= hw[0] or x0 + part.shape[1] <= 0 or y0 + part.shape[0] <= 0:
            report.skipped.append(f"{path.name}: {what}: outside the image")
        elif painter.paste(part, x0, y0, value):
            report.clipped.append(f"{path.name}: {what}")
        return
    why = rasterize.why_skipped(pts, hw, kind)
    if why is not None:
        report.skipped.append(f"{path.name}: {what}: {why}")
        return
    if rasterize.crosses_border(pts, hw, kind):
        report.clipped.append(f"{path.name}: {what}")
    getattr(painter, kind)(pts, value)


def _labels(data: dict, path: Path, classes: ClassMap, hw: tuple[int, int],
            report: ImportReport) -> np.ndarray:
    declared = (data.get("imageHeight"), data.get("imageWidth"))
    if None not in declared and tuple(declared) != tuple(hw):
        raise DataError(f"{path}: imageHeight x imageWidth is {declared[0]}x{declared[1]} "
                        f"but the image is {hw[0]}x{hw[1]}; the shapes were drawn on another image "
                        "(open the file in labelme with its own image and save it again)")
    # labelme2voc starts every mask as `_background_` (class 0 of labels.txt): a schema with that
    # class gets it where no shape was drawn; any other schema gets void there
    painter = rasterize.ShapePainter(hw, classes.id_of(BACKGROUND, path))
    for i, shape in enumerate(field(data, "shapes", path, list)):
        if not isinstance(shape, dict):
            raise DataError(f"{path}: shape {i + 1} is not an object")
        kind = str(shape.get("shape_type") or "polygon")
        label = field(shape, "label", path, str, f"shape {i + 1}")
        if kind in NO_AREA:
            report.no_area += 1
            continue
        what = f"shape {i + 1} ({kind} {label!r})"
        _paint(painter, shape, kind, rasterize.as_points(shape.get("points"), path, what),
               classes.id_of(label, path), hw, path, what, report)
    return painter.mask()


def read_labelme(src: str | Path, schema: ClassSchema, split: str = "train",
                 report: ImportReport | None = None) -> list[LabelledImage]:
    """One LabelledImage per labelme JSON under `src` (a file or a folder, searched recursively).

    Class names and image paths are checked here, before anything is written."""
    classes = ClassMap(schema)
    report = report if report is not None else ImportReport()
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
                             lambda hw, d=data, p=path: _labels(d, p, classes, hw, report))
        if image is not None and image.is_file() and io.is_image_file(image):
            item.image = image
        elif data.get("imageData"):
            item.image_bytes, item.image_suffix = _embedded_image(data, path)
        else:
            raise DataError(f"{path}: image {image_path!r} not found beside it, and no imageData; put the "
                            "image where imagePath says, or save the file in labelme with image data")
        items.append(item)
    return items


def label_names(src: str | Path) -> list[str]:
    """Every shape label under `src` that labels pixels, in the order first met (for from-labels)."""
    names = []
    for path in _json_files(Path(src).expanduser()):
        for i, shape in enumerate(field(read_json(path), "shapes", path, list)):
            if isinstance(shape, dict) and str(shape.get("shape_type") or "polygon") not in NO_AREA:
                names.append(field(shape, "label", path, str, f"shape {i + 1}"))
    return names
