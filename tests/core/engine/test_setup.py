"""engine.setup: the training loader aims crops at the classes the training split lacks most."""
import pytest
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


def test_no_rare_crop_or_copy_paste_by_default(synth_data):
    dataset = _loader(synth_data)[1].dataset
    assert dataset.rare_crop is None and dataset.copy_paste is None


def test_copy_paste_pastes_the_training_splits_rare_classes(synth_data):
    source, loader = _loader(synth_data, copy_paste=0.3)
    rare = compute_stats(source, "train").rare_classes()
    assert rare and loader.dataset.copy_paste == (rare, 0.3)


def test_statistics_are_read_once_and_only_when_needed(synth_data, monkeypatch):
    from core.engine import setup

    cfg = TrainConfig(data=str(synth_data), image_size=(32, 48), crop_size=(16, 24), batch_size=2)
    source = open_source(cfg)
    assert setup.train_stats(cfg, source) is None  # no weights, no rare-class crops: no mask pass
    assert setup.train_stats(cfg.replace(copy_paste=0.5), source) is not None
    cfg = cfg.replace(rare_crop=0.5, class_weights="sqrt-median", copy_paste=0.5)
    stats = setup.train_stats(cfg, source)
    monkeypatch.setattr(setup, "compute_stats", lambda *a, **k: pytest.fail("masks read again"))
    weights = setup.class_weight_tensor(cfg, source, stats)
    loader = build_train_loader(cfg, source, torch.Generator(), stats=stats)
    assert torch.allclose(weights, torch.as_tensor(stats.weights("sqrt-median")))
    assert loader.dataset.rare_crop == loader.dataset.copy_paste == (stats.rare_classes(), 0.5)


def test_statistics_come_from_the_decode_pass(synth_data, monkeypatch):
    from core.engine import setup

    cfg = TrainConfig(data=str(synth_data), image_size=(32, 48), crop_size=(16, 24), batch_size=2,
                      rare_crop=0.5, class_weights="median")
    source = open_source(cfg)
    want = compute_stats(source, "train")
    split = setup.decode_train_split(cfg, source, torch.device("cpu"))
    monkeypatch.setattr(setup, "compute_stats", lambda *a, **k: pytest.fail("masks read again"))
    stats = setup.train_stats(cfg, source, split)
    assert stats.to_dict() == want.to_dict()
    loader = build_train_loader(cfg, source, torch.Generator(), stats=stats, device=torch.device("cpu"), split=split)
    assert loader.split is split and loader.augment.rare is not None
