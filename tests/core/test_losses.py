"""Losses: hand-computed values on a 2x2 image, void pixels having no effect, bf16 logits."""
import math

import numpy as np
import pytest
import torch
from torch import nn

from core.errors import ConfigError
from core.losses import LOSSES, FocalLoss, create_loss

LN3 = math.log(3.0)


def tiny():
    """2x2 image, 2 classes. Softmax probabilities per pixel (class0, class1):
    (0,0): 1/2,1/2 target 0 | (0,1): 1/4,3/4 target 1 | (1,0): 1/4,3/4 target 0 | (1,1): void."""
    logits = torch.tensor([[[0.0, 0.0], [0.0, 5.0]],
                           [[0.0, LN3], [LN3, -5.0]]]).unsqueeze(0)
    target = torch.tensor([[[0, 1], [0, 255]]])
    return logits, target


def random_case(seed=0, c=5, void_frac=0.3):
    g = torch.Generator().manual_seed(seed)
    logits = torch.randn(2, c, 8, 8, generator=g)
    target = torch.randint(0, c, (2, 8, 8), generator=g)
    void = torch.rand(2, 8, 8, generator=g) < void_frac
    target[void] = 255
    return logits, target, void


def test_ce_hand_computed():
    logits, target = tiny()
    loss = create_loss("ce", 2)(logits, target)
    expected = (math.log(2) + math.log(4 / 3) + math.log(4)) / 3
    assert loss.item() == pytest.approx(expected, rel=1e-6)


def test_wce_hand_computed_and_requires_weights():
    logits, target = tiny()
    loss = create_loss("wce", 2, class_weights=torch.tensor([1.0, 3.0]))(logits, target)
    expected = (math.log(2) + 3 * math.log(4 / 3) + math.log(4)) / (1 + 3 + 1)
    assert loss.item() == pytest.approx(expected, rel=1e-6)
    with pytest.raises(ConfigError, match="class_weights"):
        create_loss("wce", 2)


def test_focal_hand_computed():
    logits, target = tiny()
    loss = create_loss("focal", 2)(logits, target)  # gamma = 2; p_t = 1/2, 3/4, 1/4
    expected = ((1 / 4) * math.log(2) + (1 / 16) * math.log(4 / 3) + (9 / 16) * math.log(4)) / 3
    assert loss.item() == pytest.approx(expected, rel=1e-6)


def test_dice_hand_computed():
    logits, target = tiny()
    # class 0: 2*(1/2+1/4) / ((1/2+1/4+1/4) + 2) = 1/2; class 1: 2*(3/4) / ((1/2+3/4+3/4) + 1) = 1/2
    loss = create_loss("dice", 2)(logits, target)
    assert loss.item() == pytest.approx(0.5, abs=1e-6)


def test_dice_perfect_prediction_is_zero():
    _, target, _ = random_case()
    logits = 30.0 * nn.functional.one_hot(target.clamp(max=4), 5).permute(0, 3, 1, 2).float()
    assert create_loss("dice", 5)(logits, target).item() == pytest.approx(0.0, abs=1e-5)


def test_focal_gamma0_equals_ce_and_gamma_shrinks_it():
    logits, target, _ = random_case()
    w = torch.tensor([1.0, 2.0, 0.5, 1.0, 3.0])
    for weights in (None, w):
        ce = create_loss("ce", 5, class_weights=weights)(logits, target)
        f0 = FocalLoss(5, class_weights=weights, gamma=0.0)(logits, target)
        f2 = create_loss("focal", 5, class_weights=weights)(logits, target)
        assert f0.item() == pytest.approx(ce.item(), rel=1e-6)
        assert f2.item() < ce.item()


def test_ce_matches_torch_cross_entropy():
    logits, target, _ = random_case(seed=3)
    w = torch.tensor([1.0, 2.0, 0.5, 1.0, 3.0])
    ref = nn.CrossEntropyLoss(weight=w, ignore_index=255)(logits, target)
    assert create_loss("wce", 5, class_weights=w)(logits, target).item() == \
        pytest.approx(ref.item(), rel=1e-6)
    ref = nn.CrossEntropyLoss(ignore_index=255)(logits, target)
    assert create_loss("ce", 5)(logits, target).item() == pytest.approx(ref.item(), rel=1e-6)


def test_ce_plus_dice_is_the_sum():
    logits, target, _ = random_case(seed=4)
    total = create_loss("ce+dice", 5)(logits, target)
    parts = create_loss("ce", 5)(logits, target) + create_loss("dice", 5)(logits, target)
    assert total.item() == pytest.approx(parts.item(), rel=1e-6)


