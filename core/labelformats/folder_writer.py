"""Write labelled images as a `folder` dataset: images/<split>/ + masks/<split>/<stem>.png.

This is the layout core.data.formats reads as `folder`, so an import opens like any dataset:
images are copied byte for byte, masks hold the schema's own ids (void as its void_value, the
way FolderFormat encodes them), and `classes.yaml` records the schema so the dataset reads back
with the class names it was imported with. Importing into an existing folder dataset adds
images (typically a new split); it never replaces a file and refuses a different schema.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml

from core.classes import CAMVID11, ClassSchema
from core.data import io
from core.data.formats import FolderFormat
from core.errors import DataError
from core.labelformats.staging import Staging

Progress = Callable[[int, int], None] | None
Cancelled = Callable[[], bool] | None


@dataclass
class LabelledImage:
    """One image to import. `labels((H, W))` gives its HxW train-id mask (255 void) for the real
    image size, decoding lazily so a listing stays cheap; `source` is the file blamed in errors."""

    split: str
    name: str
    source: Path
    labels: Callable[[tuple[int, int]], np.ndarray]
    image: Path | None = None
    image_bytes: bytes | None = None  # an image embedded in the annotation file
    image_suffix: str = ""

    @property
    def suffix(self) -> str:
        return (self.image.suffix if self.image is not None else self.image_suffix).lower()


def existing_schema(out: Path) -> ClassSchema | None:
    """The schema of the folder dataset at `out`, or None when there is none yet."""
    for name in FolderFormat.SCHEMA_FILES:
        if (out / name).is_file():
            return FolderFormat()._schema(out)
    return CAMVID11 if (out / "images").is_dir() else None


def _check_target(out: Path, items: list[LabelledImage], schema: ClassSchema) -> None:
    seen: dict[tuple[str, str], Path] = {}
    for it in items:
        key = (it.split, it.name)
        if key in seen:
            raise DataError(f"{it.source}: image name {it.name!r} is also used by {seen[key]} "
                            f"(split {it.split!r}); names must be unique within a split")
        seen[key] = it.source
    if (out / "images").is_dir() and any(io.is_image_file(p) for p in (out / "images").iterdir()):
        raise DataError(f"{out / 'images'}: holds images without split folders; import into a new folder")
    existing = existing_schema(out)
    if existing is not None and existing.to_dict() != schema.to_dict():
        raise DataError(f"{out}: is a dataset with schema {existing.name}; importing with schema "
                        f"{schema.name} would mix class ids (choose a new folder or the same --classes)")
    for it in items:
        for p in (out / "images" / it.split).glob(f"{it.name}.*"):
            if io.is_image_file(p):
                raise DataError(f"{p}: already exists; {it.source} would replace it")


def write_folder_dataset(items: Iterable[LabelledImage], out: str | Path, schema: ClassSchema,
                         progress: Progress = None, cancelled: Cancelled = None) -> Path | None:
    """Write every item under out (all or nothing); returns out, or None when cancelled."""
    items = list(items)
    out = Path(out).expanduser()
    if not items:
        raise DataError("nothing to import: no labelled images found")
    _check_target(out, items, schema)
    fmt = FolderFormat()
    with Staging(out) as stage:
        for i, it in enumerate(items, 1):
            if cancelled is not None and cancelled():
                return None
            image_dest = stage.dir / "images" / it.split / f"{it.name}{it.suffix}"
            if it.image is not None:
                try:
                    data = it.image.read_bytes()
                except OSError as e:
                    raise DataError(f"{it.image}: cannot read image ({e.strerror or e})") from e
            else:
                data = it.image_bytes or b""
            io.atomic_write_bytes(image_dest, data)
            hw = tuple(io.read_image(image_dest).shape[:2]) if it.image is None else io.image_size(it.image)
            mask = np.asarray(it.labels(hw), np.uint8)
            if mask.shape != hw:
                raise DataError(f"{it.source}: labels are {mask.shape[0]}x{mask.shape[1]} but the "
                                f"image is {hw[0]}x{hw[1]} (HxW)")
            io.write_index_mask(stage.dir / "masks" / it.split / f"{it.name}.png", fmt.encode(mask, schema))
            if progress is not None:
                progress(i, len(items))
        text = yaml.safe_dump(schema.to_dict(), sort_keys=False, allow_unicode=True)
        if existing_schema(out) is None:
            io.atomic_write_bytes(stage.dir / "classes.yaml", text.encode("utf-8"))
        return stage.commit()
