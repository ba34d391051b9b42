import numpy as np
import torch
import torch.nn.functional as F

from core.classes import ClassSchema
from core.evaluate import Predictor, evaluate_model


class Stub(torch.nn.Module):
    """A fixed 1x1 conv at half resolution: logits the test can recompute by hand."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.conv = torch.nn.Conv2d(3, 3, 1)

    def forward(self, x):
        return self.conv(F.avg_pool2d(x, 2))


def schema():
    return ClassSchema(name="abc", names=("a", "b", "c"), colors=((0, 0, 0), (255, 0, 0), (0, 255, 0)))


def images(*shapes):
    rng = np.random.default_rng(1)
    return [rng.integers(0, 256, (*s, 3), dtype=np.uint8) for s in shapes]


def per_image(predictor, imgs):
    out = predictor.logits(imgs)
    return [F.interpolate(o[None], size=i.shape[:2], mode="bilinear", align_corners=False)[0]
            for o, i in zip(out, imgs)]


def test_full_size_logits_of_one_size_equal_resizing_each_image():
    predictor = Predictor(Stub(), schema(), (8, 12))
    imgs = images((20, 30), (20, 30), (20, 30))
    got = predictor.full_size_logits(imgs)
    assert [tuple(g.shape) for g in got] == [(3, 20, 30)] * 3
    for g, want in zip(got, per_image(predictor, imgs)):
        torch.testing.assert_close(g, want, atol=1e-6, rtol=0)
        assert torch.equal(g.argmax(0), want.argmax(0))


def test_full_size_logits_of_mixed_sizes_follow_each_image():
    predictor = Predictor(Stub(), schema(), (8, 12))
    imgs = images((20, 30), (10, 14))
    got = predictor.full_size_logits(imgs)
    assert [tuple(g.shape) for g in got] == [(3, 20, 30), (3, 10, 14)]
    for g, want in zip(got, per_image(predictor, imgs)):
        torch.testing.assert_close(g, want, atol=1e-6, rtol=0)


class Source:
    """Two images whose true masks are the stub model's own predictions, one pixel changed."""

    def __init__(self, predictor):
        self.schema = schema()
        self.imgs = images((20, 30), (20, 30))
        self.masks = [p.argmax(0).to(torch.uint8).numpy() for p in per_image(predictor, self.imgs)]
        self.masks[1][0, 0] = (self.masks[1][0, 0] + 1) % 3

    def samples(self, split):
        return [type("S", (), {"name": n})() for n in ("x", "y")]

    def read_image(self, s):
        return self.imgs["xy".index(s.name)]

    def read_mask(self, s):
        return self.masks["xy".index(s.name)]


def test_evaluate_model_counts_every_pixel_once():
    predictor = Predictor(Stub(), schema(), (8, 12))
    res = evaluate_model(predictor, Source(predictor), "val", batch_size=2)
    assert res.matrix.sum() == 2 * 20 * 30
    assert np.trace(res.matrix) == 2 * 20 * 30 - 1  # the one changed pixel is the one error
    assert res.per_image_miou[0] == 1.0 and res.per_image_miou[1] < 1.0


def test_with_tta_shares_the_model_and_averages_with_the_mirror_image():
    from core.tta import TTAOptions

    plain = Predictor(Stub(), schema(), (8, 12))
    flipped = plain.with_tta(TTAOptions(flip=True))
    assert flipped.model is plain.model and not plain.tta.enabled and flipped.tta.flip
    img = images((8, 12))
    x = plain._batch(img)
    with torch.no_grad():  # the stub halves the size: each view's logits come back to 8x12
        def up(t):
            return F.interpolate(t, size=(8, 12), mode="bilinear", align_corners=False)
        ref = 0.5 * (up(plain.model(x)).softmax(1) + up(plain.model(x.flip(-1)).flip(-1)).softmax(1))
        torch.testing.assert_close(flipped.logits(img).exp(), ref)
        torch.testing.assert_close(plain.logits(img), plain.model(x))
