"""Import labelme's own example projects and compare every pixel with what labelme's and COCO's
own converters produced from the same annotations.

    python -m tools.compare_foreign_labels --labelme-examples labelme/examples

`--labelme-examples` is the `examples/` folder of a labelme checkout
(https://github.com/wkentaro/labelme). Compared, per image:
- `data_annotated/*.json` + `labels.txt` imported as labelme -> labelme2voc's SegmentationClassNpy
- labelme2voc's SegmentationClass PNGs imported as VOC with the same labels.txt -> the same arrays
- labelme2coco's `annotations.json` imported as COCO -> pycocotools' annToMask, painted in order
Prints one table row per comparison: images, pixel-identical images, differing pixels, and the
import's summary line (shapes clipped at the border, shapes skipped).
"""
from __future__ import annotations

import argparse
import tempfile
import warnings
from pathlib import Path

import numpy as np

from core.data.source import open_dataset
from core.labelformats import import_labels
from core.labelformats.import_report import ImportReport


def _imported(fmt: str, src: Path, classes, out: Path) -> tuple[dict[str, np.ndarray], ImportReport]:
    report = ImportReport()
    ds = open_dataset(import_labels(fmt, src, out, classes, report=report))
    return {s.name: ds.read_mask(s) for split in ds.splits for s in ds.samples(split)}, report


def _npy_reference(voc_dir: Path) -> dict[str, np.ndarray]:
    """labelme2voc's class arrays: ids from labels.txt, -1 for __ignore__ (void here: 255)."""
    out = {}
    for f in sorted((voc_dir / "SegmentationClassNpy").glob("*.npy")):
        ids = np.load(f)
        out[f.stem] = np.where(ids < 0, 255, ids).astype(np.uint8)
    return out


def _coco_reference(ann_file: Path, schema) -> dict[str, np.ndarray]:
    from pycocotools.coco import COCO

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        coco = COCO(str(ann_file))
        out = {}
        for img in coco.loadImgs(coco.getImgIds()):
            cls = np.full((img["height"], img["width"]), 255, np.uint8)
            for ann in coco.loadAnns(coco.getAnnIds(imgIds=[img["id"]])):
                name = coco.loadCats([ann["category_id"]])[0]["name"]
                cls[coco.annToMask(ann).astype(bool)] = schema.names.index(name)
            out[Path(img["file_name"]).stem] = cls
    return out


def _row(case: str, got: dict, ref: dict, report: ImportReport) -> str:
    same = sum(np.array_equal(got[k], ref[k]) for k in ref if k in got)
    diff = sum(int((got[k] != ref[k]).sum()) for k in ref if k in got and got[k].shape == ref[k].shape)
    return f"| {case} | {len(ref)} | {same} | {diff} | {report.summary()} |"


def compare(examples: Path) -> list[str]:
    from core.labelformats.classmap import schema_from_arg

    rows = ["| comparison | images | pixel-identical | differing pixels | import summary |",
            "|---|---|---|---|---|"]
    with tempfile.TemporaryDirectory(prefix="roadseg-foreign-") as tmp:
        tmp = Path(tmp)
        for kind in ("semantic_segmentation", "instance_segmentation"):
            root = examples / kind
            labels = root / "labels.txt"
            ref = _npy_reference(root / "data_dataset_voc")
            got, report = _imported("labelme", root / "data_annotated", labels, tmp / f"{kind}-labelme")
            rows.append(_row(f"{kind}: labelme JSON vs labelme2voc .npy", got, ref, report))
            got, report = _imported("voc", root / "data_dataset_voc", labels, tmp / f"{kind}-voc")
            rows.append(_row(f"{kind}: labelme2voc PNG as VOC vs .npy", got, ref, report))
            coco = root / "data_dataset_coco" / "annotations.json"
            if coco.is_file():
                ref = _coco_reference(coco, schema_from_arg(labels))
                got, report = _imported("coco", coco, labels, tmp / f"{kind}-coco")
                rows.append(_row(f"{kind}: labelme2coco JSON vs annToMask", got, ref, report))
    return rows


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--labelme-examples", type=Path, required=True,
                   help="the examples/ folder of a labelme checkout")
    args = p.parse_args(argv)
    print("\n".join(compare(args.labelme_examples)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
