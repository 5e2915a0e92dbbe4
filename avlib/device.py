"""Where and in what format the trainer runs a model: device, memory format, precision.

:func:`to_device` moves a batch's tensors to the device (float 4-D/5-D ones to
channels_last when asked), :func:`to_channels_last` puts Conv2d and Conv3d
weights alike in channels_last memory format, :func:`autocast` is the forward
pass's bf16 autocast on CUDA (a no-op on CPU), and :func:`amp_enabled` /
:func:`channels_last_enabled` say when a :class:`avlib.train.TrainConfig` turns
either on. The trainer (``avlib.train``) and the benchmarks (``avlib.bench``)
use them.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

import torch
from torch import nn

if TYPE_CHECKING:
    from avlib.train import TrainConfig


def amp_enabled(cfg: TrainConfig, device: torch.device) -> bool:
    """bf16 autocast runs only on CUDA and only when cfg.amp."""
    return cfg.amp and device.type == "cuda"


def autocast(cfg: TrainConfig, device: torch.device):
    """The forward pass's autocast context (a no-op on CPU)."""
    if amp_enabled(cfg, device):
        return torch.autocast(device_type="cuda", dtype=torch.bfloat16)
    return contextlib.nullcontext()


def channels_last_enabled(cfg: TrainConfig, device: torch.device) -> bool:
    """channels_last memory format when cfg.channels_last, on any device.

    On CUDA it feeds tensor cores; on a 2-core CPU it measured ~20% faster per
    step for L3's quick towers (oneDNN's convolutions prefer NHWC).
    """
    return cfg.channels_last


def _channels_last(t: torch.Tensor) -> torch.Tensor:
    """4-D tensors to channels_last, 5-D to channels_last_3d, others unchanged."""
    if t.dim() == 4:
        return t.contiguous(memory_format=torch.channels_last)
    if t.dim() == 5:
        return t.contiguous(memory_format=torch.channels_last_3d)
    return t


def to_channels_last(model: nn.Module) -> nn.Module:
    """Conv2d and Conv3d weights alike (``model.to(memory_format=...)`` fails on 5-D weights)."""
    for p in model.parameters():
        p.data = _channels_last(p.data)
    return model


def to_device(batch: dict, device: torch.device, channels_last: bool = False) -> dict:
    """Move a batch's tensors to ``device``; float 4-D/5-D ones channels_last if asked."""
    out = {}
    for key, value in batch.items():
        if isinstance(value, torch.Tensor):
            value = value.to(device, non_blocking=True)
            if channels_last and value.is_floating_point():
                value = _channels_last(value)
        out[key] = value
    return out
