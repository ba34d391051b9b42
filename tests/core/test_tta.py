"""TTA: identity settings are plain inference, flip-equivariant models are unchanged by the
flip, scales come back at the input size, option parsing."""
import pytest
import torch
from torch import nn

from core.errors import ConfigError
from core.tta import TTAOptions, parse_scales, tta_logits


def toy(c=4, seed=0):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.Conv2d(8, c, 3, padding=1))


def test_identity_settings_equal_plain_forward():
    model, x = toy(), torch.randn(2, 3, 20, 30)
    with torch.no_grad():
        out = tta_logits(model, x, flip=False, scales=(1.0,))
        ref = model(x)
    torch.testing.assert_close(out.softmax(1), ref.softmax(1))
    torch.testing.assert_close(out.argmax(1), ref.argmax(1))
    torch.testing.assert_close(out.log_softmax(1), out, atol=1e-5, rtol=0)  # log-probabilities


def test_flip_equivariant_model_is_unchanged_by_flip():
    model = toy()
    sym = lambda x: 0.5 * (model(x) + model(x.flip(-1)).flip(-1))  # noqa: E731  flip-equivariant
    x = torch.randn(1, 3, 16, 24)
    with torch.no_grad():
        a = tta_logits(sym, x, flip=True, scales=(1.0,))
        b = tta_logits(sym, x, flip=False, scales=(1.0,))
    torch.testing.assert_close(a, b, atol=1e-6, rtol=1e-5)


def test_flip_averages_the_mirrored_prediction():
    model, x = toy(), torch.randn(1, 3, 16, 24)
    with torch.no_grad():
        out = tta_logits(model, x, flip=True, scales=(1.0,))
        ref = 0.5 * (model(x).softmax(1) + model(x.flip(-1)).flip(-1).softmax(1))
    torch.testing.assert_close(out.exp(), ref)


@pytest.mark.parametrize("size", [(20, 30), (17, 23)])
def test_scales_come_back_at_input_size(size):
    model, x = toy(c=5), torch.randn(2, 3, *size)
    seen = []

    def fwd(t):
        seen.append(tuple(t.shape[-2:]))
        return model(t)

    with torch.no_grad():
        out = tta_logits(fwd, x)  # default: flip, scales 0.75 / 1 / 1.25
    assert out.shape == (2, 5, *size) and out.dtype == torch.float32
    assert len(seen) == 6 and len(set(seen)) == 3
    torch.testing.assert_close(out.exp().sum(1), torch.ones(2, *size))


def test_options_and_parsing():
    assert not TTAOptions().enabled and TTAOptions().views == 1
    opts = TTAOptions(flip=True, scales=parse_scales("0.75, 1,1.25"))
    assert opts.enabled and opts.scales == (0.75, 1.0, 1.25) and opts.views == 6
    assert TTAOptions(scales=[1, 1.5]).scales == (1.0, 1.5)
    for bad in ("", "a,b", "0,1", "1,9"):
        with pytest.raises(ConfigError, match="TTA scales"):
            parse_scales(bad)
