"""Reproducibility: seeds, deterministic algorithms, RNG state and checkpoint files.

A checkpoint is one ``torch.save`` file written atomically (temp file in the
same directory, fsync, rename), so a run killed while saving leaves the
previous checkpoint intact. It holds only tensors and plain Python types
(dict, list, tuple, str, int, float, bool, None): RNG states are converted
(:func:`rng_state`), and :func:`save_checkpoint` refuses anything else, so
every checkpoint loads with ``torch.load(weights_only=True)``. Loading never
unpickles code: a crafted file is refused with a one-line
:class:`~avlib.errors.CheckpointError`, and so is a valid torch file that is
not one of the trainer's checkpoints.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import random
import re
from collections import OrderedDict
from pathlib import Path
from typing import Any

import numpy as np
import torch

from avlib.atomic import atomic_open
from avlib.errors import CheckpointError, TrainingError

CHECKPOINT_FORMAT = 2  # 2: plain types only (weights_only loading); 1: pickled numpy states
# what the trainer's checkpoints hold (avlib.train); a file without them is not one
CHECKPOINT_KEYS = ("model", "optimizer", "progress", "rng", "data", "config", "world_size")
# leaves weights_only loading accepts (torch.Size is a tuple: it is checked first)
PLAIN_LEAVES = (torch.Tensor, torch.Size, torch.dtype, torch.device, type(None), bool, int, float)
PLAIN_LEAVES += (str, bytes)


def seed_everything(seed: int) -> None:
    """Seed Python's, NumPy's and torch's global generators (every CUDA device included)."""
    random.seed(seed)
    np.random.seed(seed % 2**32)  # noqa: NPY002 (the global state is what libraries draw from)
    torch.manual_seed(seed)


def rng_state(device: torch.device) -> dict:
    """The global generators' states in plain types: python, numpy, torch CPU and, on CUDA,
    every device (the NumPy key becomes an int64 tensor, so weights_only loading accepts it)."""
    version, internal, gauss = random.getstate()
    np_state = np.random.get_state(legacy=False)  # noqa: NPY002
    return {
        "python": {"version": version, "internal": list(internal), "gauss_next": gauss},
        "numpy": {
            "bit_generator": np_state["bit_generator"],
            "key": torch.from_numpy(np_state["state"]["key"].astype(np.int64)),
            "pos": int(np_state["state"]["pos"]),
            "has_gauss": int(np_state["has_gauss"]),
            "gauss": float(np_state["gauss"]),
        },
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if device.type == "cuda" else None,
    }


def set_rng_state(state: dict) -> None:
    """Restore what :func:`rng_state` returned."""
    py = state["python"]
    random.setstate((py["version"], tuple(py["internal"]), py["gauss_next"]))
    n = state["numpy"]
    key = np.asarray(n["key"].numpy() if torch.is_tensor(n["key"]) else n["key"], np.uint32)
    np.random.set_state(  # noqa: NPY002
        {
            "bit_generator": n["bit_generator"],
            "state": {"key": key, "pos": int(n["pos"])},
            "has_gauss": int(n["has_gauss"]),
            "gauss": float(n["gauss"]),
        }
    )
    torch.set_rng_state(state["torch"])
    if state["cuda"] is not None:
        torch.cuda.set_rng_state_all(state["cuda"])


def plain(obj: Any, where: str = "checkpoint") -> Any:
    """``obj`` with NumPy scalars made Python scalars; CheckpointError naming the key path of
    anything that is not a tensor, a plain type or a container of them."""
    if isinstance(obj, PLAIN_LEAVES):
        return obj
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, dict):  # containers are rebuilt only when a value changed
        out = {k: plain(v, f"{where}[{k!r}]") for k, v in obj.items()}
        if all(out[k] is v for k, v in obj.items()):
            return obj  # keeps an OrderedDict state_dict's _metadata
        return OrderedDict(out) if isinstance(obj, OrderedDict) else out
    if isinstance(obj, list | tuple):
        items = [plain(v, f"{where}[{i}]") for i, v in enumerate(obj)]
        if all(a is b for a, b in zip(items, obj, strict=True)):
            return obj
        return items if isinstance(obj, list) else tuple(items)
    raise CheckpointError(
        f"{where} holds a {type(obj).__module__}.{type(obj).__qualname__}: checkpoints hold "
        "only tensors and plain types (a state_dict() must convert arrays to tensors or lists)"
    )


class _Recorder:
    """A file wrapper that remembers the OSError a write raised (torch.save re-raises it as a
    RuntimeError without the errno, and a full disk must stay recognisable)."""

    def __init__(self, f):
        self.f, self.error = f, None

    def write(self, data) -> int:
        try:
            return self.f.write(data)
        except OSError as e:
            self.error = e
            raise

    def flush(self) -> None:
        self.f.flush()


def save_checkpoint(path: str | Path, payload: dict[str, Any]) -> Path:
    """torch.save ``payload`` (tensors and plain types only) to ``path`` atomically."""
    payload = plain({"format": CHECKPOINT_FORMAT, **payload})
    with atomic_open(path, "wb") as f:
        out = _Recorder(f)
        try:
            torch.save(payload, out)
        except RuntimeError as e:
            if out.error is not None:
                raise out.error from e
            raise
    return Path(path)


def _first_line(error: BaseException) -> str:
    text = " ".join(str(error).split("\n")[0].split())
    return text or type(error).__name__


def load_checkpoint(path: str | Path) -> dict[str, Any]:
    """Load a checkpoint this trainer wrote, with ``torch.load(weights_only=True)``.

    A missing file is a TrainingError; a file that would unpickle anything but
    tensors and plain types (a crafted pickle, or an old-format checkpoint), an
    unreadable file, or a valid torch file that is not one of the trainer's
    checkpoints is a one-line CheckpointError naming it.
    """
    path = Path(path)
    if not path.is_file():
        raise TrainingError(f"{path}: no checkpoint to resume from")
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as e:
        found = re.search(r"GLOBAL (\S+) was not an allowed global", str(e))
        what = f"a reference to {found[1]}" if found else "objects other than tensors"
        raise CheckpointError(
            f"{path}: refused: the file holds {what} besides tensors and plain types, so "
            "loading it could run code (a crafted file, or a checkpoint of an avlib before "
            "weights-only checkpoints); move it away or delete it to start over"
        ) from e
    except Exception as e:  # torch raises RuntimeError, EOFError, KeyError, ... on junk
        raise CheckpointError(
            f"{path}: unreadable checkpoint ({type(e).__name__}: {_first_line(e)}); "
            "delete it to start over"
        ) from e
    missing = [k for k in CHECKPOINT_KEYS if not isinstance(ckpt, dict) or k not in ckpt]
    if missing:
        what = (
            f"a dict with keys {sorted(map(str, ckpt))[:8]}"
            if isinstance(ckpt, dict)
            else (f"a {type(ckpt).__name__}")
        )
        raise CheckpointError(
            f"{path}: not a checkpoint of avlib's trainer ({what}; lacks "
            f"{', '.join(missing)}); use another checkpoint_dir or delete the file"
        )
    return ckpt


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
