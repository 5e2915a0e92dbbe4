"""The trainer's optimiser and learning-rate schedule, built from a ``TrainConfig``.

``OPTIMIZERS`` and ``SCHEDULERS`` name the choices ``TrainConfig`` accepts;
``_optimizer`` builds Adam (L2 weight decay) or SGD with momentum over the
parameters, and ``_scheduler`` the schedule: cosine with linear warm-up (stepped
per optimiser step), step decay or reduce-on-plateau (stepped per epoch), or
none. Only ``avlib.train`` calls them.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import torch
from torch import nn

if TYPE_CHECKING:
    from avlib.train import TrainConfig

OPTIMIZERS = ("adam", "sgd")
SCHEDULERS = ("none", "cosine", "step", "plateau")


def _optimizer(params: list[nn.Parameter], cfg: TrainConfig) -> torch.optim.Optimizer:
    if cfg.optimizer == "adam":
        return torch.optim.Adam(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    return torch.optim.SGD(params, lr=cfg.lr, momentum=cfg.momentum, weight_decay=cfg.weight_decay)


def _scheduler(opt: torch.optim.Optimizer, cfg: TrainConfig, total_steps: int):
    if cfg.scheduler == "cosine":
        warm = min(cfg.warmup_steps, max(total_steps - 1, 0))

        def factor(step: int) -> float:  # lr multiplier before optimiser step ``step + 1``
            if step < warm:
                return (step + 1) / warm
            return 0.5 * (1 + math.cos(math.pi * (step - warm) / max(1, total_steps - warm)))

        return torch.optim.lr_scheduler.LambdaLR(opt, factor)
    if cfg.scheduler == "step":
        return torch.optim.lr_scheduler.StepLR(opt, step_size=cfg.step_epochs, gamma=cfg.gamma)
    if cfg.scheduler == "plateau":  # torch reduces once bad epochs > patience
        return torch.optim.lr_scheduler.ReduceLROnPlateau(
            opt, mode="min", factor=cfg.gamma, patience=cfg.plateau_epochs - 1
        )
    return None
