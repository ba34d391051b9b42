"""Export a trained checkpoint to ONNX, to run without roadseg or PyTorch (e.g. in onnxruntime).

Uses torch's torch.export-based exporter (`dynamo=True`, the default since torch 2.9; needs
`onnxscript`): it records the shape arithmetic of the models' pad-to-multiple wrapper
symbolically, so a `--dynamic` export gives the right logits at any size, not only the traced
one. The legacy TorchScript exporter is deprecated.

The ONNX graph takes `image` float32 [N,3,H,W], RGB, scaled to 0..1 then normalised with the
ImageNet mean/std (what the Trainer fed the model), and returns `logits` float32 [N,C,H,W]; argmax
over C gives train ids. The file is self-contained (weights inside) and carries its class names,
training image size and normalisation as metadata (`roadseg.*` keys).
"""
from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from core.data.model_input import IMAGENET_MEAN, IMAGENET_STD
from core.errors import RoadsegError


class ExportError(RoadsegError):
    """The model could not be exported (a missing package, an operator ONNX lacks)."""


@dataclass
class ExportInfo:
    path: Path
    image_size: tuple[int, int]
    dynamic: bool
    class_names: list[str]
    max_abs_diff: float | None = None  # onnxruntime vs PyTorch on random input, when checked


def _require_onnx() -> None:
    missing = []
    for name in ("onnx", "onnxscript"):
        try:
            __import__(name)
        except ImportError:
            missing.append(name)
    if missing:
        raise ExportError(f"ONNX export needs {', '.join(missing)}: pip install 'roadseg[onnx]'")


def export_onnx(checkpoint: str | Path, out: str | Path, image_size: tuple[int, int] | None = None,
                dynamic: bool = False, opset: int | None = None, check: bool = True) -> ExportInfo:
    """Write `checkpoint`'s model as ONNX to `out` (atomically).

    `image_size` (H, W) is the input size of a fixed-shape export (default: the size it trained
    at). `dynamic` makes batch, height and width free (height and width at least the model's
    padding multiple). `check` runs the file in onnxruntime, when installed, against PyTorch.
    """
    from core.evaluate import Predictor

    _require_onnx()
    pred = Predictor.from_checkpoint(checkpoint, device="cpu", precision="fp32")
    model = pred.model.eval().to(memory_format=torch.contiguous_format)
    size = tuple(image_size or pred.image_size)
    example = torch.randn(1, 3, *size)
    dynamic_shapes = None
    if dynamic:
        low = max(8, int(getattr(model, "pad_multiple", 1)))
        if min(size) < low:
            raise ExportError(f"--dynamic needs an example size of at least {low}x{low}, got {size[0]}x{size[1]}")
        dim = torch.export.Dim
        dynamic_shapes = ({0: dim("batch", min=1, max=1024), 2: dim("height", min=low),
                           3: dim("width", min=low)},)
    try:
        program = torch.onnx.export(model, (example,), None, dynamo=True, input_names=["image"],
                                    output_names=["logits"], dynamic_shapes=dynamic_shapes,
                                    opset_version=opset, verbose=False)
    except Exception as e:  # noqa: BLE001 - exporter errors are many and deep; name the checkpoint
        raise ExportError(f"{checkpoint}: ONNX export failed ({type(e).__name__}: "
                          f"{str(e).strip().splitlines()[0] if str(e).strip() else ''})") from e
    if dynamic:  # name the output's free axes as the input's (the exporter writes Min(...) terms)
        import onnx_ir

        logits = program.model.graph.outputs[0]
        logits.shape = onnx_ir.Shape(["batch", logits.shape[1], "height", "width"])
    program.model.metadata_props.update({
        "roadseg.classes": json.dumps(list(pred.schema.names)),
        "roadseg.image_size": f"{pred.image_size[0]}x{pred.image_size[1]}",
        "roadseg.mean": json.dumps(list(IMAGENET_MEAN)), "roadseg.std": json.dumps(list(IMAGENET_STD)),
        "roadseg.arch": str(pred.config.arch if pred.config else ""),
        "roadseg.input": "image float32 [N,3,H,W] RGB/255, (x - mean) / std; output logits [N,C,H,W]",
    })
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent)
    os.close(fd)
    try:
        program.save(tmp, external_data=False)
        os.replace(tmp, out)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    info = ExportInfo(out, size, dynamic, list(pred.schema.names))
    if check:
        info.max_abs_diff = parity(out, model, size, batch=2 if dynamic else 1)
    return info


def parity(path: str | Path, model: torch.nn.Module, size: tuple[int, int], batch: int = 1,
           seed: int = 0) -> float | None:
    """Max |logits_onnxruntime - logits_torch| on random input; None without onnxruntime."""
    try:
        import onnxruntime as ort
    except ImportError:
        return None
    x = torch.randn(batch, 3, *size, generator=torch.Generator().manual_seed(seed))
    with torch.inference_mode():
        ref = model.eval()(x).float().numpy()
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    got = sess.run(None, {sess.get_inputs()[0].name: x.numpy()})[0]
    if got.shape != ref.shape:
        raise ExportError(f"{path}: onnxruntime gave logits {got.shape}, PyTorch {ref.shape}")
    return float(np.abs(got - ref).max())
