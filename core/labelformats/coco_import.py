"""COCO segmentation JSON -> index masks: polygons and RLE (compressed and uncompressed).

pycocotools, COCO's own API, decodes every segmentation, so polygons are rasterised exactly as
COCO's evaluation and tools see them (coordinates on pixel edges: pixel (0, 0) spans 0..1),
clipped at the image border as annToMask clips them. A polygon wholly outside the image or with
fewer than 3 distinct points covers nothing and is skipped; both are counted in the ImportReport.
Annotations are painted in file order, later over earlier; pixels no annotation covers are void;
an image listed without annotations gets an all-void mask. Category names map to the schema as
core.labelformats.classmap says.

Input: the JSON file; a folder holding one JSON; or a folder whose sub-folders each hold one JSON
and their images (the layout `--to coco` writes), imported as one split per sub-folder.
"""
from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
from pycocotools import mask as coco_mask

from core.classes import IGNORE_INDEX, ClassSchema
from core.errors import DataError
from core.labelformats import rasterize
from core.labelformats.classmap import ClassMap
from core.labelformats.folder_writer import LabelledImage
from core.labelformats.import_report import ImportReport
from core.labelformats.jsonfile import field, read_json


def decode_rle(rle) -> np.ndarray:
    """pycocotools' decode, minus the NumPy 2 `__array__(copy=...)` deprecation its own Cython
    code trips on every call (the result is right; the warning is noise)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"__array__ implementation", category=DeprecationWarning)
        return coco_mask.decode(rle)


def _polygons(segm: list, hw: tuple[int, int], path: Path, what: str, report: ImportReport):
    """The polygons pycocotools should fill (it clips them to the image itself), the rest skipped.

    COCO coordinates are on pixel edges (the image spans 0..W x 0..H); shifted by half a pixel
    they are labelme's pixel-centre ones, which core.labelformats.rasterize judges."""
    polys, clipped = [], False
    for k, poly in enumerate(segm, 1):
        part = f"{what}, polygon {k}" if len(segm) > 1 else what
        try:
            pts = np.asarray(poly, np.float64).reshape(-1, 2)
        except (TypeError, ValueError):
            raise DataError(f"{path}: {part}: a polygon must be a flat list of x, y numbers") from None
        if not np.isfinite(pts).all():
            raise DataError(f"{path}: {part}: a polygon's points must be finite numbers")
        why = rasterize.why_skipped(pts - 0.5, hw, "polygon")
        if why is not None:
            report.skipped.append(f"{path.name}: {part}: {why}")
        else:
            clipped = clipped or rasterize.crosses_border(pts - 0.5, hw, "polygon")
            polys.append(pts.ravel().tolist())
    if clipped:
        report.clipped.append(f"{path.name}: {what}")
    return polys


def _decode(segm, hw: tuple[int, int], path: Path, what: str, report: ImportReport) -> np.ndarray | None:
    """One annotation's segmentation -> HxW bool; None when every polygon of it was skipped."""
    h, w = hw
    if isinstance(segm, list):  # polygons: [[x0, y0, x1, y1, ...], ...]
        polys = _polygons(segm, hw, path, what, report)
        if not polys:
            return None
        rle = coco_mask.merge(coco_mask.frPyObjects(polys, h, w))
    elif isinstance(segm, dict):
        size, counts = segm.get("size"), segm.get("counts")
        if not isinstance(size, list) or [int(v) for v in size] != [h, w]:
            raise DataError(f"{path}: {what}: RLE size {size} is not the image's [{h}, {w}]")
        if isinstance(counts, list):  # uncompressed RLE
            if sum(counts) != h * w or min(counts, default=0) < 0:
                raise DataError(f"{path}: {what}: RLE counts cover {sum(counts)} pixels, "
                                f"not the image's {h * w}")
            rle = coco_mask.frPyObjects(segm, h, w)
        elif isinstance(counts, str):
            rle = {"size": [h, w], "counts": counts.encode("ascii", "replace")}
        else:
            raise DataError(f"{path}: {what}: RLE counts must be a list or a string")
    else:
        raise DataError(f"{path}: {what}: segmentation must be polygons or an RLE object")
    try:
        return decode_rle(rle).astype(bool)
    except (ValueError, TypeError) as e:
        raise DataError(f"{path}: {what}: invalid RLE ({e})") from None


def _find_image(file_name: str, roots: list[Path], path: Path) -> Path:
    rel = Path(file_name.replace("\\", "/"))
    for root in roots:
        for cand in (root / rel, root / rel.name):
            if cand.is_file():
                return cand
    raise DataError(f"{path}: image {file_name!r} not found in {', '.join(str(r) for r in roots)}; pass "
                    "--images with the folder its file_name entries are relative to")


