"""Any dataset -> Pascal VOC / CVAT "Segmentation mask 1.1" layout.

    labelmap.txt, SegmentationClass/<name>.png, JPEGImages/<name>.<ext>,
    ImageSets/Segmentation/<split>.txt

The masks are palette PNGs: each pixel's index is its train id (255 void), and the palette gives
it the schema's colour, so tools that read colours (CVAT, via labelmap.txt) and tools that read
indices (VOC loaders, mmsegmentation) both get the classes right.
"""
from __future__ import annotations

import io as _bytes_io
from pathlib import Path

from PIL import Image

from core.data import io
from core.data.source import DataSource
from core.errors import DataError
from core.labelformats import labelmap
from core.labelformats.export_common import copy_image, samples_to_export
from core.labelformats.voc_import import IMAGES, LISTS, MASKS


def palette_png(mask, palette) -> bytes:
    """An 8-bit palette PNG: pixel values stay the mask's indices, the palette colours them."""
    im = Image.fromarray(mask)  # mode L; putpalette turns it into P without touching the values
    im.putpalette(palette.ravel().tolist())
    buf = _bytes_io.BytesIO()
    im.save(buf, format="PNG", optimize=False)
    return buf.getvalue()


def write_voc(source: DataSource, out: Path, split: str | None = None,
              progress=None, cancelled=None) -> bool:
    """Write into `out` (a fresh folder); False when cancelled."""
    schema = source.schema
    colours = list(schema.colors) + [schema.void_color]
    if len(set(colours)) != len(colours):
        raise DataError(f"class schema {schema.name}: two classes (or a class and void) share a "
                        "colour, so a colour mask cannot tell them apart")
    samples = samples_to_export(source, split, flat=True)
    palette = schema.palette()
    lists: dict[str, list[str]] = {}
    for i, s in enumerate(samples, 1):
        if cancelled is not None and cancelled():
            return False
        mask = source.read_mask(s)
        io.atomic_write_bytes(out / MASKS / f"{s.name}.png", palette_png(mask, palette))
        copy_image(s, out / IMAGES / f"{s.name}{Path(s.image).suffix.lower()}")
        lists.setdefault(s.split, []).append(s.name)
        if progress is not None:
            progress(i, len(samples))
    for name, names in lists.items():
        io.atomic_write_bytes(out / LISTS / f"{name}.txt", ("\n".join(names) + "\n").encode())
    io.atomic_write_bytes(out / labelmap.FILE, labelmap.labelmap_text(schema).encode("utf-8"))
    return True
