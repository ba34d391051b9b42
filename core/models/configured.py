"""The network a TrainConfig describes: one function, so the trainer (core.engine.setup), the
evaluator, the cost label and torchrun's header all build the same model from a run's config."""
from __future__ import annotations

from core.models.registry import create_model


def build_from_config(cfg, num_classes: int, *, load_pretrained: bool = True):
    """`cfg` (a TrainConfig) as a model for `num_classes` classes. `load_pretrained=False`
    when weights come from a checkpoint (or do not matter, as for counting its cost)."""
    return create_model(
        cfg.arch,
        num_classes,
        encoder=cfg.encoder,
        pretrained=cfg.pretrained and load_pretrained,
        weights_path=cfg.weights_path if load_pretrained else None,
        **cfg.model_options,  # every registered option; None: the architecture's own
    )