def _read_one(path: Path, schema: ClassSchema, split: str, images_dir: Path | None,
              report: ImportReport) -> list[LabelledImage]:
    data = read_json(path)
    classes = ClassMap(schema)
    cats = {}
    for c in field(data, "categories", path, list):
        if not isinstance(c, dict):
            raise DataError(f"{path}: a category is not an object")
        cats[field(c, "id", path, int, "a category")] = field(c, "name", path, str, "a category")
    by_image: dict[int, list[dict]] = {}
    for a in field(data, "annotations", path, list):
        if not isinstance(a, dict):
            raise DataError(f"{path}: an annotation is not an object")
        what = f"annotation {a.get('id', '?')}"
        cat = field(a, "category_id", path, int, what)
        if cat not in cats:
            raise DataError(f"{path}: {what}: category_id {cat} is not in 'categories'")
        classes.id_of(cats[cat], path, "category")
        by_image.setdefault(field(a, "image_id", path, int, what), []).append(a)
    roots = [images_dir] if images_dir is not None else [path.parent, path.parent / "images"]
    items = []
    for entry in field(data, "images", path, list):
        if not isinstance(entry, dict):
            raise DataError(f"{path}: an image entry is not an object")
        image_id = field(entry, "id", path, int, "an image entry")
        file_name = field(entry, "file_name", path, str, f"image {image_id}")
        declared = (field(entry, "height", path, int, f"image {image_id}"),
                    field(entry, "width", path, int, f"image {image_id}"))
        anns = by_image.pop(image_id, [])

        def labels(hw, anns=anns, declared=declared, file_name=file_name):
            if tuple(hw) != declared:
                raise DataError(f"{path}: image {file_name!r} is {hw[0]}x{hw[1]} but the JSON "
                                f"says {declared[0]}x{declared[1]}")
            mask = np.full(hw, IGNORE_INDEX, np.uint8)
            for a in anns:
                what = f"annotation {a.get('id', '?')} on {file_name!r}"
                region = _decode(field(a, "segmentation", path, (list, dict), what), hw, path, what, report)
                if region is not None:
                    mask[region] = classes.id_of(cats[a["category_id"]], path, "category")
            return mask

        image = _find_image(file_name, roots, path)
        items.append(LabelledImage(split, image.stem, path, labels, image=image))
    if by_image:
        raise DataError(f"{path}: annotations refer to image id {next(iter(by_image))}, "
                        "which 'images' does not list")
    return items


def _json_in(folder: Path) -> Path | None:
    found = sorted(p for p in folder.glob("*.json") if not p.name.startswith("."))
    if len(found) > 1:
        raise DataError(f"{folder}: holds {len(found)} JSON files ({found[0].name}, {found[1].name}, ...); "
                        "give the annotation file itself")
    return found[0] if found else None


def _json_files(src: Path) -> list[Path]:
    """The annotation files `src` stands for: itself, the one JSON in the folder, or one per
    sub-folder (each sub-folder a split)."""
    if src.is_file():
        return [src]
    if not src.is_dir():
        raise DataError(f"{src}: no such COCO JSON file or folder")
    one = _json_in(src)
    if one is not None:
        return [one]
    found = [f for sub in sorted(d for d in src.iterdir() if d.is_dir() and not d.name.startswith("."))
             if (f := _json_in(sub)) is not None]
    if not found:
        raise DataError(f"{src}: no COCO .json file here or in its sub-folders")
    return found


def category_names(src: str | Path) -> list[str]:
    """The category names of every annotation file under `src`, in id order (for from-labels)."""
    names = []
    for path in _json_files(Path(src).expanduser()):
        cats = [c for c in field(read_json(path), "categories", path, list) if isinstance(c, dict)]
        names += [field(c, "name", path, str, "a category")
                  for c in sorted(cats, key=lambda c: field(c, "id", path, int, "a category"))]
    return names


def read_coco(src: str | Path, schema: ClassSchema, split: str = "train",
              images_dir: str | Path | None = None, report: ImportReport | None = None) -> list[LabelledImage]:
    """LabelledImages from a COCO JSON (images beside it, in images/ beside it, or in images_dir)."""
    report = report if report is not None else ImportReport()
    src = Path(src).expanduser()
    images_dir = Path(images_dir).expanduser() if images_dir else None
    files = _json_files(src)
    if src.is_file() or files[0].parent == src:
        return _read_one(files[0], schema, split, images_dir, report)
    return [it for f in files for it in _read_one(f, schema, f.parent.name, images_dir, report)]
