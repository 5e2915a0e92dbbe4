"""Model registry: ``build(name, preset="quick", **overrides)``.

One file per paper family; the registry key is the short name used for the
model file, the results folder and the chapter. Each family module exposes
``Config`` (paper defaults), ``PRESETS`` and ``config(preset, **overrides)``.
"""

from __future__ import annotations

import importlib

from torch import nn

from avlib.errors import ConfigError

# registry key -> (module, model class, Config overrides that define the variant)
REGISTRY: dict[str, tuple[str, str, dict]] = {
    "l3": ("avlib.models.l3", "L3Net", {"head": "l3"}),
    "avenet": ("avlib.models.l3", "L3Net", {"head": "avenet"}),
    "avol": ("avlib.models.l3", "L3Net", {"head": "avol"}),
    "l3-classifier": ("avlib.models.l3", "L3Net", {"head": "classifier"}),
}

PRESETS = ("paper", "full", "quick", "smoke")


def names() -> list[str]:
    """Registered model names."""
    return sorted(REGISTRY)


def get_config(name: str, preset: str = "quick", **overrides):
    """The Config of model ``name`` at ``preset`` with ``overrides`` (dataclasses.replace)."""
    if name not in REGISTRY:
        raise ConfigError(f"unknown model {name!r}: choose one of {', '.join(names())}")
    if preset not in PRESETS:
        raise ConfigError(
            f"unknown preset {preset!r} for {name}: choose one of {', '.join(PRESETS)}"
        )
    module, _, variant = REGISTRY[name]
    mod = importlib.import_module(module)
    try:
        return mod.config(preset, **{**variant, **overrides})
    except TypeError as e:
        raise ConfigError(f"{name}: bad override ({e})") from e


def build(name: str, preset: str = "quick", **overrides) -> nn.Module:
    """Instantiate model ``name`` with the preset's Config and overrides."""
    cfg = get_config(name, preset, **overrides)
    module, cls, _ = REGISTRY[name]
    return getattr(importlib.import_module(module), cls)(cfg)
