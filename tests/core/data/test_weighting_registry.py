"""Class weightings are registered once; ClassStats.weights and `--class-weights` read the
registry, so a newly registered one is computed and offered without other edits."""
from __future__ import annotations

import numpy as np

import core.data.stats
from core.cli.main import build_parser
from core.data.stats import register_weighting, stats_from_masks, weighting_specs

M = np.array([[0, 0, 0, 1], [255, 0, 1, 1]], np.uint8)  # a=4, b=3, c absent


def _flag():
    train = build_parser()._subparsers._group_actions[0].choices["train"]
    return next(a for a in train._actions if "--class-weights" in a.option_strings)


def test_the_cli_offers_none_and_exactly_the_registry():
    action = _flag()
    assert tuple(action.choices) == ("none", *weighting_specs())
    assert "none: unweighted" in action.help
    assert all(f"{s.name}: {s.help}" in action.help for s in weighting_specs().values())


def test_a_registered_weighting_is_computed_with_absent_classes_at_zero(monkeypatch):
    monkeypatch.setattr(core.data.stats, "_WEIGHTINGS", dict(core.data.stats._WEIGHTINGS))

    @register_weighting("count", "one over the pixel count")
    def _count(stats, present):
        return 1.0 / stats.pixel_counts[present]

    w = stats_from_masks([M], ["a", "b", "c"]).weights("count")
    assert w.dtype == np.float32
    np.testing.assert_allclose(w, [1 / 4, 1 / 3, 0.0], rtol=1e-6)
    assert "count" in _flag().choices
