"""The one module type `create_model` returns. It lets every architecture take any H x W
(SMP's Segformer/FPN/DeepLab need multiples of the encoder stride; CamVid is 360x480) by
padding the input and cropping the logits back, and it carries the name/options a checkpoint
needs to rebuild the same network."""
from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn


def pad_to_multiple(x: Tensor, multiple: int) -> Tensor:
    """Pad bottom/right up to a multiple: reflect where the image is big enough, else zeros
    (zero is the dataset mean after ImageNet normalisation)."""
    h, w = x.shape[-2:]
    ph, pw = (-h) % multiple, (-w) % multiple
    if not (ph or pw):
        return x
    mode = "reflect" if ph < h and pw < w else "constant"
    return F.pad(x, (0, pw, 0, ph), mode=mode)


class SegmentationNet(nn.Module):
    """Wraps a bare network: forward(x [B,3,H,W]) -> logits [B,C,H,W] for any H, W."""

    def __init__(self, net: nn.Module, *, arch: str, encoder_name: str, num_classes: int,
                 options: dict, pad_multiple: int = 1, output_key: str | None = None):
        super().__init__()
        self.net = net
        self.arch = arch
        self.encoder_name = encoder_name
        self.num_classes = num_classes
        self.options = dict(options)
        self.pad_multiple = int(pad_multiple)
        self.output_key = output_key

    @property
    def encoder(self) -> nn.Module:
        """The feature extractor that `weights_path` weights go into."""
        for name in ("encoder", "backbone"):
            if hasattr(self.net, name):
                return getattr(self.net, name)
        raise AttributeError(f"{type(self.net).__name__} has no encoder/backbone")

    @property
    def aux_weights(self) -> tuple[float, ...]:
        """Loss weight of each auxiliary head (empty for single-output models); the trainer wraps
        its loss in `core.losses.AuxLoss` when this is non-empty."""
        return tuple(getattr(self.net, "aux_weights", ()))

    @property
    def boundary_weight(self) -> float:
        """Loss weight of a train-time boundary head (0: none); when set, training-mode outputs
        are `(logits, [aux, ...], boundary_logits [B,1,H,W])`."""
        return float(getattr(self.net, "boundary_weight", 0.0))

    def forward(self, x: Tensor) -> Tensor | tuple[Tensor, list[Tensor]]:
        """Logits [B,C,H,W]; models with auxiliary heads return `(logits, [aux, ...])` in
        training mode (plus boundary logits with a boundary head), each cropped the same way."""
        h, w = x.shape[-2:]
        out = self.net(pad_to_multiple(x, self.pad_multiple) if self.pad_multiple > 1 else x)
        if self.output_key is not None:
            out = out[self.output_key]
        if isinstance(out, tuple):
            main, aux, *boundary = out
            return (main[..., :h, :w], [a[..., :h, :w] for a in aux],
                    *(b[..., :h, :w] for b in boundary))
        return out[..., :h, :w]

    def extra_repr(self) -> str:
        return (f"arch={self.arch!r}, encoder={self.encoder_name!r}, "
                f"num_classes={self.num_classes}, options={self.options}")