@pytest.mark.parametrize("name", LOSSES)
def test_void_pixels_have_no_effect(name):
    logits, target, void = random_case(seed=1)
    loss_fn = create_loss(name, 5, class_weights=torch.tensor([1.0, 2.0, 0.5, 1.0, 3.0]))
    a = logits.clone().requires_grad_(True)
    la = loss_fn(a, target)
    la.backward()
    changed = logits.clone()
    changed[void.unsqueeze(1).expand_as(changed)] = 50.0 * torch.randn(int(void.sum()) * 5)
    b = changed.requires_grad_(True)
    lb = loss_fn(b, target)
    lb.backward()
    assert lb.item() == pytest.approx(la.item(), rel=1e-6)
    void_c = void.unsqueeze(1).expand_as(logits)
    assert torch.all(a.grad[void_c] == 0) and torch.all(b.grad[void_c] == 0)
    assert a.grad[~void_c].abs().sum() > 0
    torch.testing.assert_close(a.grad[~void_c], b.grad[~void_c])


@pytest.mark.parametrize("name", LOSSES)
def test_all_void_batch_gives_zero_not_nan(name):
    logits = torch.randn(1, 3, 4, 4, requires_grad=True)
    target = torch.full((1, 4, 4), 255)
    loss = create_loss(name, 3, class_weights=torch.ones(3))(logits, target)
    loss.backward()
    assert loss.item() == 0.0 and torch.all(logits.grad == 0)


@pytest.mark.parametrize("name", LOSSES)
def test_bf16_logits_under_autocast(name):
    logits, target, _ = random_case(seed=2)
    loss_fn = create_loss(name, 5, class_weights=torch.ones(5))
    conv = nn.Conv2d(5, 5, 1)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out = conv(logits)
        assert out.dtype == torch.bfloat16
        loss = loss_fn(out, target)
    assert loss.dtype == torch.float32 and torch.isfinite(loss)
    assert loss.item() == pytest.approx(loss_fn(out.float(), target).item(), rel=1e-6)
    loss.backward()
    assert conv.weight.grad is not None and torch.isfinite(conv.weight.grad).all()


def test_uint8_target_and_weights_as_numpy():
    import numpy as np
    logits, target, _ = random_case(seed=5)
    w = np.array([1.0, 2.0, 0.5, 1.0, 3.0])
    a = create_loss("wce", 5, class_weights=w)(logits, target.to(torch.uint8))
    b = create_loss("wce", 5, class_weights=torch.from_numpy(w))(logits, target)
    assert a.item() == pytest.approx(b.item(), rel=1e-6)


def test_bad_arguments():
    with pytest.raises(ConfigError, match="unknown loss 'lovasz'"):
        create_loss("lovasz", 5)
    with pytest.raises(ConfigError, match="expected 5 weights"):
        create_loss("ce", 5, class_weights=[1.0, 2.0])
    with pytest.raises(ConfigError, match="non-negative"):
        create_loss("dice", 2, class_weights=[1.0, -1.0])
    with pytest.raises(ValueError, match="channels"):
        create_loss("ce", 4)(torch.randn(1, 5, 2, 2), torch.zeros(1, 2, 2, dtype=torch.long))
    assert isinstance(create_loss(" CE+Dice ", 3), nn.Module)


# ---- AuxLoss: deep supervision for models with auxiliary heads -----------------------------

def test_aux_loss_sums_weighted_heads():
    from core.losses import AuxLoss
    logits, target, _ = random_case(seed=6)
    aux1, aux2 = logits.roll(1, 1), 2 * logits
    base = create_loss("ce", 5)
    loss = AuxLoss(base, [0.4, 1.0])((logits, [aux1, aux2]), target)
    expected = base(logits, target) + 0.4 * base(aux1, target) + base(aux2, target)
    assert loss.item() == pytest.approx(expected.item(), rel=1e-6)


def test_aux_loss_plain_tensor_is_the_base_loss():
    from core.losses import AuxLoss
    logits, target, _ = random_case(seed=7)
    base = create_loss("ce+dice", 5)
    assert AuxLoss(base, [0.4])(logits, target).item() == pytest.approx(
        base(logits, target).item(), rel=1e-6)


def test_aux_loss_resizes_small_aux_logits_and_backprops():
    from core.losses import AuxLoss
    logits, target, _ = random_case(seed=8)
    small = torch.randn(2, 5, 4, 4, requires_grad=True)
    loss = AuxLoss(create_loss("ce", 5), (0.4,))((logits, [small]), target)
    loss.backward()
    assert torch.isfinite(loss) and small.grad.abs().sum() > 0


def test_aux_loss_wraps_only_models_with_heads():
    from core.losses import AuxLoss
    from core.models import create_model

    base = create_loss("ce", 3)
    assert AuxLoss.wrap(base, create_model("baseline", 3)) is base
    plain = AuxLoss.wrap(base, create_model("ddrnet23-slim", 3))
    assert plain.weights == (0.4,) and plain.boundary is None
    detail = AuxLoss.wrap(base, create_model("ddrnet23-slim", 3, detail=True))
    assert detail.boundary_weight == 1.0 and detail.boundary is not None


