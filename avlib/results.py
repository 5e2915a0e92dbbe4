"""Results files: atomic JSON with provenance, one per (profile, paper, experiment, seed).

Layout: ``results/<profile>/<paper>/<experiment>/seed<S>.json``. Every file holds
``metrics`` (numbers), ``config`` (what was run) and ``provenance`` (git sha,
package versions, device, seed, profile, wall time, UTC time).
"""

from __future__ import annotations

import json
import math
import os
import platform
import subprocess
import tempfile
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from avlib.errors import ResultsError
from avlib.profiles import check_profile, project_root, results_root

PACKAGES = (
    "avlib",
    "torch",
    "torchaudio",
    "torchvision",
    "numpy",
    "scikit-learn",
    "av",
    "soundfile",
)


def write_json_atomic(path: str | Path, obj: Any) -> Path:
    """Write ``obj`` as JSON to ``path`` via a temp file in the same directory and a rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(_jsonable(obj), f, indent=2, sort_keys=True, allow_nan=False)
            f.write("\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _jsonable(obj: Any) -> Any:
    """Convert numpy/torch scalars, tuples, Paths; NaN/inf become None (JSON has no NaN)."""
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, Path):
        return str(obj)
    if hasattr(obj, "tolist") and not isinstance(obj, str):  # numpy / torch
        return _jsonable(obj.tolist())
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if hasattr(obj, "__dataclass_fields__"):
        import dataclasses

        return _jsonable(dataclasses.asdict(obj))
    return obj


def git_sha(root: Path | None = None) -> str:
    """HEAD's sha (with '-dirty' when the tree has changes), or 'unknown' outside git."""
    root = root or project_root()
    try:
        sha = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, timeout=10
        )
        if sha.returncode != 0:
            return "unknown"
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=10,
        )
        return sha.stdout.strip() + ("-dirty" if dirty.stdout.strip() else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def package_versions() -> dict[str, str]:
    """Installed versions of the packages whose behaviour the numbers depend on."""
    out = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def device_description(device: str) -> str:
    """'cpu (N threads, machine)' or the CUDA device's name."""
    if str(device).startswith("cuda"):
        import torch

        return f"{device} ({torch.cuda.get_device_name(torch.device(device))})"
    import torch

    return f"cpu ({torch.get_num_threads()} threads, {platform.machine()})"


def provenance(*, seed: int | None, profile: str, device: str, wall_time_s: float) -> dict:
    """Everything needed to say where a number came from."""
    return {
        "git_sha": git_sha(),
        "versions": package_versions(),
        "device": device_description(device),
        "seed": seed,
        "profile": profile,
        "wall_time_s": round(float(wall_time_s), 3),
        "utc_time": datetime.now(UTC).isoformat(timespec="seconds"),
        "host": platform.node(),
    }


def result_path(
    profile: str, paper: str, experiment: str, seed: int | None, results_dir=None
) -> Path:
    """results/<profile>/<paper>/<experiment>/seed<S>.json (``all.json`` when seed is None)."""
    name = "all.json" if seed is None else f"seed{int(seed)}.json"
    return results_root(results_dir) / check_profile(profile) / paper / experiment / name


def save_result(
    *,
    profile: str,
    paper: str,
    experiment: str,
    seed: int | None,
    metrics: dict,
    config: dict | None = None,
    device: str = "cpu",
    wall_time_s: float = 0.0,
    results_dir=None,
    extra: dict | None = None,
) -> Path:
    """Write one run's metrics atomically with provenance and return the file's path."""
    record = {
        "paper": paper,
        "experiment": experiment,
        "metrics": metrics,
        "config": config or {},
        "provenance": provenance(
            seed=seed, profile=profile, device=device, wall_time_s=wall_time_s
        ),
    }
    if extra:
        record.update(extra)
    return write_json_atomic(result_path(profile, paper, experiment, seed, results_dir), record)


def load_result(path: str | Path) -> dict:
    """Read one results file, with a typed error naming the file when it is missing or malformed."""
    path = Path(path)
    try:
        record = json.loads(path.read_text())
    except FileNotFoundError as e:
        raise ResultsError(f"{path}: no such results file (run the experiment first)") from e
    except json.JSONDecodeError as e:
        raise ResultsError(f"{path}: not valid JSON ({e})") from e
    if not isinstance(record, dict) or "metrics" not in record:
        raise ResultsError(f"{path}: not an avlib results file (no 'metrics')")
    return record
