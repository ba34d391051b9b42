"""Pascal VOC / CVAT "Segmentation mask 1.1" -> index masks.

Layout (what CVAT exports, and `--to voc` writes):

    labelmap.txt                          colour -> label name
    SegmentationClass/<name>.png          colour (or palette) masks
    JPEGImages/<name>.<ext>               the images
    ImageSets/Segmentation/<split>.txt    optional: names per split (CVAT's `default` -> --split)

Each colour maps to its labelmap name, then to the schema by name. VOC's boundary colour
(224, 224, 192) is void unless the labelmap lists it. Without a labelmap.txt the schema's own
colours are used (e.g. CamVid's colour-coded labels). A colour the map lacks is an error naming
the mask file and the colour.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from core.classes import IGNORE_INDEX, ClassSchema
from core.data import io
from core.errors import DataError
from core.labelformats import labelmap
from core.labelformats.classmap import ClassMap
from core.labelformats.folder_writer import LabelledImage

VOC_BOUNDARY = (224, 224, 192)
MASKS, IMAGES, LISTS = "SegmentationClass", "JPEGImages", Path("ImageSets") / "Segmentation"


def _pack(rgb) -> np.ndarray:
    rgb = np.asarray(rgb, np.uint32)
    return (rgb[..., 0] << 16) | (rgb[..., 1] << 8) | rgb[..., 2]


def _clash(rgb: tuple, first: int, second: int, schema: ClassSchema, lm: Path | None) -> str:
    """Why one colour cannot stand for two classes, and how to fix it."""
    def who(cid: int) -> str:
        return f"void ({schema.void_name!r})" if cid == IGNORE_INDEX else f"class {schema.names[cid]!r}"

    where = lm if lm is not None else f"class schema {schema.name!r}"
    if lm is not None:
        fix = f"give one of them another colour in {lm.name}"
    elif IGNORE_INDEX in (first, second):
        fix = ("void's colour is the schema's `void_color:` (default [0, 0, 0]); set another one in "
               "its classes.yaml, e.g. `void_color: [255, 255, 255]`, or add a labelmap.txt")
    else:
        fix = "give one of them another `color:` in the schema's classes.yaml, or add a labelmap.txt"
    return f"{where}: colour {rgb} stands for both {who(first)} and {who(second)}; {fix}"


def _colour_table(root: Path, schema: ClassSchema) -> tuple[np.ndarray, np.ndarray]:
    """(sorted packed colours, train id of each)."""
    lm = root / labelmap.FILE
    classes = ClassMap(schema)
    if lm.is_file():
        pairs = [(rgb, classes.id_of(name, lm)) for name, rgb in labelmap.read_labelmap(lm)]
    else:
        pairs = [(rgb, i) for i, rgb in enumerate(schema.colors)] + [(schema.void_color, IGNORE_INDEX)]
    table: dict[int, int] = {}
    for rgb, cid in pairs:
        key = int(_pack(rgb))
        if key in table and table[key] != cid:
            raise DataError(_clash(tuple(int(v) for v in rgb), table[key], cid, schema,
                                   lm if lm.is_file() else None))
        table[key] = cid
    table.setdefault(int(_pack(VOC_BOUNDARY)), IGNORE_INDEX)
    keys = np.array(sorted(table), np.uint32)
    return keys, np.array([table[int(k)] for k in keys], np.uint8)


def colour_to_ids(rgb: np.ndarray, keys: np.ndarray, ids: np.ndarray, path: Path) -> np.ndarray:
    packed = _pack(rgb)
    pos = np.clip(np.searchsorted(keys, packed), 0, len(keys) - 1)
    known = keys[pos] == packed
    if not known.all():
        bad = np.unique(packed[~known])[:5]
        shown = ", ".join(str(((int(v) >> 16) & 255, (int(v) >> 8) & 255, int(v) & 255)) for v in bad)
        raise DataError(f"{path}: colours {shown} are not in {labelmap.FILE} (or the class schema); list them "
                        f"in {labelmap.FILE}, or pass --classes with the schema these masks were drawn in "
                        "(for labelme2voc's output: its labels.txt)")
    return ids[pos]


def _splits(root: Path, names: list[str], split: str) -> dict[str, list[str]]:
    lists = sorted((root / LISTS).glob("*.txt")) if (root / LISTS).is_dir() else []
    if not lists:
        return {split: names}
    out = {}
    for f in lists:
        text = f.read_text(encoding="utf-8", errors="replace")
        listed = [ln.strip() for ln in text.splitlines() if ln.strip()]
        out[split if f.stem == "default" else f.stem] = listed
    return out


def read_voc(src: str | Path, schema: ClassSchema, split: str = "train") -> list[LabelledImage]:
    root = Path(src).expanduser()
    mask_dir = root / MASKS
    if not mask_dir.is_dir():
        raise DataError(f"{root}: no {MASKS}/ folder (expected a VOC / CVAT segmentation export)")
    masks = {p.stem: p for p in sorted(mask_dir.iterdir()) if io.is_image_file(p)}
    keys, ids = _colour_table(root, schema)
    images = {}
    if (root / IMAGES).is_dir():
        images = {p.stem: p for p in sorted((root / IMAGES).iterdir()) if io.is_image_file(p)}
    items = []
    for split_name, names in _splits(root, sorted(masks), split).items():
        for name in names:
            if name not in masks:
                raise DataError(f"{root / LISTS}: {name!r} is listed for {split_name!r} but "
                                f"{MASKS}/{name}.png does not exist")
            if name not in images:
                raise DataError(f"{masks[name]}: no image {IMAGES}/{name}.* (export with images)")

            def labels(hw, path=masks[name]):
                return colour_to_ids(io.read_image(path), keys, ids, path)

            items.append(LabelledImage(split_name, name, masks[name], labels, image=images[name]))
    return items
