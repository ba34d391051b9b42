"""Any dataset -> COCO JSON with RLE masks, one annotation per class present in each image.

Semantic masks have no instances, so (like COCO-Stuff) each class's pixels in an image become
one annotation: compressed RLE from pycocotools, iscrowd 0, area and bbox filled in. Category
ids are train id + 1 (COCO keeps 0 free); void pixels get no annotation. Layout, one folder per
split (what Roboflow and others write, and what `--from coco` reads back):

    <split>/_annotations.coco.json   <split>/<image files>
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from pycocotools import mask as coco_mask

from core.data import io
from core.data.source import DataSource
from core.labelformats.export_common import copy_image, samples_to_export

ANNOTATIONS = "_annotations.coco.json"


def class_annotations(mask: np.ndarray, num_classes: int, image_id: int, next_id: int) -> list[dict]:
    """One RLE annotation per train id present in `mask` (void skipped)."""
    out = []
    for cid in np.unique(mask):
        if cid >= num_classes:
            continue
        rle = coco_mask.encode(np.asfortranarray(mask == cid, dtype=np.uint8))
        out.append({
            "id": next_id + len(out), "image_id": image_id, "category_id": int(cid) + 1,
            "segmentation": {"size": [int(v) for v in rle["size"]], "counts": rle["counts"].decode("ascii")},
            "area": int(coco_mask.area(rle)), "bbox": [float(v) for v in coco_mask.toBbox(rle)],
            "iscrowd": 0,
        })
    return out


def write_coco(source: DataSource, out: Path, split: str | None = None,
               progress=None, cancelled=None) -> bool:
    """Write into `out` (a fresh folder); False when cancelled."""
    schema = source.schema
    samples = samples_to_export(source, split, flat=False)
    categories = [{"id": i + 1, "name": n, "supercategory": "", "color": list(c)}
                  for i, (n, c) in enumerate(zip(schema.names, schema.colors, strict=True))]
    docs: dict[str, dict] = {}
    for i, s in enumerate(samples, 1):
        if cancelled is not None and cancelled():
            return False
        doc = docs.setdefault(s.split, {"info": {"description": f"{source.root.name} ({schema.name})"},
                                        "images": [], "annotations": [], "categories": categories})
        mask = source.read_mask(s)
        file_name = f"{s.name}{Path(s.image).suffix.lower()}"
        image_id = len(doc["images"]) + 1
        doc["images"].append({"id": image_id, "file_name": file_name,
                              "height": int(mask.shape[0]), "width": int(mask.shape[1])})
        doc["annotations"] += class_annotations(mask, schema.num_classes, image_id,
                                                len(doc["annotations"]) + 1)
        copy_image(s, out / s.split / file_name)
        if progress is not None:
            progress(i, len(samples))
    for name, doc in docs.items():
        io.atomic_write_bytes(out / name / ANNOTATIONS, json.dumps(doc).encode("utf-8"))
    return True
