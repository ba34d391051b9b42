"""Dataset formats on disk: detection, validated listing, and mask encoding per format.

- camvid: SegNet layout, `<split>/` images and `<split>annot/` masks with the same file names;
  index masks with class ids 0..10 and void 11 (schema camvid11).
- cityscapes: `leftImg8bit/<split>/<city>/*_leftImg8bit.png` with
  `gtFine/<split>/<city>/*_gtFine_labelIds.png`; labelIds are mapped to the 19 train ids through
  the official label table, and written back as labelIds.
- folder: `images/` + `masks/` with matching stems (or `images/<split>/` + `masks/<split>/`),
  class schema from an optional `classes.yaml`, else camvid11 (the app's road-scene default).

Everywhere the raw value 255 is also read as void, since it is the common ignore convention.

What fails where: a layout problem (no such folders, an image without its mask, two images with
one name, nothing at all to read) fails `open_dataset` naming the path; a problem inside one file
(corrupt, truncated, wrong size, colour or out-of-schema mask) fails only when that file is read,
so one bad image never hides the rest (`DataSource.check` lists them all). Files without an image
suffix, and hidden files, are not samples and are skipped. Empty splits are dropped.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np

from core.classes import CAMVID11, CITYSCAPES19, IGNORE_INDEX, ClassSchema, load_schema_yaml
from core.data import io
from core.data.sample import Sample
from core.errors import ConfigError, DataError

Listing = tuple[ClassSchema, dict[str, list[Sample]]]
_SPLIT_ORDER = ("train", "val", "test")


def _ordered(splits: dict[str, list[Sample]]) -> dict[str, list[Sample]]:
    """train, val, test first (the usual reading order), then any others alphabetically."""
    key = {n: i for i, n in enumerate(_SPLIT_ORDER)}
    return {k: splits[k] for k in sorted(splits, key=lambda k: (key.get(k, len(key)), k))}


def _images(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if io.is_image_file(p))


def _by_stem(files: list[Path]) -> dict[str, Path]:
    out: dict[str, Path] = {}
    for f in files:
        if f.stem in out:
            raise DataError(f"{f}: two files share the name {f.stem!r} ({out[f.stem].name})")
        out[f.stem] = f
    return out


@lru_cache(maxsize=32)
def schema_lut(schema: ClassSchema) -> np.ndarray:
    """int16 [256]: raw file value -> train id (255 void), -1 for values the schema lacks."""
    lut = np.full(256, -1, np.int16)
    lut[: schema.num_classes] = np.arange(schema.num_classes)
    lut[schema.void_value] = IGNORE_INDEX
    lut[IGNORE_INDEX] = IGNORE_INDEX
    return lut


def apply_lut(raw: np.ndarray, lut: np.ndarray, path: Path, allowed: str) -> np.ndarray:
    """Map raw uint8 values through lut (int16 [256], -1: not in the schema); DataError naming
    the file and the offending values. Through cv2.LUT: a 1024x2048 mask in ~2 ms instead of
    ~9 with numpy's indexing (a streamed split maps every mask at every read)."""
    raw = np.ascontiguousarray(raw, np.uint8)
    known = (lut >= 0).astype(np.uint8)
    if raw.size and not cv2.LUT(raw, known).all():
        bad = np.unique(raw[known[raw] == 0])
        shown = ", ".join(str(v) for v in bad[:10]) + (" ..." if len(bad) > 10 else "")
        raise DataError(f"{path}: mask values {shown} are outside the class schema ({allowed})")
    return cv2.LUT(raw, np.where(known, lut, 0).astype(np.uint8))


class DatasetFormat:
    """Base: index masks holding the schema's own ids, void as schema.void_value."""

    name = ""

    def detect(self, root: Path) -> bool:
        raise NotImplementedError

    def scan(self, root: Path) -> Listing:
        raise NotImplementedError

    def mask_path(self, root: Path, sample: Sample) -> Path:
        raise NotImplementedError

    def decode(self, raw: np.ndarray, schema: ClassSchema, path: Path) -> np.ndarray:
        allowed = f"0..{schema.num_classes - 1}, void {schema.void_value}"
        return apply_lut(raw, schema_lut(schema), path, allowed)

    def encode(self, mask: np.ndarray, schema: ClassSchema) -> np.ndarray:
        out = mask.copy()
        out[mask == IGNORE_INDEX] = schema.void_value
        return out


