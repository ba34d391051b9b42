"""Cost of a model the way the report scores it: GFLOPs for one image at the run's input size,
counted by `torch.utils.flop_counter` (a multiply-add = 2 FLOPs), parameters, and the
efficiency score 100 * mIoU / GFLOPs."""
from __future__ import annotations

import copy

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode


def count_gflops(model: nn.Module, image_size=(360, 480)) -> float:
    """Forward FLOPs of one 3-channel image, in eval mode and without autograd. Only ops torch
    has formulas for count (convs, matmuls, attention); norms and activations add ~nothing.

    Counted on a copy of the model on the `meta` device: FLOPs follow from shapes alone, so no
    arithmetic runs (DDRNet-23-slim at 360x480: 8.6 s of a 2-core CPU's time for a real forward
    pass at every run's start, ~0.3 s on meta). A model whose forward needs real values falls back
    to a real pass."""
    h, w = (int(v) for v in image_size)
    try:
        meta = copy.deepcopy(model).to("meta")
        return _forward_flops(meta, torch.zeros(1, 3, h, w, device="meta"))
    except (NotImplementedError, RuntimeError):
        pass
    param = next(iter(model.parameters()), None)
    device = param.device if param is not None else torch.device("cpu")
    dtype = param.dtype if param is not None and param.is_floating_point() else torch.float32
    return _forward_flops(model, torch.zeros(1, 3, h, w, device=device, dtype=dtype))


def _forward_flops(model: nn.Module, x: torch.Tensor) -> float:
    was_training = model.training
    model.eval()
    try:
        counter = FlopCounterMode(display=False)
        with torch.no_grad(), counter:
            model(x)
    finally:
        model.train(was_training)
    return counter.get_total_flops() / 1e9


def count_params(model: nn.Module) -> int:
    """All parameters, trainable or frozen."""
    return sum(p.numel() for p in model.parameters())


def efficiency(miou: float, gflops: float) -> float:
    """The report's score: 100 * mIoU / GFLOPs (mIoU as a fraction in [0, 1])."""
    if not gflops or gflops <= 0:
        raise ValueError(f"efficiency needs a positive GFLOPs count, got {gflops!r}")
    return 100.0 * float(miou) / float(gflops)
