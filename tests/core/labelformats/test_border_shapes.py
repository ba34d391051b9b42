"""Shapes that cross the image border, as annotation tools write them: drawn clipped, pixel-equal
to the other tools' own rasterisers (labelme2voc's Pillow drawing, pycocotools' annToMask), with
shapes that cover nothing skipped and everything counted in one summary line."""
import json
import math

import numpy as np
import PIL.Image
import PIL.ImageDraw
import pytest
from pycocotools.coco import COCO

from core.classes import CAMVID11
from core.data.source import open_dataset
from core.errors import DataError
from core.labelformats import import_labels
from core.labelformats.import_report import ImportReport
from tests.core.labelformats.conftest import labelme_doc, shape, write_rgb

pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")

H, W = 37, 53
NAMES = CAMVID11.names


def labelme2voc_mask(shapes: list[dict], hw=(H, W)) -> np.ndarray:
    """What labelme2voc writes: labelme.utils.shape_to_mask per shape (Pillow, outline and fill),
    then `cls[mask] = id` in file order; void where nothing was drawn."""
    cls = np.full(hw, 255, np.uint8)
    for sh in shapes:
        m = PIL.Image.fromarray(np.zeros(hw, np.uint8))
        draw = PIL.ImageDraw.Draw(m)
        xy = [tuple(p) for p in sh["points"]]
        if sh["shape_type"] == "rectangle":
            (x0, y0), (x1, y1) = xy
            draw.rectangle(((min(x0, x1), min(y0, y1)), (max(x0, x1), max(y0, y1))), outline=1, fill=1)
        elif sh["shape_type"] == "circle":
            (cx, cy), (px, py) = xy
            d = math.sqrt((cx - px) ** 2 + (cy - py) ** 2)
            draw.ellipse(((cx - d, cy - d), (cx + d, cy + d)), outline=1, fill=1)
        else:
            draw.polygon(xy=xy, outline=1, fill=1)
        cls[np.array(m, bool)] = NAMES.index(sh["label"])
    return cls


def _random_shapes(rng, n: int) -> list[dict]:
    """Polygons, boxes and circles around the image: some inside, some crossing a border by a
    fraction of a pixel, some by tens of pixels."""
    out = []
    for i in range(n):
        label = NAMES[i % len(NAMES)]
        kind = ("polygon", "polygon", "rectangle", "circle")[i % 4]
        k = {"polygon": int(rng.integers(3, 9)), "rectangle": 2, "circle": 2}[kind]
        centre = rng.uniform([-5, -5], [W + 5, H + 5])
        spread = rng.choice([3.0, 12.0, 40.0])
        pts = centre + rng.normal(0, spread, (k, 2))
        if i % 5 == 0:  # a trace along an edge: a vertex a fraction of a pixel past it
            pts[0] = [rng.uniform(0, W), H - 0.5 + rng.uniform(0.01, 0.9)]
        out.append(shape(label, np.round(pts, 3).tolist(), kind))
    return out


def _import_labelme(tmp_path, shapes, hw=(H, W), report=None):
    d = tmp_path / "in"
    write_rgb(d / "a.png", *hw)
    (d / "a.json").write_text(json.dumps(labelme_doc("a.png", *hw, shapes)))
    out = import_labels("labelme", d, tmp_path / "ds", "camvid", report=report)
    src = open_dataset(out)
    return src.read_mask(src.samples("train")[0])


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_labelme_shapes_across_the_border_equal_labelme2voc(tmp_path, seed):
    shapes = _random_shapes(np.random.default_rng(seed), 40)
    report = ImportReport()
    got = _import_labelme(tmp_path, shapes, report=report)
    np.testing.assert_array_equal(got, labelme2voc_mask(shapes))
    assert report.images == 1 and report.clipped, "some random shapes must cross the border"
    drawn = labelme2voc_mask  # a skipped shape is one labelme2voc draws no pixel of
    for entry in report.skipped:
        idx = int(entry.split("shape ")[1].split(" ")[0]) - 1
        assert not (drawn([shapes[idx]]) != 255).any(), entry


