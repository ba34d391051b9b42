"""The forward cost of a configured model: one rule ("build it, count GFLOPs at the run's input
size and its parameters") for the CLI's `flops`, the Train view's cost label, torchrun's run
header and anything else that shows it."""
from __future__ import annotations


def measure(model, image_size) -> tuple[float, int]:
    """(GFLOPs of one image at `image_size`, parameters) of a built model (core.flops)."""
    from core.flops import count_gflops, count_params

    return count_gflops(model, image_size), count_params(model)


def cost(cfg, num_classes: int) -> tuple[float, int]:
    """(GFLOPs, parameters) of the network `cfg` (a TrainConfig) describes, built without any
    weights (they do not change the cost)."""
    from core.models.configured import build_from_config

    return measure(build_from_config(cfg, num_classes, load_pretrained=False), cfg.image_size)
