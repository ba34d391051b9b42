"""Device and precision choice: `auto` picks CUDA, then MPS, then CPU (docs/architecture.md, "Conventions")."""
from __future__ import annotations

from functools import lru_cache

import torch

from core.errors import ConfigError


def resolve_device(name: str = "auto") -> torch.device:
    """Map a device name from a config to a torch device, failing clearly when it is absent."""
    name = (name or "auto").lower()
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise ConfigError(f"device {name!r} asked for, but no CUDA GPU is available (use auto or cpu)")
    if name == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
        raise ConfigError("device 'mps' asked for, but Apple MPS is not available (use auto or cpu)")
    try:
        return torch.device(name)
    except RuntimeError:
        raise ConfigError(f"unknown device {name!r} (auto, cpu, cuda, cuda:N or mps)") from None


@lru_cache(maxsize=1)
def cpu_has_native_bf16() -> bool:
    """True on CPUs with AVX-512 BF16 or AMX, where bf16 matmuls run at about twice fp32 speed."""
    try:
        with open("/proc/cpuinfo") as f:
            flags = f.read()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


def resolve_precision(precision: str, device: torch.device) -> str:
    """`auto` -> fp16 AMP on CUDA (bf16 where supported), bf16 on CPUs with native bf16, else fp32."""
    if precision != "auto":
        if precision == "fp16" and device.type == "cpu":
            raise ConfigError("fp16 is not supported on the CPU here; use bf16 or fp32")
        return precision
    if device.type == "cuda":
        return "bf16" if torch.cuda.is_bf16_supported() else "fp16"
    if device.type == "cpu" and cpu_has_native_bf16():
        return "bf16"
    return "fp32"


def autocast_dtype(precision: str) -> torch.dtype | None:
    return {"bf16": torch.bfloat16, "fp16": torch.float16}.get(precision)


def use_channels_last(setting: bool | None, device: torch.device, precision: str = "fp32") -> bool:
    """channels_last memory format: explicit setting, else on CUDA and on CPUs running bf16.

    Measured (benchmarks/RESULTS.md, training throughput and real-time network): on an AVX2 CPU
    in fp32, UNet-ResNet18 trained ~7% slower in channels_last than NCHW; on an AVX-512-BF16 CPU,
    DDRNet-23-slim trained in bf16 at 25.9 img/s in channels_last against 21.1 in NCHW (fp32:
    NCHW level or ahead).
    On GPUs with tensor cores it is the usual win. MPS never uses it.
    """
    if device.type == "mps":
        return False
    if setting is not None:
        return bool(setting)
    return device.type == "cuda" or (device.type == "cpu" and precision == "bf16")
