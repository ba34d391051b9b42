"""DDRNet-23-slim: builds from the registry, returns (main, [aux]) while training and plain logits
in eval at any input size, its options really change the network, FLOPs count the main path,
its skip option feeds the stem's 1/4 features into the head, and its detail option adds a
train-time boundary head that inference never sees."""
import pytest
import torch
from torch import nn

from core.errors import ModelError
from core.flops import count_gflops, count_params
from core.losses import AuxLoss, create_loss
from core.models import create_model, list_models, model_info
from core.models.ddrnet import DDRNet, DetailFusion, DetailHead, SegHead, StripPooling

ARCH = "ddrnet23-slim"


def test_registered_with_its_options():
    assert ARCH in list_models()
    info = model_info(ARCH)
    assert info.options == {"dropout", "norm", "quarter_skip", "boundary_head", "refine", "strip"}
    assert info.norms == ("batch", "group")
    model = create_model(ARCH, 11)
    assert model.aux_weights == (0.4,)
    assert 5.5e6 < count_params(model) < 6.0e6  # the paper's 5.7 M


def test_train_mode_returns_main_and_aux_with_gradients():
    model = create_model(ARCH, 3).train()
    x = torch.randn(2, 3, 70, 90, requires_grad=True)  # 70x90: padded to 72x96, cropped back
    out = model(x)
    assert isinstance(out, tuple)
    main, aux = out
    assert main.shape == (2, 3, 70, 90) and len(aux) == 1 and aux[0].shape == (2, 3, 70, 90)
    loss = AuxLoss(create_loss("ce", 3), model.aux_weights)(out, torch.randint(0, 3, (2, 70, 90)))
    loss.backward()
    assert torch.isfinite(x.grad).all()
    assert model.net.aux_head.classifier.weight.grad.abs().sum() > 0
    assert model.net.head.classifier.weight.grad.abs().sum() > 0
    assert model.net.backbone.conv1[0].weight.grad.abs().sum() > 0


def test_eval_returns_tensor_at_any_size():
    model = create_model(ARCH, 4).eval()
    with torch.no_grad():
        for size in [(70, 90), (64, 96), (33, 47)]:
            y = model(torch.randn(1, 3, *size))
            assert isinstance(y, torch.Tensor) and y.shape == (1, 4, *size)


def test_flops_count_the_main_path_only():
    model = create_model(ARCH, 11)
    gf = count_gflops(model, (64, 96))
    assert model.training  # count_gflops restores the mode
    model.net.aux_head = nn.Identity()  # not called in eval: removing it changes nothing
    assert count_gflops(model, (64, 96)) == pytest.approx(gf)


def test_dropout_option():
    assert nn.Dropout2d not in {type(m) for m in create_model(ARCH, 3).modules()}
    model = create_model(ARCH, 3, dropout=0.2)
    assert isinstance(model.net.head.dropout, nn.Dropout2d) and model.net.head.dropout.p == 0.2
    assert isinstance(model.net.aux_head.dropout, nn.Dropout2d)


def test_group_norm_option():
    types = {type(m) for m in create_model(ARCH, 3, norm="group").modules()}
    assert nn.GroupNorm in types and nn.BatchNorm2d not in types
    with pytest.raises(ModelError, match="supports norm"):
        create_model(ARCH, 3, norm="none")
    with pytest.raises(ModelError, match="does not apply"):
        create_model(ARCH, 3, output_stride=16)


def test_backbone_is_the_encoder_and_keeps_reference_key_names():
    model = create_model(ARCH, 3)
    assert model.encoder is model.net.backbone
    keys = set(model.encoder.state_dict())
    for key in ("conv1.0.weight", "layer1.0.conv1.weight", "layer3_.1.bn2.running_var",
                "layer5.0.conv3.weight", "compression3.1.weight", "down4.3.weight"):
        assert key in keys


def test_backbone_weights_load_from_a_file(tmp_path):
    src = DDRNet(5)
    path = tmp_path / "ddrnet_imagenet.pth"
    state = {k: v for k, v in src.backbone.state_dict().items()}
    state["linear.weight"] = torch.zeros(1000, 1024)  # a classifier head is ignored
    torch.save(state, path)
    model = create_model(ARCH, 3, pretrained=True, weights_path=str(path))
    torch.testing.assert_close(model.encoder.layer2[0].conv1.weight,
                               src.backbone.layer2[0].conv1.weight)


