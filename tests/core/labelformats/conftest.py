"""Small builders for label-format tests: images, labelme files, COCO files, CVAT exports."""
import base64
import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from core.classes import CAMVID11


def write_rgb(path: Path, h: int, w: int, seed: int = 0) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    img = np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)
    assert cv2.imwrite(str(path), img)
    return path


def labelme_doc(image: str, h: int, w: int, shapes: list[dict], image_data: bytes | None = None) -> dict:
    return {"version": "5.4.1", "flags": {}, "shapes": shapes, "imagePath": image,
            "imageData": None if image_data is None else base64.b64encode(image_data).decode(),
            "imageHeight": h, "imageWidth": w}


def shape(label: str, points, kind: str = "polygon") -> dict:
    return {"label": label, "points": points, "group_id": None, "shape_type": kind, "flags": {}}


@pytest.fixture
def labelme_dir(tmp_path) -> Path:
    """Two labelme files on 6x8 images: one with a polygon, a rectangle, a triangle and an
    overlapping one-pixel rectangle; one with a single rectangle."""
    d = tmp_path / "labelme"
    write_rgb(d / "a.jpg", 6, 8)
    write_rgb(d / "b.png", 6, 8, seed=1)
    (d / "a.json").write_text(json.dumps(labelme_doc("a.jpg", 6, 8, [
        shape("ROAD", [[1, 1], [4, 1], [4, 3], [1, 3]]),
        shape("car", [[5, 0], [7, 2]], "rectangle"),
        shape("Sky", [[0, 3], [2, 5], [0, 5]]),
        shape("pedestrian", [[3, 2], [3, 2]], "rectangle"),
        shape("Pole", [[6, 5]], "point"),  # no area: skipped
    ])))
    (d / "b.json").write_text(json.dumps(labelme_doc("b.png", 6, 8, [
        shape("Building", [[0, 0], [7.4, 1.2]], "rectangle"),
    ])))
    return d


# the hand-computed mask of a.json (CamVid ids: Sky 0, Road 3, Car 8, Pedestrian 9; 255 void)
V = 255
LABELME_A = np.array([
    [V, V, V, V, V, 8, 8, 8],
    [V, 3, 3, 3, 3, 8, 8, 8],
    [V, 3, 3, 9, 3, 8, 8, 8],
    [0, 3, 3, 3, 3, V, V, V],
    [0, 0, V, V, V, V, V, V],
    [0, 0, 0, V, V, V, V, V],
], np.uint8)
LABELME_B = np.full((6, 8), V, np.uint8)
LABELME_B[0:2, 0:8] = CAMVID11.names.index("Building")


@pytest.fixture
def expected_labelme() -> dict[str, np.ndarray]:
    return {"a": LABELME_A, "b": LABELME_B}