def _pair(images: list[Path], mask_dir: Path, split: str, exact_name: bool) -> list[Sample]:
    """Match each image to its mask (same file name, else same stem); missing mask -> error."""
    if not images:
        return []
    if not mask_dir.is_dir():
        raise DataError(f"{mask_dir}: mask folder is missing")
    masks = _by_stem(_images(mask_dir))
    samples = []
    for img in images:
        mask = mask_dir / img.name if exact_name else None
        if mask is None or not mask.is_file():
            mask = masks.get(img.stem)
        if mask is None:
            raise DataError(f"{img}: no mask for this image in {mask_dir}")
        samples.append(Sample(img.stem, img, mask, split))
    return samples


class CamVidFormat(DatasetFormat):
    name = "camvid"

    def _split_dirs(self, root: Path) -> list[Path]:
        return [d for d in sorted(root.iterdir()) if d.is_dir() and not d.name.endswith("annot")
                and (root / f"{d.name}annot").is_dir()]

    def detect(self, root: Path) -> bool:
        return bool(self._split_dirs(root))

    def scan(self, root: Path) -> Listing:
        splits = {}
        for d in self._split_dirs(root):
            images = _images(d)
            _by_stem(images)
            splits[d.name] = _pair(images, root / f"{d.name}annot", d.name, exact_name=True)
        if not splits:
            raise DataError(f"{root}: no CamVid split (expected e.g. train/ and trainannot/)")
        return CAMVID11, _ordered(splits)

    def mask_path(self, root: Path, sample: Sample) -> Path:
        return root / f"{sample.split}annot" / f"{sample.image.stem}.png"


# (labelId, trainId) of the official Cityscapes table, cityscapesscripts/helpers/labels.py
# (MIT licence). Used when that package is not installed: it drags in matplotlib, requests,
# pyquaternion, coloredlogs and a `typing` backport for these 34 pairs.
_CITYSCAPES_IDS = (
    (0, 255), (1, 255), (2, 255), (3, 255), (4, 255), (5, 255), (6, 255), (7, 0), (8, 1),
    (9, 255), (10, 255), (11, 2), (12, 3), (13, 4), (14, 255), (15, 255), (16, 255), (17, 5),
    (18, 255), (19, 6), (20, 7), (21, 8), (22, 9), (23, 10), (24, 11), (25, 12), (26, 13),
    (27, 14), (28, 15), (29, 255), (30, 255), (31, 16), (32, 17), (33, 18),
)


def cityscapes_id_table() -> tuple[tuple[int, int], ...]:
    """(labelId, trainId) pairs, from cityscapesscripts when installed, else the copy above."""
    try:
        from cityscapesscripts.helpers.labels import labels
    except ImportError:
        return _CITYSCAPES_IDS
    return tuple((lab.id, lab.trainId) for lab in labels if 0 <= lab.id < 256)


@lru_cache(maxsize=1)
def cityscapes_luts() -> tuple[np.ndarray, np.ndarray]:
    """(labelId -> trainId int16 [256] with -1 unknown, trainId -> first labelId uint8 [256])."""
    to_train = np.full(256, -1, np.int16)
    to_label = np.zeros(256, np.uint8)  # void (255) and unused train ids -> labelId 0
    seen = set()
    for label_id, train_id in cityscapes_id_table():
        to_train[label_id] = IGNORE_INDEX if train_id < 0 else train_id
        if 0 <= train_id < IGNORE_INDEX and train_id not in seen:
            seen.add(train_id)
            to_label[train_id] = label_id
    to_train[IGNORE_INDEX] = IGNORE_INDEX
    return to_train, to_label


