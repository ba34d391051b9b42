"""Any dataset -> Cityscapes `gtFine/<split>/<city>/<name>_gtFine_labelIds.png` (+ leftImg8bit).

Each class is written as the official Cityscapes labelId of the label with the same name
(case-insensitive); CamVid-11's names map through CAMVID_TO_CITYSCAPES below. Void -> 0
(`unlabeled`). A class with no Cityscapes counterpart is an error: writing it as 0 would quietly
erase it. The images are written as PNG (`<name>_leftImg8bit.png`), so the result opens as a
Cityscapes dataset; the city folder is the source's own for a Cityscapes source, else the
source folder's name.
"""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from core.classes import ClassSchema
from core.data import io
from core.data.source import DataSource
from core.errors import DataError
from core.labelformats.export_common import copy_image, samples_to_export

# name -> labelId of cityscapesscripts/helpers/labels.py (the official table, MIT licence)
CITYSCAPES_LABEL_IDS = {
    "unlabeled": 0, "ego vehicle": 1, "rectification border": 2, "out of roi": 3, "static": 4,
    "dynamic": 5, "ground": 6, "road": 7, "sidewalk": 8, "parking": 9, "rail track": 10,
    "building": 11, "wall": 12, "fence": 13, "guard rail": 14, "bridge": 15, "tunnel": 16,
    "pole": 17, "polegroup": 18, "traffic light": 19, "traffic sign": 20, "vegetation": 21,
    "terrain": 22, "sky": 23, "person": 24, "rider": 25, "car": 26, "truck": 27, "bus": 28,
    "caravan": 29, "trailer": 30, "train": 31, "motorcycle": 32, "bicycle": 33,
}

# CamVid-11 names that differ from Cityscapes' (the rest match case-insensitively). CamVid's
# Bicyclist is the person on the bicycle, Cityscapes' `rider`; SignSymbol covers traffic signs
# (CamVid has no separate traffic-light class among the 11).
CAMVID_TO_CITYSCAPES = {
    "pavement": "sidewalk", "tree": "vegetation", "signsymbol": "traffic sign",
    "pedestrian": "person", "bicyclist": "rider",
}


def label_id_table(schema: ClassSchema) -> np.ndarray:
    """uint8 [256]: train id -> Cityscapes labelId (void and unused ids -> 0)."""
    lut = np.zeros(256, np.uint8)
    missing = []
    for i, name in enumerate(schema.names):
        key = name.strip().lower()
        key = CAMVID_TO_CITYSCAPES.get(key, key)
        if key not in CITYSCAPES_LABEL_IDS:
            missing.append(name)
        else:
            lut[i] = CITYSCAPES_LABEL_IDS[key]
    if missing:
        raise DataError(f"class schema {schema.name}: {', '.join(missing)} have no Cityscapes label "
                        "of the same name; rename them in classes.yaml to Cityscapes names")
    return lut


def _city(source: DataSource, sample) -> str:
    if source.format == "cityscapes":
        return Path(sample.image).parent.name
    return re.sub(r"[^A-Za-z0-9-]+", "-", source.root.name).strip("-") or "default"


def write_cityscapes(source: DataSource, out: Path, split: str | None = None,
                     progress=None, cancelled=None) -> bool:
    """Write into `out` (a fresh folder); False when cancelled."""
    lut = label_id_table(source.schema)
    samples = samples_to_export(source, split, flat=False)
    for i, s in enumerate(samples, 1):
        if cancelled is not None and cancelled():
            return False
        city = _city(source, s)
        mask = source.read_mask(s)
        io.write_index_mask(out / "gtFine" / s.split / city / f"{s.name}_gtFine_labelIds.png", lut[mask])
        image = out / "leftImg8bit" / s.split / city / f"{s.name}_leftImg8bit.png"
        if Path(s.image).suffix.lower() == ".png":
            copy_image(s, image)
        else:
            io.write_image(image, source.read_image(s))
        if progress is not None:
            progress(i, len(samples))
    return True
