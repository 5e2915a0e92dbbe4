"""Reproducibility: seeds, deterministic algorithms, RNG state and checkpoint files.

A checkpoint is one ``torch.save`` file written atomically (temp file in the
same directory, fsync, rename), so a run killed while saving leaves the
previous checkpoint intact.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import random
from pathlib import Path
from typing import Any

import numpy as np
import torch

from avlib.atomic import atomic_open
from avlib.errors import TrainingError


def seed_everything(seed: int) -> None:
    """Seed Python's, NumPy's and torch's global generators (every CUDA device included)."""
    random.seed(seed)
    np.random.seed(seed % 2**32)  # noqa: NPY002 (the global state is what libraries draw from)
    torch.manual_seed(seed)


def rng_state(device: torch.device) -> dict:
    """The global generators' states: python, numpy, torch CPU and, on CUDA, every device."""
    return {
        "python": random.getstate(),
        "numpy": np.random.get_state(),  # noqa: NPY002
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if device.type == "cuda" else None,
    }


def set_rng_state(state: dict) -> None:
    """Restore what :func:`rng_state` returned."""
    random.setstate(state["python"])
    np.random.set_state(state["numpy"])  # noqa: NPY002
    torch.set_rng_state(state["torch"])
    if state["cuda"] is not None:
        torch.cuda.set_rng_state_all(state["cuda"])


def save_checkpoint(path: str | Path, payload: dict[str, Any]) -> Path:
    """torch.save ``payload`` to ``path`` atomically."""
    with atomic_open(path, "wb") as f:
        torch.save(payload, f)
    return Path(path)


def load_checkpoint(path: str | Path) -> dict[str, Any]:
    """Load a checkpoint this trainer wrote, with a TrainingError naming an unreadable file."""
    path = Path(path)
    try:
        # Our own files hold RNG states and data-sampler state (plain Python and
        # NumPy objects), which weights_only loading refuses; only load trusted runs.
        return torch.load(path, map_location="cpu", weights_only=False)
    except FileNotFoundError as e:
        raise TrainingError(f"{path}: no checkpoint to resume from") from e
    except (RuntimeError, EOFError, OSError, pickle.UnpicklingError) as e:
        raise TrainingError(f"{path}: unreadable checkpoint ({e}); delete it to start over") from e


@contextlib.contextmanager
def deterministic(enabled: bool = True):
    """Deterministic algorithms (warn-only where none exists) for the run, then restore."""
    saved = (
        torch.are_deterministic_algorithms_enabled(),
        torch.is_deterministic_algorithms_warn_only_enabled(),
        torch.backends.cudnn.benchmark,
        torch.backends.cudnn.deterministic,
    )
    if enabled:
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        torch.use_deterministic_algorithms(True, warn_only=True)
        torch.backends.cudnn.benchmark = False
        torch.backends.cudnn.deterministic = True
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(saved[0], warn_only=saved[1])
        torch.backends.cudnn.benchmark, torch.backends.cudnn.deterministic = saved[2:]
