"""Model registry: ``build(name, preset="quick", **overrides)``.

One file per paper family; each architecture is one class registered with
``@register("name")`` in its family's file, under the short name used for the
results folder and the chapter. A family module exposes ``Config`` (paper
defaults), ``PRESETS`` and ``config(preset, **overrides)``; every registered
class has ``example(cfg, batch_size) -> (batch, loss_fn)`` so one test covers
every model, and ``feature_taps(modality) -> {layer name: module}`` for probes.
Family modules are imported on first use, so a new paper only adds its file.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
from dataclasses import dataclass

from torch import nn

from avlib.errors import ConfigError

PRESETS = ("paper", "full", "quick", "smoke")


@dataclass(frozen=True)
class Entry:
    """A registered architecture: its class and the Config overrides that define it."""

    name: str
    cls: type
    variant: dict

    def config(self, preset: str, **overrides):
        """The family's Config (or the class's own, ``configure``) at ``preset`` with this
        variant's and the caller's overrides."""
        make = getattr(self.cls, "configure", None) or sys.modules[self.cls.__module__].config
        return make(preset, **{**self.variant, **overrides})


_REGISTRY: dict[str, Entry] = {}
_loaded = False


def register(name: str, **variant):
    """Class decorator: register an architecture as ``name`` (``variant``: Config overrides)."""

    def wrap(cls: type) -> type:
        if name in _REGISTRY and _REGISTRY[name].cls is not cls:
            raise ConfigError(f"model {name!r} is registered twice")
        _REGISTRY[name] = Entry(name, cls, variant)
        return cls

    return wrap


def _load_all() -> None:
    global _loaded
    if not _loaded:
        _loaded = True
        for module in pkgutil.iter_modules(__path__):
            importlib.import_module(f"{__name__}.{module.name}")


def names() -> list[str]:
    """Registered model names."""
    _load_all()
    return sorted(_REGISTRY)


def entry(name: str) -> Entry:
    """The registered architecture ``name`` (ConfigError listing the names otherwise)."""
    _load_all()
    if name not in _REGISTRY:
        raise ConfigError(f"unknown model {name!r}: choose one of {', '.join(names())}")
    return _REGISTRY[name]


def get_config(name: str, preset: str = "quick", **overrides):
    """The Config of model ``name`` at ``preset`` with ``overrides`` (dataclasses.replace)."""
    e = entry(name)
    if preset not in PRESETS:
        raise ConfigError(
            f"unknown preset {preset!r} for {name}: choose one of {', '.join(PRESETS)}"
        )
    try:
        return e.config(preset, **overrides)
    except TypeError as err:
        raise ConfigError(f"{name}: bad override ({err})") from err


def build(name: str, preset: str = "quick", **overrides) -> nn.Module:
    """Instantiate model ``name`` with the preset's Config and overrides."""
    return entry(name).cls(get_config(name, preset, **overrides))