class CityscapesFormat(DatasetFormat):
    name = "cityscapes"
    IMG_SUFFIX = "_leftImg8bit"
    MASK_SUFFIX = "_gtFine_labelIds.png"

    def detect(self, root: Path) -> bool:
        return (root / "leftImg8bit").is_dir() and (root / "gtFine").is_dir()

    def scan(self, root: Path) -> Listing:
        img_root, gt_root = root / "leftImg8bit", root / "gtFine"
        for folder in (img_root, gt_root):
            if not folder.is_dir():
                raise DataError(f"{folder}: Cityscapes {folder.name} folder is missing")
        splits: dict[str, list[Sample]] = {}
        for split_dir in sorted(d for d in img_root.iterdir() if d.is_dir()):
            samples = []
            for img in sorted(p for p in split_dir.glob(f"*/*{self.IMG_SUFFIX}.png")
                              if io.is_image_file(p)):
                base = img.name[: -len(f"{self.IMG_SUFFIX}.png")]
                mask = gt_root / split_dir.name / img.parent.name / f"{base}{self.MASK_SUFFIX}"
                if not mask.is_file():
                    raise DataError(f"{img}: no mask {mask.relative_to(root)}")
                samples.append(Sample(base, img, mask, split_dir.name))
            if samples:
                splits[split_dir.name] = samples
        if not splits:
            raise DataError(
                f"{img_root}: no images found (expected <split>/<city>/*_leftImg8bit.png)"
            )
        return CITYSCAPES19, _ordered(splits)

    def mask_path(self, root: Path, sample: Sample) -> Path:
        return (root / "gtFine" / sample.split / sample.image.parent.name
                / f"{sample.name}{self.MASK_SUFFIX}")

    def decode(self, raw: np.ndarray, schema: ClassSchema, path: Path) -> np.ndarray:
        return apply_lut(raw, cityscapes_luts()[0], path, "Cityscapes labelIds 0..33")

    def encode(self, mask: np.ndarray, schema: ClassSchema) -> np.ndarray:
        return cityscapes_luts()[1][mask]


class FolderFormat(DatasetFormat):
    name = "folder"
    SCHEMA_FILES = ("classes.yaml", "classes.yml")

    def detect(self, root: Path) -> bool:
        return (root / "images").is_dir() and (root / "masks").is_dir()

    def _schema(self, root: Path) -> ClassSchema:
        for name in self.SCHEMA_FILES:
            if (root / name).is_file():
                try:
                    return load_schema_yaml(root / name)
                except UnicodeDecodeError as e:  # not caught by load_schema_yaml itself
                    raise DataError(f"{root / name}: not UTF-8 text ({e.reason})") from None
        return CAMVID11

    def scan(self, root: Path) -> Listing:
        img_root, mask_root = root / "images", root / "masks"
        for folder in (img_root, mask_root):
            if not folder.is_dir():
                raise DataError(f"{folder}: folder is missing (the folder layout needs images/ and masks/)")
        subdirs = sorted(d for d in img_root.iterdir() if d.is_dir())
        loose = _images(img_root)
        if subdirs and loose:
            raise DataError(
                f"{img_root}: holds both images ({loose[0].name}, ...) and split folders "
                f"({subdirs[0].name}/, ...); use one or the other"
            )
        if subdirs:
            splits = {}
            for d in subdirs:
                images = _images(d)
                _by_stem(images)
                splits[d.name] = _pair(images, mask_root / d.name, d.name, exact_name=False)
        else:
            _by_stem(loose)
            splits = {"all": _pair(loose, mask_root, "all", exact_name=False)}
        if not any(splits.values()):
            raise DataError(f"{img_root}: no images found")
        return self._schema(root), _ordered(splits)

    def mask_path(self, root: Path, sample: Sample) -> Path:
        sub = root / "masks" if sample.split == "all" else root / "masks" / sample.split
        return sub / f"{sample.image.stem}.png"


FORMATS: dict[str, DatasetFormat] = {}


def register_format(fmt: DatasetFormat) -> DatasetFormat:
    """Add a format; detection tries formats in registration order."""
    FORMATS[fmt.name] = fmt
    return fmt


# Most specific layout first: a Cityscapes or folder root could contain a `fooannot/` by chance.
for _fmt in (CityscapesFormat(), FolderFormat(), CamVidFormat()):
    register_format(_fmt)


def get_format(name: str) -> DatasetFormat:
    try:
        return FORMATS[name]
    except KeyError:
        raise ConfigError(
            f"unknown dataset format {name!r} (choose from auto, {', '.join(FORMATS)})"
        ) from None


def detect_format(root: str | Path) -> str:
    """Name of the first registered format whose layout root matches; DataError if none."""
    root = Path(root)
    if not root.is_dir():
        raise DataError(f"{root}: dataset folder does not exist")
    for fmt in FORMATS.values():
        if fmt.detect(root):
            return fmt.name
    raise DataError(
        f"{root}: not a known dataset layout (expected camvid: train/ + trainannot/; "
        "cityscapes: leftImg8bit/ + gtFine/; folder: images/ + masks/)"
    )
