"""Label formats in and out: other tools' annotations into a `folder` dataset, and any dataset's
masks out to the formats other tools read.

In (-> images/<split>/ + masks/<split>/ + classes.yaml): labelme JSON, COCO segmentation JSON,
Pascal VOC / CVAT "Segmentation mask 1.1" colour PNGs with labelmap.txt. Shapes are drawn
clipped to the image as the tools' own converters draw them; what was clipped or skipped is
counted in an ImportReport. Classes come from a preset, a classes YAML, labelme's labels.txt,
CVAT's labelmap.txt, or the label names themselves (`from-labels`).
Out: `folder`, VOC / CVAT palette PNGs + labelmap.txt, COCO JSON with RLE, Cityscapes labelIds.

Exports read masks through DataSource.read_mask, the reader training and the label editor use,
so saved hand corrections are what gets exported. Both directions write beside the destination
first and move the result in at the end: bad input never leaves half a dataset behind.
"""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from core.classes import ClassSchema
from core.data.source import DataSource
from core.errors import ConfigError, DataError
from core.labelformats.class_lists import schema_from_names
from core.labelformats.classmap import FROM_LABELS, schema_from_arg
from core.labelformats.folder_writer import LabelledImage, existing_schema, write_folder_dataset
from core.labelformats.import_report import ImportReport
from core.labelformats.staging import Staging, require_empty

IMPORT_FORMATS = ("labelme", "coco", "voc", "cvat")
EXPORT_FORMATS = ("folder", "voc", "coco", "cityscapes")


def read_labels(fmt: str, src: str | Path, schema: ClassSchema, split: str = "train",
                images_dir: str | Path | None = None,
                report: ImportReport | None = None) -> list[LabelledImage]:
    """List (and check) what an import would write, without writing anything. Shapes clipped or
    skipped while the masks are drawn are counted in `report`."""
    if fmt == "labelme":
        from core.labelformats.labelme_import import read_labelme
        return read_labelme(src, schema, split, report)
    if fmt == "coco":
        from core.labelformats.coco_import import read_coco
        return read_coco(src, schema, split, images_dir, report)
    if fmt in ("voc", "cvat"):
        from core.labelformats.voc_import import read_voc
        return read_voc(src, schema, split)
    raise ConfigError(f"unknown label format {fmt!r} to import (choose from {', '.join(IMPORT_FORMATS)})")


def schema_from_labels(fmt: str, src: str | Path) -> ClassSchema:
    """The schema `--classes from-labels` builds: the label names the input uses."""
    src = Path(src).expanduser()
    if fmt == "labelme":
        from core.labelformats.labelme_import import label_names
        return schema_from_names(label_names(src), src)
    if fmt == "coco":
        from core.labelformats.coco_import import category_names
        return schema_from_names(category_names(src), src)
    if fmt in ("voc", "cvat"):
        from core.labelformats.class_lists import schema_from_labelmap
        from core.labelformats.labelmap import FILE
        if not (src / FILE).is_file():
            raise DataError(f"{src}: no {FILE} to take the class names from; pass --classes "
                            "camvid, cityscapes or a classes file whose colours match the masks")
        return schema_from_labelmap(src / FILE)
    raise ConfigError(f"unknown label format {fmt!r} to import (choose from {', '.join(IMPORT_FORMATS)})")


def import_labels(fmt: str, src: str | Path, out: str | Path,
                  classes: str | Path | ClassSchema | None = None, split: str = "train",
                  images_dir: str | Path | None = None,
                  progress: Callable | None = None, cancelled: Callable | None = None,
                  report: ImportReport | None = None) -> Path | None:
    """Import `src` into the folder dataset `out` (new, or existing with the same schema).

    `classes`: camvid (default), cityscapes, a classes YAML, labelme labels.txt or CVAT
    labelmap.txt file, `from-labels`, or a ClassSchema. Returns out, or None when cancelled (then
    nothing was written). `report` receives the counts of images written and of shapes clipped
    or skipped; its summary() is the line to show."""
    report = report if report is not None else ImportReport()
    if isinstance(classes, str) and classes == FROM_LABELS:  # adding to a dataset: keep its classes
        schema = existing_schema(Path(out).expanduser()) or schema_from_labels(fmt, src)
    else:
        schema = schema_from_arg(classes)
    items = read_labels(fmt, src, schema, split or "train", images_dir, report)
    out = write_folder_dataset(items, out, schema, progress, cancelled)
    if out is not None:
        report.images = len(items)
    return out


def _folder_items(source: DataSource, split: str | None) -> list[LabelledImage]:
    from core.labelformats.export_common import samples_to_export

    return [LabelledImage(s.split, s.name, s.mask, lambda hw, s=s: source.read_mask(s), image=s.image)
            for s in samples_to_export(source, split, flat=False)]


def export_labels(source: DataSource, fmt: str, out: str | Path, split: str | None = None,
                  progress: Callable | None = None, cancelled: Callable | None = None) -> Path | None:
    """Write the masks (and images) of `source` (one split, or all for None) into the new or
    empty folder `out` in format `fmt`. Returns out, or None when cancelled."""
    if fmt not in EXPORT_FORMATS:
        raise ConfigError(f"unknown label format {fmt!r} to export (choose from {', '.join(EXPORT_FORMATS)})")
    out = require_empty(out)
    if fmt == "folder":
        return write_folder_dataset(_folder_items(source, split), out, source.schema, progress, cancelled)
    if fmt == "voc":
        from core.labelformats.voc_export import write_voc as writer
    elif fmt == "coco":
        from core.labelformats.coco_export import write_coco as writer
    else:
        from core.labelformats.cityscapes_export import write_cityscapes as writer
    with Staging(out) as stage:
        if not writer(source, stage.dir, split, progress, cancelled):
            return None
        return stage.commit()