def test_aux_loss_bad_arguments():
    from core.losses import AuxLoss
    logits, target, _ = random_case(seed=9)
    with pytest.raises(ValueError, match="2 auxiliary outputs, but 1 weights"):
        AuxLoss(create_loss("ce", 5), [0.4])((logits, [logits, logits]), target)
    with pytest.raises(ConfigError, match="aux loss weights"):
        AuxLoss(create_loss("ce", 5), [-1.0])


# ---- boundary head (DDRNet detail=True) ----------------------------------------------------

def test_boundary_target_marks_class_changes_and_skips_void():
    from core.losses import boundary_target
    t = torch.tensor([[[0, 0, 1, 1],
                       [0, 0, 1, 1],
                       [255, 255, 1, 1],
                       [2, 255, 1, 1]]])
    expected = torch.tensor([[0, 1, 1, 0],   # each pixel's 3x3 window holds both 0 and 1
                             [0, 1, 1, 0],
                             [0, 0, 1, 0],   # void pixels are 0; (2,2) sees the 0 at (1,1)
                             [0, 0, 0, 0]])  # the 2 at (3,0) sees only void: no edge
    out = boundary_target(t)
    assert out.shape == (1, 1, 4, 4) and out.dtype == torch.float32
    assert torch.equal(out[0, 0], expected.float())
    assert boundary_target(torch.full((1, 3, 3), 255)).sum() == 0  # all void


def test_boundary_target_thin_object_is_all_edge():
    from core.losses import boundary_target
    t = torch.zeros(1, 8, 8, dtype=torch.long)
    t[0, :, 3:5] = 2  # a 2-px "pole"
    edge = boundary_target(t)[0, 0]
    assert edge[:, 3:5].all() and edge[:, [2, 5]].all()  # the pole and the pixels beside it
    assert not edge[:, [0, 1, 6, 7]].any()


def test_boundary_loss_hand_computed():
    from core.losses import BoundaryLoss
    t = torch.tensor([[[0, 1], [255, 1]]])  # edges at (0,0), (0,1), (1,1); (1,0) void
    logits = torch.zeros(1, 1, 2, 2)        # p = 0.5 everywhere
    # BCE at p=.5 is ln 2 for each of the 3 valid pixels; Dice: (2*1.5 + 1) / (1.5 + 3 + 1)
    expected = math.log(2) + 1 - 4 / 5.5
    assert BoundaryLoss()(logits, t).item() == pytest.approx(expected, rel=1e-6)
    assert BoundaryLoss()(logits, torch.full((1, 2, 2), 255)).item() == 0.0


def test_boundary_loss_is_lower_for_the_right_edges_and_backprops():
    from core.losses import BoundaryLoss, boundary_target
    t = torch.zeros(2, 16, 16, dtype=torch.long)
    t[:, :, 6:9] = 3
    good = (boundary_target(t) * 2 - 1) * 6  # confident and right
    logits = torch.zeros(2, 1, 8, 8, requires_grad=True)  # coarser: resized to the target
    loss = BoundaryLoss()(logits, t)
    loss.backward()
    assert logits.grad.abs().sum() > 0
    assert BoundaryLoss()(good, t) < 0.1 < loss
    with pytest.raises(ValueError, match=r"\[B,1,H,W\]"):
        BoundaryLoss()(torch.zeros(2, 3, 16, 16), t)


def test_aux_loss_adds_the_weighted_boundary_loss():
    from core.losses import AuxLoss, BoundaryLoss
    logits, target, _ = random_case(seed=10)
    edge = torch.randn(logits.shape[0], 1, *logits.shape[-2:])
    base = create_loss("ce", 5)
    loss = AuxLoss(base, [0.4], boundary_weight=2.0)((logits, [logits], edge), target)
    expected = 1.4 * base(logits, target) + 2.0 * BoundaryLoss()(edge, target)
    assert loss.item() == pytest.approx(expected.item(), rel=1e-6)
    with pytest.raises(ValueError, match="boundary"):  # a boundary output without a weight
        AuxLoss(base, [0.4])((logits, [logits], edge), target)
    with pytest.raises(ValueError, match="boundary"):  # a weight without a boundary output
        AuxLoss(base, [0.4], boundary_weight=1.0)((logits, [logits]), target)
    with pytest.raises(ConfigError, match="aux loss weights"):
        AuxLoss(base, [0.4], boundary_weight=-1.0)


