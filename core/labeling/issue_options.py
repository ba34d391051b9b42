"""How label-issue scoring is asked for (core.labeling.label_issues): the rules, the image scores
with what each number means, and the options with their defaults. Kept apart from the scoring so
the CLI's parser and the GUI's tooltips read them without numpy or OpenCV."""
from __future__ import annotations

from dataclasses import dataclass

from core.errors import ConfigError

RULES = ("threshold", "margin")
IMAGE_SCORES = {  # how an image is ranked (ImageIssues.score): name -> what the number is
    "regions": "the probability of the image's most likely label-error region, from a scorer fitted "
               "on label errors planted into copies of the split's own masks (core.labeling.region_scorer), "
               "combined with the relative score as 1 - (1 - p)(1 - relative) (the relative score alone "
               "where the split is too small to fit)",
    "share": "share of the scored pixels (labelled, or void in an unlabelled region) inside suspect regions",
    "doubt": "that share, each pixel weighted by the model's doubt about its label (1 - p[given])",
    "rare": "that share, each pixel weighted by how rarely the model says the suggested class where "
            "the given one is labelled on the split (-log P(predicted | given))",
    "softmin": "1 - cleanlab's label quality: the softmin of the image's self-confidences, "
               "dominated by its most doubted pixels",
    "relative": "1 - cleanlab's softmin over each pixel's self-confidence divided by its class's "
                "mean on the split (capped at 1; the labels' edge pixels left out by default), so "
                "a class the model doubts everywhere does not make every image showing it look wrong",
}


def min_region_pixels(shape: tuple[int, int]) -> int:
    """The default smallest region: 1/2000 of the image, at least 20 pixels (86 at 360x480).
    Smaller slivers along class boundaries are where every model hesitates: with camvid-fast on
    CamVid val, 42 regions an image at 20 pixels, 20 at this size, holding 94% of the pixels."""
    return max(20, shape[0] * shape[1] // 2000)


@dataclass
class IssueOptions:
    rule: str = "threshold"
    margin: float = 0.5
    min_pixels: int | None = None  # smallest region kept; None: min_region_pixels of the image
    method: str = "regions"  # how images are ranked (ImageIssues.score)
    void_confidence: float = 0.9  # void pixels the model says a class this surely: unlabelled (0: off)
    skip_edges: bool = True  # leave the given labels' edge pixels out of the image scores
    flip: bool = True  # probabilities averaged with the mirrored image's (flip test-time augmentation)
    region_threshold: float = 0.6  # learned regions outlined from this probability on (benchmarks/RESULTS.md)

    def __post_init__(self) -> None:
        if self.rule not in RULES:
            raise ConfigError(f"unknown suspect rule {self.rule!r} (choose from {', '.join(RULES)})")
        if self.method not in IMAGE_SCORES:
            raise ConfigError(f"unknown image score {self.method!r} (choose from {', '.join(IMAGE_SCORES)})")
        if not 0.0 <= float(self.margin) <= 1.0:
            raise ConfigError(f"margin is a probability difference in [0, 1], got {self.margin}")
        if self.min_pixels is not None and int(self.min_pixels) < 1:
            raise ConfigError(f"min_pixels must be at least 1, got {self.min_pixels}")
        if not 0.0 <= float(self.region_threshold) <= 1.0:
            raise ConfigError(f"region_threshold is a probability in [0, 1], got {self.region_threshold}")
        if not 0.0 <= float(self.void_confidence) <= 1.0:
            raise ConfigError(f"void_confidence is a probability in [0, 1] (0: off), got {self.void_confidence}")

    def min_region(self, shape: tuple[int, int]) -> int:
        """The smallest region kept in an image of this size."""
        return int(self.min_pixels) if self.min_pixels is not None else min_region_pixels(shape)

    def tta(self):
        """The test-time augmentation a Predictor scores with (core.tta.TTAOptions)."""
        from core.tta import TTAOptions

        return TTAOptions(flip=self.flip)
