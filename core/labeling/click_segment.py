"""Click to segment: a promptable model turns clicks (and a box) into a mask proposal.

The model family is SAM 2 through Hugging Face transformers (Apache-2.0): `facebook/sam2.1-hiera-tiny`
by default, `facebook/sam2.1-hiera-base-plus` when quality matters more than speed, or any
SAM / SAM 2 / EdgeTAM checkpoint in transformers' format, by hub id or as a local folder. Why
transformers: one maintained API for the SAM family, its weights come through the Hugging Face
hub cache exactly as the encoders' ImageNet weights do (`HF_HUB_OFFLINE` respected, a folder
accepted), and it needs no compiled extension (the `sam2` package builds one; osam ships ONNX
graphs of fixed models); docs/labeling.md has the latencies measured.

The image is embedded once (`embed`, seconds on a CPU: run it off the UI thread); each set of
clicks is then only the prompt encoder and the mask decoder (`segment`, tens of milliseconds).
Coordinates are image pixels (x right, y down), the mask is the image's size.
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from core.errors import ModelError

SMALL_MODEL = "facebook/sam2.1-hiera-tiny"
LARGE_MODEL = "facebook/sam2.1-hiera-base-plus"
MODELS = {"small": SMALL_MODEL, "large": LARGE_MODEL}  # the choices the Label view offers
ENV_MODEL = "ROADSEG_SEGMENT_MODEL"  # a default other than SMALL_MODEL (hub id or folder)
INSTALL = "pip install 'roadseg[segment]'"


def default_model() -> str:
    return os.environ.get(ENV_MODEL) or SMALL_MODEL


def _fetch_hint(name: str) -> str:
    return (f"download it once with network access (`hf download {name}`, or open the Segment tool "
            "online), or choose a folder that holds its config.json and model.safetensors")


@dataclass
class ImageEmbedding:
    """What `embed` computed for one image; `key` names the image it belongs to."""

    key: str
    features: list  # the model's image embeddings (tensors)
    size: tuple[int, int]  # (H, W) of the image
    seconds: float


class ClickSegmenter:
    """A promptable segmentation model, loaded once. Not thread-safe: one call at a time."""

    def __init__(self, model: str | Path | None = None, device: str = "cpu"):
        self.name = str(model or default_model())
        try:
            from transformers import AutoModel, AutoProcessor
        except ImportError:
            raise ModelError(f"click-to-segment needs Hugging Face transformers: {INSTALL}") from None
        path = Path(self.name).expanduser()
        source = str(path) if path.exists() else self.name
        if path.exists() and not (path / "config.json").is_file():
            raise ModelError(f"segment model folder {path}: no config.json (a transformers "
                             "save_pretrained folder is expected)")
        try:
            self.processor = AutoProcessor.from_pretrained(source)
            self.model = AutoModel.from_pretrained(source).to(device).eval()
        except OSError as e:  # not in the cache (offline), no such repo, unreadable file
            offline = os.environ.get("HF_HUB_OFFLINE", "") not in ("", "0", "false", "False")
            why = "HF_HUB_OFFLINE is set and it is not in the Hugging Face cache" if offline else \
                "it is neither a folder nor a model in the Hugging Face cache or hub"
            raise ModelError(f"segment model {self.name}: {why}; {_fetch_hint(self.name)} "
                             f"({str(e).splitlines()[0][:160]})") from None
        except Exception as e:  # noqa: BLE001 - a broken or foreign checkpoint (safetensors, config, ...)
            raise ModelError(f"segment model {self.name}: cannot load it as a SAM-family model "
                             f"({str(e).splitlines()[0][:200]})") from None
        if not hasattr(self.model, "get_image_embeddings"):
            raise ModelError(f"segment model {self.name}: a {type(self.model).__name__}, not a "
                             "promptable (SAM-family) model")
        self.device = device

    def embed(self, image: np.ndarray, key: str = "") -> ImageEmbedding:
        """The image's embedding (HxWx3 uint8 RGB): the slow part, once per image."""
        t0 = time.perf_counter()
        with torch.inference_mode():
            inputs = self.processor(images=np.ascontiguousarray(image), return_tensors="pt")
            features = self.model.get_image_embeddings(inputs["pixel_values"].to(self.device))
        features = list(features) if isinstance(features, (list, tuple)) else [features]
        return ImageEmbedding(key, features, (int(image.shape[0]), int(image.shape[1])),
                              time.perf_counter() - t0)

    def segment(self, emb: ImageEmbedding, points: list[tuple[float, float]] = (),
                labels: list[int] = (), box: tuple[float, float, float, float] | None = None) -> np.ndarray:
        """HxW bool mask for positive (label 1) / negative (0) points and an optional box
        (x0, y0, x1, y1). One positive click alone is ambiguous (a part or the whole object): of
        the model's three answers the one it scores highest is taken."""
        if not len(points) and box is None:
            return np.zeros(emb.size, bool)
        kw = {"original_sizes": [list(emb.size)], "return_tensors": "pt"}
        if len(points):
            kw["input_points"] = [[[[float(x), float(y)] for x, y in points]]]
            kw["input_labels"] = [[[int(v) for v in labels]]]
        if box is not None:
            x0, y0, x1, y1 = box
            kw["input_boxes"] = [[[min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)]]]
        prompt = self.processor(**kw)
        several = box is None and len(points) == 1
        args = {k: prompt[k].to(self.device) for k in ("input_points", "input_labels", "input_boxes") if k in prompt}
        embeddings = emb.features if len(emb.features) > 1 else emb.features[0]
        with torch.inference_mode():
            out = self.model(image_embeddings=embeddings, multimask_output=several, **args)
        masks = self.processor.post_process_masks(out.pred_masks.cpu(), [list(emb.size)])[0]  # [1, k, H, W]
        best = int(out.iou_scores[0, 0].argmax()) if several else 0
        return masks[0, best].numpy().astype(bool)
