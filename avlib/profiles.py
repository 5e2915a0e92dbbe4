"""Run profiles (smoke, quick, full), devices and project paths shared by every notebook.

``smoke`` is for CI (seconds per notebook), ``quick`` is the default book on a
2-core CPU, ``full`` is paper-scale settings scaled to fit minutes on one GPU.
"""

from __future__ import annotations

import os
from pathlib import Path

from avlib.errors import ConfigError, LayoutError

PROFILES = ("smoke", "quick", "full")
DEFAULT_SEEDS = {"smoke": (0, 1), "quick": (0, 1, 2), "full": (0, 1, 2)}


def check_profile(profile: str) -> str:
    """Return ``profile`` if it is known, else raise a ConfigError listing the choices."""
    if profile not in PROFILES:
        raise ConfigError(f"unknown profile {profile!r}: choose one of {', '.join(PROFILES)}")
    return profile


def seeds_for(profile: str, seeds=None) -> list[int]:
    """Seeds to run: the given ones, or the profile's default."""
    check_profile(profile)
    if seeds is None:
        return list(DEFAULT_SEEDS[profile])
    if isinstance(seeds, int):
        return [seeds]
    seeds = [int(s) for s in seeds]
    if not seeds:
        raise ConfigError("seeds is empty: give at least one seed, or None for the profile default")
    return seeds


def resolve_device(device: str | None = "auto") -> str:
    """'auto' -> 'cuda' when a GPU is visible, else 'cpu'; anything else must be usable."""
    import torch

    if device in (None, "auto"):
        return "cuda" if torch.cuda.is_available() else "cpu"
    name = str(device)
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise ConfigError(
            f"device {name!r} asked for, but no CUDA GPU is visible: use 'cpu' or 'auto'"
        )
    if name.split(":")[0] not in ("cpu", "cuda", "mps"):
        raise ConfigError(f"unknown device {name!r}: use 'auto', 'cpu' or 'cuda[:N]'")
    return name


def project_root() -> Path:
    """The clone's root: $AVBOOK_ROOT, else the nearest parent of cwd holding avlib/, else avlib's parent."""
    env = os.environ.get("AVBOOK_ROOT")
    if env:
        return Path(env).resolve()
    here = Path.cwd().resolve()
    for d in (here, *here.parents):
        if (d / "avlib" / "__init__.py").is_file() and (d / "pyproject.toml").is_file():
            return d
    return Path(__file__).resolve().parent.parent


def results_root(results_dir: str | Path | None = None) -> Path:
    """Where results/<profile>/<paper>/<experiment>.json live (default: <root>/results)."""
    return Path(results_dir) if results_dir else project_root() / "results"


def check_data_root(data_root: str | Path) -> Path:
    """A user-given data_root must exist and be a directory."""
    path = Path(data_root).expanduser()
    if not path.exists():
        raise LayoutError(
            path,
            "data_root does not exist",
            "pass an existing directory, or None to use the generated world",
        )
    if not path.is_dir():
        raise LayoutError(path, "data_root is not a directory")
    return path