def test_the_chair_labelme_refused_is_clipped(tmp_path):
    """The shape of labelme's own example that used to stop the import: a chair traced along the
    bottom edge, one vertex at y = 375.769 on a 500x375 image."""
    chair = shape("Car", [[148.936, 300.5], [200.2, 290.1], [164.773, 375.769], [150.0, 374.6]])
    report = ImportReport()
    got = _import_labelme(tmp_path, [chair], (375, 500), report)
    np.testing.assert_array_equal(got, labelme2voc_mask([chair], (375, 500)))
    assert (got[374] == NAMES.index("Car")).any()
    assert report.clipped == ["a.json: shape 1 (polygon 'Car')"] and not report.skipped


def test_shapes_that_cover_nothing_are_skipped_and_named(tmp_path):
    shapes = [shape("Road", [[0, 0], [W, 0], [W, H], [0, H]]),
              shape("Car", [[W + 3, 2], [W + 9, 2], [W + 5, 8]]),             # wholly right of the image
              shape("Sky", [[1, 1], [5, 5], [1, 1], [5, 5]]),                 # 2 distinct points
              shape("Pole", [[-20, -20], [-4, -3]], "rectangle"),             # wholly above-left
              shape("Tree", [[3, 3]], "polygon"),                             # one point
              shape("Fence", [[10, 10], [12, 12]], "line")]                   # no area: not drawn
    report = ImportReport()
    got = _import_labelme(tmp_path, shapes, report=report)
    assert (got == NAMES.index("Road")).all()
    assert report.skipped == ["a.json: shape 2 (polygon 'Car'): outside the image",
                              "a.json: shape 3 (polygon 'Sky'): 2 distinct points, a polygon needs 3",
                              "a.json: shape 4 (rectangle 'Pole'): outside the image",
                              "a.json: shape 5 (polygon 'Tree'): 1 distinct point, a polygon needs 3"]
    assert report.no_area == 1
    assert report.summary() == (
        "1 image written, 1 shape clipped at the image border, 4 skipped "
        "(a.json: shape 2 (polygon 'Car'): outside the image; a.json: shape 3 (polygon 'Sky'): "
        "2 distinct points, a polygon needs 3; a.json: shape 4 (rectangle 'Pole'): outside the "
        "image; ...), 1 point/line shape without area not drawn")


def test_a_labelme_mask_shape_past_the_border_is_cut(tmp_path):
    import base64

    import cv2

    part = np.full((4, 6), 255, np.uint8)
    data = base64.b64encode(cv2.imencode(".png", part)[1].tobytes()).decode()
    sh = shape("Car", [[W - 3, H - 2], [W + 2, H + 1]], "mask") | {"mask": data}
    report = ImportReport()
    got = _import_labelme(tmp_path, [sh], report=report)
    assert (got[H - 2:, W - 3:] == NAMES.index("Car")).all() and (got[:H - 2] == 255).all()
    assert report.clipped == ["a.json: shape 1 (mask 'Car')"]


def _coco_doc(polys_per_ann: list[list[list[float]]]) -> dict:
    return {"images": [{"id": 1, "file_name": "a.png", "height": H, "width": W}],
            "categories": [{"id": i + 1, "name": n} for i, n in enumerate(NAMES)],
            "annotations": [{"id": k + 1, "image_id": 1, "category_id": k % len(NAMES) + 1,
                             "segmentation": polys, "area": 1.0, "bbox": [0, 0, 1, 1], "iscrowd": 0}
                            for k, polys in enumerate(polys_per_ann)]}


