"""`roadseg convert`: bring labels from other tools in, and send a dataset's labels out.

Parsing stays light (no torch, no OpenCV) because build_parser runs for every command; the work
happens in core.labelformats, which the GUI's Import/Export Labels dialog calls too.
"""
from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

LABEL_FORMATS = ("labelme", "coco", "voc", "cvat")  # annotation files: imported into a folder dataset
DATASET_FORMATS = ("camvid", "cityscapes", "folder")  # datasets roadseg opens directly
TO_FORMATS = ("folder", "voc", "coco", "cityscapes", "litdata")

DESCRIPTION = """\
Convert segmentation labels between roadseg's datasets and other tools' formats.

--from labelme|coco|voc|cvat  reads annotation files and imports them (an import always produces a
  `folder` dataset: images/<split>/ + masks/<split>/ + classes.yaml); class names are matched to
  --classes by name, case-insensitively. Shapes are drawn clipped to the image (as labelme2voc
  and pycocotools draw them); shapes wholly outside it or with fewer than 3 distinct points are
  skipped, and one line says what was clipped and skipped.
--from camvid|cityscapes|folder  reads a dataset (with its saved hand corrections) as it is.
--to folder  writes a roadseg folder dataset (importing into an existing one adds its split);
--to voc  writes Pascal VOC / CVAT "Segmentation mask 1.1" (palette PNGs + labelmap.txt);
--to coco  writes COCO JSON with RLE masks, one folder per split;
--to cityscapes  writes gtFine labelIds PNGs (+ leftImg8bit), class names mapped to Cityscapes'.
--to litdata  writes LitData shards of a dataset (images and masks byte for byte, one LitData
  dataset per split + roadseg-shards.json) for clusters and object stores; `--data` of
  train/eval/label-issues takes the folder (or its s3://, gs://, azure:// URL). Needs the
  `shards` extra (pip install 'roadseg[shards]').
"""

EXAMPLES = """\
examples:
  roadseg convert --from labelme --to folder --input shots/ --out mydata --split train
  roadseg convert --from labelme --to folder --input data_annotated/ --out mydata --classes labels.txt
  roadseg convert --from coco --to folder --input annotations.json --out mydata --classes from-labels
  roadseg convert --from coco --to folder --input instances_val.json --out mydata --split val
  roadseg convert --from cvat --to folder --input cvat_export/ --out mydata --classes cityscapes
  roadseg convert --from camvid --to voc --input CamVid --out camvid_voc
  roadseg convert --from folder --to coco --input mydata --out mydata_coco --split val
  roadseg convert --from camvid --to cityscapes --input CamVid --out camvid_cs
  roadseg convert --from cityscapes --to litdata --input cityscapes --out cityscapes_shards
"""


def add_parser(sub) -> argparse.ArgumentParser:
    p = sub.add_parser("convert", help="import labelme / COCO / VOC / CVAT labels, or export a dataset's "
                                       "labels as VOC / COCO / Cityscapes",
                       description=DESCRIPTION, epilog=EXAMPLES,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--from", dest="from_format", required=True, choices=LABEL_FORMATS + DATASET_FORMATS,
                   help="what --input holds")
    p.add_argument("--to", dest="to_format", required=True, choices=TO_FORMATS, help="what to write")
    p.add_argument("--input", required=True,
                   help="labelme: a .json file or a folder of them; coco: the JSON (or its folder); "
                        "voc/cvat: the export folder (SegmentationClass/, labelmap.txt); "
                        "camvid/cityscapes/folder: the dataset folder")
    p.add_argument("--out", required=True,
                   help="folder to write (--to voc/coco/cityscapes: new or empty; --to folder: new, "
                        "or an existing folder dataset to add images to)")
    p.add_argument("--classes", metavar="camvid|cityscapes|from-labels|FILE",
                   help="class schema the imported label names are matched to (default camvid): a "
                        "preset, a classes YAML, labelme's labels.txt, CVAT's labelmap.txt, or "
                        "from-labels (the label names found, written as the dataset's classes.yaml); "
                        "only for --from labelme/coco/voc/cvat, a dataset brings its own")
    p.add_argument("--split", metavar="NAME",
                   help="imports: the split the images go into when the input names none "
                        "(default train); datasets: export only this split (default: all)")
    p.add_argument("--images", metavar="DIR",
                   help="coco: the folder the JSON's file_name entries are relative to "
                        "(default: beside the JSON, or its images/ folder)")
    p.set_defaults(handler=run)
    return p


def run(args) -> int:
    from core.data.source import open_dataset
    from core.errors import ConfigError
    from core.labelformats import export_labels, import_labels
    from core.labelformats.import_report import ImportReport

    done = {"n": 0}
    report = ImportReport()

    def progress(i, n):
        done["n"] = n

    if args.from_format in DATASET_FORMATS:
        if args.classes:
            raise ConfigError(f"--classes is for imported labels; a {args.from_format} dataset "
                              "brings its own class schema")
        if args.images:
            raise ConfigError("--images is for --from coco")
        source = open_dataset(args.input, args.from_format)
        if args.to_format == "litdata":
            from core.data.shards import write_shards

            out = write_shards(source, args.out, [args.split] if args.split else None, progress=progress)
            done["n"] = sum(len(source.samples(s)) for s in ([args.split] if args.split else source.splits))
        else:
            out = export_labels(source, args.to_format, args.out, args.split, progress)
    elif args.to_format == "litdata":
        raise ConfigError(f"--to litdata shards a dataset: import the {args.from_format} labels with "
                          "--to folder first, then shard that folder with --from folder --to litdata")
    elif args.to_format == "folder":
        out = import_labels(args.from_format, args.input, args.out, args.classes, args.split or "train",
                            args.images, progress, report=report)
        print(f"imported {args.from_format} to {out}: {report.summary()}")
        return 0
    else:  # import into a scratch folder dataset, then export that
        with tempfile.TemporaryDirectory(prefix="roadseg-convert-") as tmp:
            folder = import_labels(args.from_format, args.input, Path(tmp) / "dataset", args.classes,
                                   args.split or "train", args.images, report=report)
            print(f"read {args.from_format}: {report.summary()}")
            out = export_labels(open_dataset(folder, "folder"), args.to_format, args.out, None, progress)
    print(f"wrote {done['n']} images as {args.to_format} to {out}")
    return 0
