"""Segmentation models by name: `create_model("unet", 11, "resnet18")`. Importing this package
registers every architecture (SMP/timm/torchvision are imported only when a model is built)."""
from core.models.registry import (ModelInfo, create_model, list_models, model_info,
                                  register_model)
from core.models import (baseline, segformer, smp_models,  # noqa: F401,E402
                         torchvision_models, ddrnet)

__all__ = ["ModelInfo", "create_model", "list_models", "model_info", "register_model"]