def annToMask_painted(ann_file, drop: set[int] = frozenset()) -> np.ndarray:
    """pycocotools' own COCO API: annToMask per annotation, painted in file order."""
    coco = COCO(str(ann_file))
    cls = np.full((H, W), 255, np.uint8)
    for ann in coco.loadAnns(coco.getAnnIds(imgIds=[1])):
        if ann["id"] not in drop:
            cls[coco.annToMask(ann).astype(bool)] = ann["category_id"] - 1
    return cls


@pytest.mark.parametrize("seed", [0, 1])
def test_coco_polygons_across_the_border_equal_annToMask(tmp_path, seed):
    rng = np.random.default_rng(seed)
    anns = []
    for k in range(30):
        centre = rng.uniform([-5, -5], [W + 5, H + 5])
        pts = centre + rng.normal(0, rng.choice([3.0, 15.0, 40.0]), (int(rng.integers(3, 8)), 2))
        if k % 4 == 0:
            pts[0] = [rng.uniform(0, W), H + rng.uniform(0.01, 0.9)]
        anns.append([np.round(pts, 3).ravel().tolist()])
    d = tmp_path / "coco"
    write_rgb(d / "a.png", H, W)
    (d / "ann.json").write_text(json.dumps(_coco_doc(anns)))
    report = ImportReport()
    src = open_dataset(import_labels("coco", d / "ann.json", tmp_path / "ds", "camvid", report=report))
    got = src.read_mask(src.samples("train")[0])
    skipped = {int(e.split("annotation ")[1].split(" ")[0]) for e in report.skipped}
    np.testing.assert_array_equal(got, annToMask_painted(d / "ann.json", skipped))
    for k in skipped:  # what was skipped is what annToMask draws nothing of
        assert (annToMask_painted(d / "ann.json", set(range(1, 31)) - {k}) == 255).all()
    assert report.clipped and report.images == 1


def test_coco_skips_empty_polygons_but_keeps_the_rest_of_the_annotation(tmp_path):
    d = tmp_path / "coco"
    write_rgb(d / "a.png", H, W)
    inside = [2, 2, 10, 2, 10, 8, 2, 8]
    doc = _coco_doc([[inside, [60, 1, 70, 1, 65, 9]],      # second polygon right of the image
                     [[5, 5, 9, 9, 5, 5]],                  # 2 distinct points: whole annotation skipped
                     [[-4, 20, 20, 20, 20, H + 3, -4, H + 3]]])  # crosses two borders: clipped
    (d / "ann.json").write_text(json.dumps(doc))
    report = ImportReport()
    src = open_dataset(import_labels("coco", d / "ann.json", tmp_path / "ds", "camvid", report=report))
    got = src.read_mask(src.samples("train")[0])
    np.testing.assert_array_equal(got, annToMask_painted(d / "ann.json", {2}))
    assert report.skipped == ["ann.json: annotation 1 on 'a.png', polygon 2: outside the image",
                              "ann.json: annotation 2 on 'a.png': 2 distinct points, a polygon needs 3"]
    assert report.clipped == ["ann.json: annotation 3 on 'a.png'"]


def test_errors_that_stay_errors_write_nothing(tmp_path):
    """Clipping forgives geometry, not broken files: a missing image and an unknown label still
    stop the import with nothing written."""
    d = tmp_path / "in"
    write_rgb(d / "a.png", H, W)
    (d / "a.json").write_text(json.dumps(labelme_doc("a.png", H, W, [shape("Road", [[-3, -3], [60, 40]], "rectangle")])))
    (d / "b.json").write_text(json.dumps(labelme_doc("gone.png", H, W, [])))
    with pytest.raises(DataError, match=r"b\.json: image 'gone.png' not found"):
        import_labels("labelme", d, tmp_path / "ds")
    (d / "b.json").write_text(json.dumps(labelme_doc("a.png", H, W, [shape("lamppost", [[1, 1], [3, 3]], "rectangle")])))
    with pytest.raises(DataError, match="label 'lamppost' is not a class"):
        import_labels("labelme", d, tmp_path / "ds")
    assert not (tmp_path / "ds").exists()