def test_skip_off_is_the_papers_head():
    off = create_model(ARCH, 11, quarter_skip=False)
    assert isinstance(off.net.head, SegHead)
    assert not any(k.startswith("net.head.low") for k in off.state_dict())
    on = create_model(ARCH, 11, quarter_skip=True)
    assert isinstance(on.net.head, DetailFusion)
    # hand count: + 1x1 32->64 and its BN (2048 + 128), + BN 64 and 3x3 64->32 (128 + 18432),
    # BN 32 instead of BN 64 (64 - 128), classifier 32->11 instead of 64->11 (-32 * 11)
    assert count_params(on) - count_params(off) == 2176 + 18560 - 64 - 32 * 11


def test_skip_flops_are_the_quarter_resolution_convs():
    h, w, c = 64, 96, 11
    quarter, eighth = (h // 4) * (w // 4), (h // 8) * (w // 8)
    extra = 2 * (32 * 64 * quarter          # 1x1 projection of the stem features
                 + 64 * 32 * 9 * quarter    # 3x3 fuse conv at 1/4
                 + 32 * c * quarter         # classifier at 1/4 ...
                 - 64 * c * eighth)         # ... instead of at 1/8
    on, off = create_model(ARCH, c, quarter_skip=True), create_model(ARCH, c, quarter_skip=False)
    assert count_gflops(on, (h, w)) - count_gflops(off, (h, w)) == pytest.approx(extra / 1e9)


def test_skip_output_depends_on_the_quarter_resolution_features():
    torch.manual_seed(0)
    model = create_model(ARCH, 3, quarter_skip=True).train()
    x = torch.randn(2, 3, 64, 96)
    main, aux = model(x)
    AuxLoss(create_loss("ce", 3), model.aux_weights)((main, aux),
                                                     torch.randint(0, 3, (2, 64, 96))).backward()
    assert model.net.head.low[0].weight.grad.abs().sum() > 0
    model.eval()
    with torch.no_grad():
        before = model(x)
        model.net.head.low[0].weight.zero_()  # cut the skip: the output changes
        assert not torch.allclose(before, model(x))


def test_detail_head_trains_the_stem_and_is_gone_at_inference():
    torch.manual_seed(0)
    model = create_model(ARCH, 3, quarter_skip=True, boundary_head=True).train()
    assert isinstance(model.net.detail_head, DetailHead) and model.boundary_weight == 1.0
    assert create_model(ARCH, 3).boundary_weight == 0.0
    x = torch.randn(2, 3, 70, 90)  # padded to 72x96, every output cropped back
    main, aux, edge = model(x)
    assert main.shape == (2, 3, 70, 90) and aux[0].shape == (2, 3, 70, 90)
    assert edge.shape == (2, 1, 70, 90)
    target = torch.randint(0, 3, (2, 70, 90))
    loss = AuxLoss(create_loss("ce", 3), model.aux_weights, model.boundary_weight)(
        (main, aux, edge), target)
    loss.backward()
    assert model.net.detail_head.classifier.weight.grad.abs().sum() > 0
    # the boundary loss alone reaches the stem, through the head, and nothing after the stem
    model.zero_grad()
    _, _, edge = model(x)
    from core.losses import BoundaryLoss
    BoundaryLoss()(edge, target).backward()
    assert model.net.backbone.layer1[0].conv1.weight.grad.abs().sum() > 0
    assert model.net.backbone.layer2[0].conv1.weight.grad is None
    model.eval()
    assert isinstance(model(x), torch.Tensor)


def test_detail_head_costs_no_inference_flops_and_few_params():
    on, off = create_model(ARCH, 11, boundary_head=True), create_model(ARCH, 11)
    assert count_gflops(on, (64, 96)) == count_gflops(off, (64, 96))
    # conv3x3 32->32 (9216) + BN 32 (64) + 1x1 32->1 with bias (33)
    assert count_params(on) - count_params(off) == 9216 + 64 + 33
    # a checkpoint without the head does not load into a model with it
    with pytest.raises(RuntimeError, match="detail_head"):
        on.load_state_dict(off.state_dict())


def test_refine_deepens_the_quarter_path_at_a_hand_counted_cost():
    on, off = create_model(ARCH, 11, refine=True), create_model(ARCH, 11)
    assert on.options["refine"] is True and off.net.head.refine is None
    # two norm-ReLU-conv3x3 units, 64 -> 64 at 1/4 (90x120 of 360x480): 2 x 9*64*64 MACs per
    # pixel, a multiply-add counted as two operations
    extra = 2 * (9 * 64 * 64) * (90 * 120) * 2
    assert count_gflops(on, (360, 480)) - count_gflops(off, (360, 480)) == pytest.approx(extra / 1e9)
    # each unit: BN 64 (128) + conv 9*64*64 without bias
    assert count_params(on) - count_params(off) == 2 * (128 + 9 * 64 * 64)


def test_refine_is_residual_on_the_fused_features_and_trains():
    torch.manual_seed(0)
    model = create_model(ARCH, 3, refine=True).train()
    head = model.net.head
    assert isinstance(head, DetailFusion) and len(head.refine) == 2
    seen = {}
    head.fuse.register_forward_pre_hook(lambda m, args: seen.update(fused=args[0].clone()))
    head.refine.register_forward_hook(lambda m, args, out: seen.update(x=args[0], r=out))
    main, aux = model(torch.randn(2, 3, 64, 96))
    # what reaches the 1/4 classifier path is the fused features plus their refinement
    assert torch.allclose(seen["fused"], seen["x"] + seen["r"])
    assert main.shape == (2, 3, 64, 96)
    main.sum().backward()
    assert head.refine[1][2].weight.grad.abs().sum() > 0


def test_strip_pooling_at_a_hand_counted_cost():
    on, off = create_model(ARCH, 11, strip=True), create_model(ARCH, 11)
    assert on.options["strip"] is True and off.net.strip is None
    # on the 128-channel 1/8 features (45x60 of 360x480): a 3x1 conv over the 45 row means, a
    # 1x3 conv over the 60 column means, a 1x1 gate conv at every pixel (MACs x 2)
    extra = 2 * (45 * 128 * 3 * 128 + 60 * 128 * 3 * 128 + 45 * 60 * 128 * 128)
    assert count_gflops(on, (360, 480)) - count_gflops(off, (360, 480)) == pytest.approx(extra / 1e9)
    # two strip convs 3*128*128 without bias + BN 128 each, the gate 128*128 + bias 128
    assert count_params(on) - count_params(off) == 2 * (3 * 128 * 128 + 256) + 128 * 128 + 128
    with pytest.raises(ModelError, match="does not apply"):
        create_model("unet", 11, strip=True)


def test_strip_pooling_reaches_along_the_row_and_column_of_a_change():
    """A change at one pixel moves the output along its whole row and column (the strips, +-1
    from the 3-tap convs) and nowhere else: a pole's column is one context."""
    torch.manual_seed(0)
    sp = StripPooling(8, "batch").eval()
    x = torch.randn(1, 8, 12, 16)
    y = x.clone()
    y[0, :, 5, 9] += 3.0
    changed = (sp(x) - sp(y)).abs().amax(1)[0] > 1e-6
    expect = torch.zeros(12, 16, dtype=torch.bool)
    expect[4:7, :] = True  # rows 4..6
    expect[:, 8:11] = True  # columns 8..10
    assert not changed[~expect].any()
    assert changed[5, 0] and changed[5, 15] and changed[0, 9] and changed[11, 9]  # far ends
    assert changed[expect].float().mean() > 0.9
    # the gate is x * sigmoid(...): a zero input stays zero whatever its rows and columns
    x[0, :, 2, 3] = 0
    assert torch.all(sp(x)[0, :, 2, 3] == 0)


def test_strip_pooling_trains_inside_ddrnet():
    torch.manual_seed(0)
    model = create_model(ARCH, 3, strip=True).train()
    main, aux = model(torch.randn(2, 3, 64, 96))
    assert main.shape == (2, 3, 64, 96)
    main.sum().backward()
    strip = model.net.strip
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in strip.parameters())


def test_refine_needs_the_skip_path():
    with pytest.raises(ModelError, match="needs skip"):
        create_model(ARCH, 11, quarter_skip=False, refine=True)
    with pytest.raises(ModelError, match="does not apply"):
        create_model("unet", 11, refine=True)
