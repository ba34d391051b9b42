"""`pretrained=True` reads the libraries' own caches the way they do (Hugging Face hub for SMP and
timm, torch hub for torchvision), offline: caches are built in tmp at the exact paths the
libraries expect, and every network call is blocked and recorded."""
import os
import socket
from pathlib import Path
from urllib.parse import urlparse

import pytest
import torch
from safetensors.torch import save_file

from core.errors import ModelError
from core.models import create_model, list_models, model_info
from core.models.weights import has_hub_weights, hub_weights

FAKE_COMMIT = "0123456789abcdef0123456789abcdef01234567"  # what refs/main points at


@pytest.fixture
def offline_caches(tmp_path, monkeypatch):
    """Empty HF and torch hub caches in tmp, HF_HUB_OFFLINE=1, sockets blocked; returns
    (hf_cache, torch_hub_dir, attempts)."""
    from huggingface_hub import constants

    hf_home = tmp_path / "hf"
    hf_cache = hf_home / "hub"
    monkeypatch.setenv("HF_HOME", str(hf_home))
    monkeypatch.setenv("HF_HUB_CACHE", str(hf_cache))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    # huggingface_hub reads these once, at import: the env alone would not reach it
    monkeypatch.setattr(constants, "HF_HOME", str(hf_home))
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(hf_cache))
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)

    attempts = []

    def blocked(*a, **k):
        attempts.append(a[:2])
        raise OSError("network blocked by the test")

    monkeypatch.setattr(socket.socket, "connect", blocked)
    monkeypatch.setattr(socket, "create_connection", blocked)
    monkeypatch.setattr(socket, "getaddrinfo", blocked)
    return hf_cache, Path(torch.hub.get_dir()), attempts


def _random_like(state: dict, seed: int) -> dict:
    g = torch.Generator().manual_seed(seed)
    out = {}
    for k, v in state.items():
        if v.is_floating_point():
            out[k] = torch.randn(v.shape, generator=g).to(v.dtype)
        else:
            out[k] = torch.randint(0, 100, v.shape, generator=g).to(v.dtype)
    return out


def _put_in_hf_cache(cache: Path, repo_id: str, filename: str, state: dict,
                     revision: str | None = None) -> Path:
    """models--{org}--{name}/snapshots/{commit}/{filename}, plus refs/main when no pinned
    revision is asked for (the layout huggingface_hub writes)."""
    repo = cache / ("models--" + repo_id.replace("/", "--"))
    commit = revision or FAKE_COMMIT
    path = repo / "snapshots" / commit / filename
    path.parent.mkdir(parents=True)
    save_file({k: v.contiguous() for k, v in state.items()}, str(path))
    if revision is None:
        (repo / "refs").mkdir()
        (repo / "refs" / "main").write_text(commit)
    return path


def test_smp_encoder_loads_from_hub_cache(offline_caches):
    from segmentation_models_pytorch.encoders import encoders

    cache, _, attempts = offline_caches
    settings = encoders["resnet18"]["pretrained_settings"]["imagenet"]
    state = _random_like(create_model("unet", 3, "resnet18").encoder.state_dict(), seed=1)
    _put_in_hf_cache(cache, settings["repo_id"], "model.safetensors", state,
                     revision=settings["revision"])

    model = create_model("unet", 3, "resnet18", pretrained=True)
    got = model.encoder.state_dict()
    assert set(got) == set(state)
    assert all(torch.equal(got[k], v) for k, v in state.items())
    # a dilated encoder (DeepLabV3+, output stride 8) takes the same file
    dilated = create_model("deeplabv3plus", 3, "resnet18", pretrained=True, output_stride=8)
    assert torch.equal(dilated.encoder.layer4[0].conv1.weight, state["layer4.0.conv1.weight"])
    assert attempts == []


