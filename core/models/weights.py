"""Encoder weights: a local file (`weights_path`), or the ImageNet weights each library publishes,
fetched the way that library fetches them, so a machine that already has them never downloads
them again and an offline machine uses what it has.

Where `pretrained` weights come from, per encoder kind:

- SMP encoders (`resnet18`, ...): the Hugging Face repo SMP names in
  `encoders[name]["pretrained_settings"]["imagenet"]` (e.g. `smp-hub/resnet18.imagenet` at a
  pinned revision), file `model.safetensors`.
- timm encoders (`tu-<model>`): the model's timm `pretrained_cfg.hf_hub_id` (e.g.
  `timm/resnet18.a1_in1k`), file `model.safetensors` (else `pytorch_model.bin`); timm then loads
  it into its own network (its key filters apply) and the encoder takes those tensors.
- torchvision backbones (`deeplabv3-tv`): the `IMAGENET1K_V1` URL torchvision's builder uses,
  kept in torch hub's cache (`$TORCH_HOME/hub/checkpoints`).
- `baseline`, `ddrnet23-slim`: no library publishes ImageNet weights for them; use a file.

Hub files go through `huggingface_hub` and its cache (`HF_HUB_CACHE`, default
`$HF_HOME/hub`, `~/.cache/huggingface/hub`). With `HF_HUB_OFFLINE=1`, or no network, only the
cache is read (`HF_HUB_OFFLINE=1` also keeps torchvision from trying the network); a file that is
not there is one ModelError line naming the repo, the file and the cache folder.

A weights file may be a torchvision/timm classifier checkpoint (`conv1.weight`, ..., `fc.weight`),
an SMP encoder or whole-model state dict (`encoder.` prefix), a roadseg checkpoint
(`net.encoder.`), or a `{"state_dict"|"model": ...}` wrapper. The key prefix that matches the
encoder best is chosen; every encoder tensor must then be present with the right shape, or a
clear error says which are not. Extra keys (a classifier head, a decoder) are ignored.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

import torch
from torch import nn

from core.errors import ModelError

_STRIP = ("", "module.", "net.", "encoder.", "net.encoder.", "backbone.", "net.backbone.",
          "model.", "features.", "encoder.model.")
# SMP's timm encoders keep the timm network under `.model` (timm's "getter" feature wrappers one
# level deeper)
_ADD = ("", "model.", "model.model.")
_OPTIONAL = ("num_batches_tracked",)

TORCHVISION_ARCHS = ("deeplabv3-tv",)
# the backbone weights torchvision's deeplabv3_* builders default to (weights_backbone)
_TORCHVISION_WEIGHTS = {"resnet50": "ResNet50_Weights.IMAGENET1K_V1",
                        "resnet101": "ResNet101_Weights.IMAGENET1K_V1",
                        "mobilenet_v3_large": "MobileNet_V3_Large_Weights.IMAGENET1K_V1"}
_FIX = "run once with network access to download them, or pass --weights-path FILE"


@dataclass(frozen=True)
class HubWeights:
    """Where an encoder's published ImageNet weights live: a Hugging Face repo (`repo_id`,
    `filenames` tried in order, `revision` None = main) or a plain URL (torch hub cache)."""

    library: str  # "smp", "timm" or "torchvision"
    repo_id: str = ""
    filenames: tuple[str, ...] = ()
    revision: str | None = None
    url: str = ""
    timm_name: str = ""

    def describe(self) -> str:
        if self.url:
            return self.url
        rev = f"@{self.revision}" if self.revision else ""
        return f"{self.repo_id}{rev} ({' or '.join(self.filenames)})"


def read_state_dict(path) -> dict[str, torch.Tensor]:
    """Tensors from a .safetensors or torch file, never unpickling arbitrary objects."""
    path = Path(path)
    if not path.is_file():
        raise ModelError(f"weights file not found: {path}")
    try:
        if path.suffix == ".safetensors":
            from safetensors.torch import load_file
            state = load_file(str(path), device="cpu")
        else:
            state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # corrupt file, pickle with objects, wrong format
        raise ModelError(f"cannot read weights file {path}: {exc}") from exc
    for key in ("state_dict", "model", "model_state", "net"):
        if isinstance(state, dict) and isinstance(state.get(key), dict):
            state = state[key]
    if not isinstance(state, dict) or not all(torch.is_tensor(v) for v in state.values()):
        raise ModelError(f"weights file {path} does not hold a state dict of tensors")
    return state


def _remap(state: dict, targets: set[str]) -> dict:
    """Rename `state` keys with the strip/add prefix pair that hits most encoder keys."""
    best: dict = {}
    for strip in _STRIP:
        for add in _ADD:
            mapped = {add + k[len(strip):]: v for k, v in state.items() if k.startswith(strip)}
            hits = {k: v for k, v in mapped.items() if k in targets}
            if len(hits) > len(best):
                best = hits
    return best


def load_encoder_state(encoder: nn.Module, state: dict, source) -> None:
    """Copy `state` (from `source`, named in errors) into `encoder`; ModelError on any missing
    key or shape mismatch."""
    own = encoder.state_dict()
    state = _remap(state, set(own))
    if not state:
        raise ModelError(f"weights file {source} has no tensors matching this encoder "
                         f"(expected keys like {', '.join(list(own)[:3])})")
    wrong = [f"{k}: file {tuple(v.shape)} vs model {tuple(own[k].shape)}"
             for k, v in state.items() if v.shape != own[k].shape]
    if wrong:
        raise ModelError(f"weights file {source} does not fit this encoder ({len(wrong)} shape "
                         f"mismatches, e.g. {'; '.join(wrong[:3])}); was it saved for another "
                         "encoder?")
    missing = [k for k in own if k not in state and not k.endswith(_OPTIONAL)]
    if missing:
        raise ModelError(f"weights file {source} lacks {len(missing)} encoder tensors "
                         f"(e.g. {', '.join(missing[:3])}); was it saved for another encoder?")
    encoder.load_state_dict(state, strict=False)


def load_encoder_weights(encoder: nn.Module, path) -> None:
    """Copy tensors from the local file `path` into `encoder` (see load_encoder_state)."""
    load_encoder_state(encoder, read_state_dict(path), path)


# --- published ImageNet weights -------------------------------------------------------------

def _arch_name(arch) -> str:
    return str(getattr(arch, "name", arch)).strip().lower()


def hub_weights(arch, encoder: str) -> HubWeights:
    """Where `arch`'s `encoder` (a ModelInfo or an architecture name) has published ImageNet
    weights; ModelError saying why not (and pointing at --weights-path) where there are none."""
    name, encoder = _arch_name(arch), str(encoder)
    where = f"{name} ({encoder})"
    if name in TORCHVISION_ARCHS:
        if encoder not in _TORCHVISION_WEIGHTS:
            raise ModelError(f"{where}: torchvision publishes no ImageNet backbone weights for "
                             f"{encoder!r}; pass --weights-path FILE")
        from torchvision.models import get_weight
        return HubWeights("torchvision", url=get_weight(_TORCHVISION_WEIGHTS[encoder]).url)
    if encoder.startswith("tu-"):
        return _timm_weights(where, encoder[3:])
    if encoder in _smp_encoder_names():  # any SMP encoder name; "cnn"/"ddrnet" are not
        return _smp_weights(where, encoder)
    raise ModelError(f"{where}: no standard hub weights exist for this encoder (neither timm, "
                     "SMP nor torchvision publish them); pass --weights-path FILE with your own "
                     "ImageNet (or other) weights")


def has_hub_weights(arch, encoder: str) -> bool:
    """True where `hub_weights` finds published weights (it does not look at the cache)."""
    try:
        hub_weights(arch, encoder)
    except ModelError:
        return False
    return True


def _smp_encoder_names() -> set[str]:
    from segmentation_models_pytorch.encoders import get_encoder_names
    return set(get_encoder_names())


def _smp_weights(where: str, encoder: str) -> HubWeights:
    from segmentation_models_pytorch.encoders import encoders

    settings = encoders[encoder].get("pretrained_settings", {})
    if "imagenet" not in settings:
        raise ModelError(f"{where}: SMP has no ImageNet weights for this encoder (it has "
                         f"{', '.join(settings) or 'none'}); pass --weights-path FILE")
    s = settings["imagenet"]
    if "repo_id" in s:  # SMP >= 0.5: Hugging Face repos at pinned revisions
        return HubWeights("smp", repo_id=s["repo_id"], filenames=("model.safetensors",),
                          revision=s.get("revision"))
    return HubWeights("smp", url=s["url"])  # older SMP: plain URLs in torch hub's cache


def _timm_weights(where: str, model: str) -> HubWeights:
    import timm
    from timm.models import get_pretrained_cfg

    if not timm.is_model(model):
        raise ModelError(f"{where}: timm has no model {model!r}")
    cfg = get_pretrained_cfg(model)
    if cfg is None or not cfg.hf_hub_id:
        raise ModelError(f"{where}: timm publishes no hub weights for {model!r}; pass "
                         "--weights-path FILE")
    repo_id, _, revision = cfg.hf_hub_id.partition("@")  # timm's hf_split
    files = ((cfg.hf_hub_filename,) if cfg.hf_hub_filename
             else ("model.safetensors", "pytorch_model.bin"))  # timm prefers safetensors
    return HubWeights("timm", repo_id=repo_id, filenames=files, revision=revision or None,
                      timm_name=model)


def _hub_file(where: str, src: HubWeights) -> Path:
    """The first of `src.filenames` from the Hugging Face cache, downloaded if missing and the
    hub is reachable; ModelError naming repo, file and cache folder otherwise."""
    from huggingface_hub import constants, hf_hub_download
    from huggingface_hub.errors import (EntryNotFoundError, HfHubHTTPError,
                                        LocalEntryNotFoundError)
    from huggingface_hub.file_download import repo_folder_name

    not_cached = None
    for filename in src.filenames:
        try:
            return Path(hf_hub_download(src.repo_id, filename, revision=src.revision))
        except LocalEntryNotFoundError as exc:  # offline or unreachable, and not in the cache
            not_cached = exc
        except EntryNotFoundError:  # the hub answered: this repo has no such file
            continue
        except (HfHubHTTPError, OSError, ValueError) as exc:
            raise ModelError(f"{where}: cannot fetch pretrained weights {src.describe()} from "
                             f"the Hugging Face hub: {str(exc).splitlines()[0]}; pass "
                             "--weights-path FILE") from exc
    folder = Path(constants.HF_HUB_CACHE) / repo_folder_name(repo_id=src.repo_id,
                                                             repo_type="model")
    if not_cached is None:
        raise ModelError(f"{where}: the hub repo {src.repo_id} holds none of "
                         f"{', '.join(src.filenames)}; pass --weights-path FILE")
    why = "HF_HUB_OFFLINE is set" if constants.HF_HUB_OFFLINE else "the hub cannot be reached"
    raise ModelError(f"{where}: pretrained weights {src.describe()} are not in the Hugging Face "
                     f"cache {folder} and {why}; {_FIX}") from not_cached


def _url_state(where: str, url: str) -> dict:
    """A torch hub download (torchvision's and old SMP's way): the cached copy in
    `$TORCH_HOME/hub/checkpoints` if present, else downloaded there when online."""
    from huggingface_hub import constants

    cached = Path(torch.hub.get_dir()) / "checkpoints" / os.path.basename(urlparse(url).path)
    if cached.is_file():
        return read_state_dict(cached)
    if constants.HF_HUB_OFFLINE:
        raise ModelError(f"{where}: pretrained weights {url} are not in the torch hub cache "
                         f"{cached} and HF_HUB_OFFLINE is set; {_FIX}")
    try:
        return torch.hub.load_state_dict_from_url(url, map_location="cpu", progress=True,
                                                  check_hash=True, weights_only=True)
    except Exception as exc:  # URLError, timeouts, hash mismatch
        raise ModelError(f"{where}: cannot download pretrained weights {url} into {cached} "
                         f"({str(exc).splitlines()[0] if str(exc) else type(exc).__name__}); "
                         f"{_FIX}") from exc


def pretrained_state(arch, encoder: str) -> dict[str, torch.Tensor]:
    """The published ImageNet weights of `arch`'s `encoder` as a state dict (keys as the
    library's own network names them), from the local caches or downloaded into them once."""
    src = hub_weights(arch, encoder)
    where = f"{_arch_name(arch)} ({encoder})"
    if src.url:
        return _url_state(where, src.url)
    path = _hub_file(where, src)
    state = read_state_dict(path)
    if src.library == "timm":
        import timm

        # timm's own loading (key filters, classifier dropped) from the file just resolved
        net = timm.create_model(src.timm_name, pretrained=True, num_classes=0,
                                pretrained_cfg_overlay={"state_dict": state})
        state = net.state_dict()
    return state


def load_pretrained_encoder(encoder: nn.Module, arch, encoder_name: str) -> None:
    """Fill `encoder` with the published ImageNet weights (see `pretrained_state`)."""
    src = hub_weights(arch, encoder_name)
    load_encoder_state(encoder, pretrained_state(arch, encoder_name),
                       f"{src.describe()} ({_arch_name(arch)}, {encoder_name})")
