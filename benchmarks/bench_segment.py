"""Click-to-segment: how long the Label view's Segment tool makes a person wait, and (where the
real weights are) how many clicks an object takes.

    .venv/bin/python -m benchmarks.bench_segment                      # latency, random weights
    .venv/bin/python -m benchmarks.bench_segment --noc --model facebook/sam2.1-hiera-tiny --data CamVid

Latency: SAM 2.1 hiera-tiny and hiera-base-plus built at their real size from transformers'
configs with random weights (the time does not depend on the weights), run through
core.labeling.click_segment exactly as the view runs them: the image embedding (once per image,
in the background) and the answer to 1, 2 and 3 clicks (on the UI thread), median and p95 over
repeats, on a CamVid-sized 360x480 frame.

--noc: the standard interactive-segmentation protocol on CamVid objects (connected regions of
Car, Pedestrian, Bicyclist, Pole, SignSymbol of at least --min-pixels): the first click at the
object's innermost pixel, each next one at the innermost pixel of the largest error (on it where
the object was missed, off it where the proposal spilled over), until IoU >= 0.85 or 20 clicks.
Prints the mean clicks (NoC@85, 20 for objects never reached) and the share reached within 5 and
20 clicks. Needs trained weights: a hub id in the Hugging Face cache, or a folder.
"""
from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

from benchmarks._common import CAMVID, machine, table

THINGS = ("Car", "Pedestrian", "Bicyclist", "Pole", "SignSymbol")
MAX_CLICKS, TARGET = 20, 0.85


def hiera(kind: str):
    """transformers' Sam2Config of SAM 2.1 hiera-tiny or hiera-base-plus (the released shapes)."""
    from transformers import Sam2Config
    from transformers.models.sam2.configuration_sam2 import Sam2HieraDetConfig, Sam2VisionConfig

    if kind == "tiny":
        backbone = Sam2HieraDetConfig()  # transformers' defaults are hiera-tiny's
        channels = [768, 384, 192, 96]
    else:
        backbone = Sam2HieraDetConfig(hidden_size=112, num_attention_heads=2, blocks_per_stage=[2, 3, 16, 3],
                                      embed_dim_per_stage=[112, 224, 448, 896],
                                      num_attention_heads_per_stage=[2, 4, 8, 16],
                                      window_size_per_stage=[8, 4, 14, 7], global_attention_blocks=[12, 16, 20],
                                      window_positional_embedding_background_size=[14, 14])
        channels = [896, 448, 224, 112]
    return Sam2Config(vision_config=Sam2VisionConfig(backbone_config=backbone, backbone_channel_list=channels))


def random_model(kind: str, folder: Path) -> Path:
    import torch
    from transformers import Sam2ImageProcessor, Sam2Model, Sam2Processor

    torch.manual_seed(0)
    model = Sam2Model(hiera(kind)).eval()
    model.save_pretrained(folder)
    Sam2Processor(image_processor=Sam2ImageProcessor(), target_size=1024).save_pretrained(folder)
    return folder


def _stats(seconds: list[float]) -> str:
    s = sorted(seconds)
    p95 = s[min(len(s) - 1, int(round(0.95 * (len(s) - 1))))]
    return f"{1000 * statistics.median(s):.0f} / {1000 * p95:.0f}"


def latency(kinds: list[str], image: np.ndarray, embeds: int, clicks: int, int8: bool = False) -> list[list]:
    from core.labeling.click_segment import ClickSegmenter

    rows = []
    for kind in kinds:
        with tempfile.TemporaryDirectory() as tmp:
            seg = ClickSegmenter(random_model(kind, Path(tmp)))
        params = sum(p.numel() for p in seg.model.parameters()) / 1e6
        seg.embed(image)  # warm-up
        times = [seg.embed(image).seconds for _ in range(embeds)]
        emb = seg.embed(image)
        rng = np.random.default_rng(0)
        answer = {}
        for n in (1, 2, 3):
            t = []
            for _ in range(clicks):
                pts = [(float(rng.uniform(0, image.shape[1])), float(rng.uniform(0, image.shape[0]))) for _ in range(n)]
                t0 = time.perf_counter()
                seg.segment(emb, pts, [1] + [0] * (n - 1))
                t.append(time.perf_counter() - t0)
            answer[n] = _stats(t)
        rows.append([f"sam2.1-hiera-{kind}", f"{params:.1f}", _stats(times), answer[1], answer[2], answer[3]])
        if int8:  # the same model, its image encoder's Linear layers int8 (dynamic quantization)
            import torch

            seg.model.vision_encoder = torch.ao.quantization.quantize_dynamic(
                seg.model.vision_encoder, {torch.nn.Linear}, dtype=torch.qint8)
            seg.embed(image)
            times = [seg.embed(image).seconds for _ in range(embeds)]
            rows.append(["  same, encoder Linear int8", "", _stats(times), "", "", ""])
    return rows