def test_timm_encoder_loads_from_hub_cache(offline_caches):
    import timm

    cache, _, attempts = offline_caches
    src = hub_weights("unet", "tu-mobilenetv3_large_100")
    assert src.repo_id == timm.models.get_pretrained_cfg("mobilenetv3_large_100").hf_hub_id
    # the file timm publishes: the whole classifier's state dict
    state = _random_like(timm.create_model("mobilenetv3_large_100").state_dict(), seed=2)
    _put_in_hf_cache(cache, src.repo_id, "model.safetensors", state)

    model = create_model("unet", 3, "tu-mobilenetv3_large_100", pretrained=True)
    got = model.encoder.state_dict()  # TimmUniversalEncoder: the timm features net under .model
    assert len(got) > 100
    for k, v in got.items():
        assert torch.equal(v, state[k.removeprefix("model.")]), k
    assert attempts == []


def test_torchvision_backbone_loads_from_torch_hub_cache(offline_caches):
    from torchvision.models import MobileNet_V3_Large_Weights, mobilenet_v3_large

    _, hub_dir, attempts = offline_caches
    url = MobileNet_V3_Large_Weights.IMAGENET1K_V1.url
    state = _random_like(mobilenet_v3_large().state_dict(), seed=3)
    cached = hub_dir / "checkpoints" / os.path.basename(urlparse(url).path)
    cached.parent.mkdir(parents=True)
    torch.save(state, cached)

    model = create_model("deeplabv3-tv", 3, "mobilenet_v3_large", pretrained=True)
    got = model.encoder.state_dict()  # IntermediateLayerGetter over mobilenet.features
    assert len(got) > 100
    for k, v in got.items():
        assert torch.equal(v, state["features." + k]), k
    assert attempts == []


def test_missing_cache_is_one_line_naming_what_was_looked_for(offline_caches):
    cache, hub_dir, attempts = offline_caches
    with pytest.raises(ModelError) as err:
        create_model("unet", 3, "resnet18", pretrained=True)
    msg = str(err.value)
    assert "\n" not in msg
    assert "smp-hub/resnet18.imagenet" in msg and "model.safetensors" in msg
    assert str(cache / "models--smp-hub--resnet18.imagenet") in msg
    assert "HF_HUB_OFFLINE" in msg and "--weights-path" in msg and "network access" in msg

    with pytest.raises(ModelError) as err:
        create_model("fpn", 3, "tu-efficientnet_b0", pretrained=True)
    msg = str(err.value)
    assert "\n" not in msg
    assert "timm/efficientnet_b0" in msg and "model.safetensors" in msg
    assert str(cache / "models--timm--efficientnet_b0") in msg

    with pytest.raises(ModelError) as err:
        create_model("deeplabv3-tv", 3, "mobilenet_v3_large", pretrained=True)
    msg = str(err.value)
    assert "\n" not in msg and str(hub_dir / "checkpoints") in msg and "--weights-path" in msg
    assert attempts == []


def test_every_architecture_offline_without_cache_fails_clearly(offline_caches):
    for arch in list_models():
        enc = model_info(arch).default_encoder
        with pytest.raises(ModelError, match="--weights-path") as err:
            create_model(arch, 3, enc, pretrained=True)
        assert "\n" not in str(err.value)
    assert offline_caches[2] == []


@pytest.mark.parametrize("arch, encoder", [("ddrnet23-slim", "ddrnet"), ("baseline", "cnn")])
def test_no_published_weights_says_so(arch, encoder, offline_caches):
    assert not has_hub_weights(arch, encoder)
    with pytest.raises(ModelError, match="no standard hub weights.*--weights-path"):
        create_model(arch, 3, encoder, pretrained=True)


def test_published_weights_per_encoder():
    assert has_hub_weights("unet", "resnet18") and has_hub_weights("segformer", "resnet50")
    assert has_hub_weights("deeplabv3plus", "tu-efficientnet_b0")
    assert has_hub_weights("deeplabv3-tv", "resnet101")
    assert not has_hub_weights("unet", "tu-not_a_timm_model")
    assert hub_weights("deeplabv3-tv", "resnet50").url.startswith("https://download.pytorch.org/")


def test_weights_path_wins_over_the_hub(offline_caches, tmp_path):
    src = create_model("unet", 3, "resnet18")
    path = tmp_path / "enc.pth"
    torch.save(src.encoder.state_dict(), path)
    model = create_model("unet", 3, "resnet18", pretrained=True, weights_path=path)
    assert torch.equal(model.encoder.conv1.weight, src.encoder.conv1.weight)
    assert offline_caches[2] == []
