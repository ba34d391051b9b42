"""engine.setup: the training loader aims crops at the classes the training split lacks most."""
import torch

from core.config import TrainConfig
from core.data.stats import compute_stats
from core.engine.setup import build_train_loader, open_source


def _loader(synth_data, **kw):
    cfg = TrainConfig(data=str(synth_data), image_size=(32, 48), crop_size=(16, 24), batch_size=2, **kw)
    source = open_source(cfg)
    return source, build_train_loader(cfg, source, torch.Generator().manual_seed(0))


def test_rare_crop_aims_at_the_training_splits_rare_classes(synth_data):
    source, loader = _loader(synth_data, rare_crop=0.5)
    rare = compute_stats(source, "train").rare_classes()
    assert rare and loader.dataset.rare_crop == (rare, 0.5)
    x, y = next(iter(loader))
    assert x.shape == (2, 3, 16, 24) and y.shape == (2, 16, 24)


def test_no_rare_crop_by_default(synth_data):
    assert _loader(synth_data)[1].dataset.rare_crop is None