def _innermost(region: np.ndarray) -> tuple[float, float]:
    dist = cv2.distanceTransform(np.pad(region, 1).astype(np.uint8), cv2.DIST_L2, 5)[1:-1, 1:-1]
    y, x = np.unravel_index(int(dist.argmax()), dist.shape)
    return float(x), float(y)


def next_click(proposal: np.ndarray, target: np.ndarray) -> tuple[tuple[float, float], int]:
    """The protocol's next click: inside the largest error region, positive where the object was
    missed, negative where the proposal spilled over."""
    missed, spilled = target & ~proposal, proposal & ~target
    best = None
    for err, label in ((missed, 1), (spilled, 0)):
        n, comp = cv2.connectedComponents(err.astype(np.uint8), connectivity=4)
        for k in range(1, n):
            size = int((comp == k).sum())
            if best is None or size > best[0]:
                best = (size, comp == k, label)
    return _innermost(best[1]), best[2]


def clicks_to_target(seg, emb, target: np.ndarray) -> int:
    points, labels = [_innermost(target)], [1]
    for n in range(1, MAX_CLICKS + 1):
        proposal = seg.segment(emb, points, labels)
        iou = (proposal & target).sum() / max((proposal | target).sum(), 1)
        if iou >= TARGET:
            return n
        p, lab = next_click(proposal, target)
        points.append(p)
        labels.append(lab)
    return MAX_CLICKS


def noc(model: str, data: str, split: str, min_pixels: int, limit: int) -> list[list]:
    from core.data.source import open_dataset
    from core.labeling.click_segment import ClickSegmenter

    seg = ClickSegmenter(model)
    source = open_dataset(data)
    names = source.schema.names
    counts = []
    for sample in source.samples(split):
        mask = source.read_mask(sample)
        objects = []
        for cls in THINGS:
            if cls not in names:
                continue
            n, comp = cv2.connectedComponents((mask == names.index(cls)).astype(np.uint8), connectivity=8)
            objects += [comp == k for k in range(1, n) if (comp == k).sum() >= min_pixels]
        if not objects:
            continue
        emb = seg.embed(source.read_image(sample), sample.name)
        counts += [clicks_to_target(seg, emb, obj) for obj in objects]
        if len(counts) >= limit:
            break
    counts = np.array(counts[:limit])
    return [[model, len(counts), f"{counts.mean():.2f}", f"{(counts <= 5).mean():.0%}",
             f"{(counts < MAX_CLICKS).mean():.0%}"]]


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--models", default="tiny,base-plus", help="latency: hiera sizes to build")
    p.add_argument("--embeds", type=int, default=5)
    p.add_argument("--clicks", type=int, default=20)
    p.add_argument("--int8", action="store_true",
                   help="latency: also time the embedding with the image encoder's Linear layers quantized "
                        "to int8 (torch dynamic quantization; its effect on masks needs trained weights)")
    p.add_argument("--noc", action="store_true", help="clicks to IoU 0.85 on CamVid objects (real weights)")
    p.add_argument("--model", default="facebook/sam2.1-hiera-tiny", help="--noc: hub id or folder")
    p.add_argument("--data", default=str(CAMVID))
    p.add_argument("--split", default="val")
    p.add_argument("--min-pixels", type=int, default=500)
    p.add_argument("--objects", type=int, default=200)
    args = p.parse_args(argv)
    print(machine())
    if args.noc:
        print(table(["model", "objects", "NoC@85", "<= 5 clicks", "< 20 clicks"],
                    noc(args.model, args.data, args.split, args.min_pixels, args.objects)))
        return 0
    from core.data.source import open_dataset

    source = open_dataset(args.data) if Path(args.data).is_dir() else None
    image = (source.read_image(source.samples("val")[0]) if source is not None
             else np.random.default_rng(0).integers(0, 256, (360, 480, 3), np.uint8))
    print(f"image {image.shape[1]}x{image.shape[0]}; milliseconds, median / p95")
    print(table(["model", "M params", "embedding", "1 click", "2 clicks", "3 clicks"],
                latency(args.models.split(","), image, args.embeds, args.clicks, args.int8)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