def test_ohem_keeps_only_hard_pixels():
    # tiny(): CE per valid pixel = ln2 (p=.5), ln(4/3) (p=.75), ln4 (p=.25). Threshold 0.7 keeps
    # the pixels with p_true < 0.7: the first and the third.
    logits, target = tiny()
    loss = create_loss("ohem", 2)(logits, target)
    assert loss.item() == pytest.approx((math.log(2) + math.log(4)) / 2, rel=1e-6)


def test_ohem_min_kept_takes_the_highest_losses():
    from core.losses import OhemCE

    logits, target = tiny()
    # threshold 0.2: no pixel is that hard, so the ceil(0.5 * 3) = 2 worst are kept
    loss = OhemCE(2, thresh=0.2, min_kept=0.5)(logits, target)
    assert loss.item() == pytest.approx((math.log(2) + math.log(4)) / 2, rel=1e-6)
    loss = OhemCE(2, thresh=0.2, min_kept=0.1)(logits, target)  # k = 1: the worst alone
    assert loss.item() == pytest.approx(math.log(4), rel=1e-6)
    assert OhemCE(2, thresh=1.0)(logits, target).item() == pytest.approx(
        create_loss("ce", 2)(logits, target).item(), rel=1e-6)  # p < 1 everywhere: plain CE
    with pytest.raises(ConfigError):
        OhemCE(2, thresh=0.0)


def test_ohem_plus_dice_is_the_sum():
    logits, target, _ = random_case(4)
    total = create_loss("ohem+dice", 5)(logits, target)
    parts = create_loss("ohem", 5)(logits, target) + create_loss("dice", 5)(logits, target)
    assert total.item() == pytest.approx(parts.item(), rel=1e-6)


@pytest.mark.parametrize("weights", [None, [1.0, 2.0, 0.5, 1.0, 3.0]])
def test_dice_matches_smp_value_and_gradient(weights):
    """Dice is SMP's multiclass DiceLoss computed without its one-hot: same value, same gradient,
    void pixels included and one class absent from the batch."""
    from segmentation_models_pytorch.losses import DiceLoss

    g = torch.Generator().manual_seed(3)
    logits = torch.randn(2, 5, 7, 9, generator=g)
    target = torch.randint(0, 4, (2, 7, 9), generator=g)  # class 4 never occurs
    target[0, :2] = 255
    ours_in = logits.clone().requires_grad_()
    smp_in = logits.clone().requires_grad_()
    ours = create_loss("dice", 5, class_weights=weights)(ours_in, target)
    ref = DiceLoss("multiclass", from_logits=True, ignore_index=255, class_weights=weights)(smp_in, target)
    ours.backward()
    ref.backward()
    assert ours.item() == pytest.approx(ref.item(), rel=1e-5)
    assert torch.allclose(ours_in.grad, smp_in.grad, atol=1e-7, rtol=1e-4)
    assert ours_in.grad[target.unsqueeze(1).expand_as(logits) == 255].abs().max() == 0


def test_dice_ignores_void_whatever_its_id():
    """A void id inside the class range (here 0) is masked like 255: same loss as relabelling it."""
    from core.losses import Dice

    logits, target, _ = random_case(seed=4)
    void0 = target.clone()
    void0[target == 255] = 0
    as_255 = void0.clone()
    as_255[void0 == 0] = 255
    assert Dice(5, ignore_index=0)(logits, void0).item() == pytest.approx(
        Dice(5, ignore_index=255)(logits, as_255).item(), rel=1e-6)


@pytest.mark.parametrize("shape,thresh,min_kept", [((2, 5, 16, 20), 0.7, 1 / 16), ((1, 3, 8, 8), 0.2, 0.5),
                                                   ((3, 4, 12, 10), 0.05, 0.3), ((2, 4, 9, 7), 0.99, 0.01)])
def test_ohem_without_host_reads_keeps_the_same_pixels(shape, thresh, min_kept):
    """The GPU path (no host read) and the CPU path (counts read) pick the same pixels, with and
    without void, including the all-void batch."""
    from core.losses import OhemCE

    g = torch.Generator().manual_seed(sum(shape))
    logits = torch.randn(shape, generator=g) * 3
    target = torch.randint(0, shape[1], (shape[0], *shape[2:]), generator=g)
    loss = OhemCE(shape[1], thresh=thresh, min_kept=min_kept)
    for t in (target, torch.where(torch.rand(target.shape, generator=g) < 0.3, 255, target),
              torch.full_like(target, 255)):
        ce, valid, tt = loss._pixel_ce(logits, t)
        hard = valid & (ce > -np.log(thresh))
        read, on_device = loss._keep_read(ce, valid, hard), loss._keep_on_device(ce, valid, hard)
        assert torch.equal(read, on_device)
        assert loss._mean(ce * on_device, on_device, tt).item() == pytest.approx(loss(logits, t).item())
