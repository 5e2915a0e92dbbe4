"""Results files: atomic JSON with provenance, one per (profile, paper, experiment, seed).

Layout: ``results/<profile>/<paper>/<experiment>/seed<S>.json``. Every file holds
``metrics`` (numbers), ``config`` (what was run) and ``provenance`` (git sha,
package versions, device, seed, profile, wall time, UTC time); runs made by
the trainer add ``flags`` (e.g. ``stuck_at_chance``) and their history.

The store reads every seed of an experiment (:func:`load_seeds`) and
summarises a metric over seeds: mean, standard deviation, n and a 95 %
confidence interval by Student t or bootstrap (:func:`mean_ci`,
:func:`difference_ci`).
"""

from __future__ import annotations

import json
import math
import platform
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
from scipy import stats

from avlib.atomic import atomic_open
from avlib.errors import ConfigError, ResultsError
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
    text = json.dumps(_jsonable(obj), indent=2, sort_keys=True, allow_nan=False) + "\n"
    with atomic_open(path) as f:
        f.write(text)
    return Path(path)


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


def save_arrays(path: str | Path, arrays: dict) -> Path:
    """Write named numpy arrays as an .npz atomically (figures' data beside a results file)."""
    import numpy as np

    with atomic_open(path, "wb") as f:
        np.savez_compressed(f, **{k: np.asarray(v) for k, v in arrays.items()})
    return Path(path)


def load_arrays(path: str | Path) -> dict:
    """The arrays saved by :func:`save_arrays` (ResultsError naming the file when absent)."""
    import numpy as np

    path = Path(path)
    if not path.is_file():
        raise ResultsError(f"{path}: no such arrays file (run the experiment first)")
    with np.load(path, allow_pickle=False) as data:
        return {k: data[k] for k in data.files}


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


# --- the results store: every seed of an experiment, and statistics over seeds ---------------


@dataclass(frozen=True)
class Summary:
    """Mean over seeds with a confidence interval (nan bounds when fewer than 2 values)."""

    mean: float
    ci_low: float
    ci_high: float
    std: float
    n: int
    confidence: float = 0.95
    method: str = "t"

    @property
    def half_width(self) -> float:
        """Half the interval's width (the ± of ``mean ± CI``)."""
        return (self.ci_high - self.ci_low) / 2

    def format(self, scale: float = 1.0, digits: int = 1, unit: str = "") -> str:
        """'72.1 ± 1.3 (3 seeds)' ('72.1 ± 1.3 % (3 seeds)' with unit '%'); one seed has no CI."""
        if self.n == 0:
            return "no results yet"
        unit = f" {unit}" if unit else ""
        mean = f"{self.mean * scale:.{digits}f}"
        if self.n < 2:
            return f"{mean}{unit} (1 seed, no CI)"
        return f"{mean} ± {self.half_width * scale:.{digits}f}{unit} ({self.n} seeds)"


METHODS = ("t", "bootstrap")
N_BOOT = 10_000  # bootstrap resamples


def _check_method(method: str) -> None:
    if method not in METHODS:
        raise ConfigError(f"unknown interval method {method!r}: use 't' or 'bootstrap'")


def _quantiles(samples: np.ndarray, confidence: float) -> tuple[float, float]:
    low, high = np.quantile(samples, [(1 - confidence) / 2, (1 + confidence) / 2])
    return float(low), float(high)


def _resampled_means(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    return x[rng.integers(0, len(x), size=(N_BOOT, len(x)))].mean(axis=1)


def mean_ci(values, confidence: float = 0.95, method: str = "t", seed: int = 0) -> Summary:
    """Mean and CI of ``values``: Student t (``method="t"``) or percentile bootstrap."""
    _check_method(method)
    x = np.asarray(values, dtype=float)
    n = len(x)
    mean = float(x.mean()) if n else math.nan
    std = float(x.std(ddof=1)) if n > 1 else math.nan
    if n < 2:
        return Summary(mean, math.nan, math.nan, std, n, confidence, method)
    if method == "t":
        half = float(stats.t.ppf((1 + confidence) / 2, n - 1)) * std / math.sqrt(n)
        return Summary(mean, mean - half, mean + half, std, n, confidence, method)
    low, high = _quantiles(_resampled_means(x, np.random.default_rng(seed)), confidence)
    return Summary(mean, low, high, std, n, confidence, method)


def difference_ci(
    a, b, *, paired: bool, confidence: float = 0.95, method: str = "t", seed: int = 0
) -> Summary:
    """CI of mean(a) - mean(b): over per-seed differences when ``paired``, else Welch t or
    an independent bootstrap (``std`` is then the difference's standard error)."""
    _check_method(method)
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if paired:
        if len(a) != len(b):
            raise ResultsError(f"paired difference needs equal lengths, got {len(a)} and {len(b)}")
        return mean_ci(a - b, confidence, method, seed)
    n = min(len(a), len(b))
    diff = float(a.mean() - b.mean()) if n else math.nan
    if n < 2:
        return Summary(diff, math.nan, math.nan, math.nan, n, confidence, method)
    va, vb = a.var(ddof=1) / len(a), b.var(ddof=1) / len(b)
    se = math.sqrt(va + vb)
    if method == "t":
        df = (va + vb) ** 2 / (va**2 / (len(a) - 1) + vb**2 / (len(b) - 1)) if se > 0 else 1.0
        half = float(stats.t.ppf((1 + confidence) / 2, df)) * se
        return Summary(diff, diff - half, diff + half, se, n, confidence, method)
    rng = np.random.default_rng(seed)
    low, high = _quantiles(_resampled_means(a, rng) - _resampled_means(b, rng), confidence)
    return Summary(diff, low, high, se, n, confidence, method)


def iter_result_files(
    profile: str | None = None, paper: str | None = None, results_dir=None
) -> Iterator[Path]:
    """Every results/<profile>/<paper>/<experiment>/seed*.json, sorted, optionally filtered."""
    root = results_root(results_dir)
    pattern = f"{profile or '*'}/{paper or '*'}/*/seed*.json"
    yield from sorted(root.glob(pattern))


@dataclass(frozen=True)
class SeedResults:
    """All seeds' results files of one (profile, paper, experiment)."""

    profile: str
    paper: str
    experiment: str
    paths: tuple[Path, ...]
    records: tuple[dict, ...]

    @property
    def key(self) -> str:
        """'paper/experiment', the name claims and tables use."""
        return f"{self.paper}/{self.experiment}"

    @property
    def seeds(self) -> tuple[int, ...]:
        """The seeds, in file order (ascending)."""
        return tuple(r["provenance"]["seed"] for r in self.records)

    @property
    def flags(self) -> dict[int, list[str]]:
        """Seeds whose training run was flagged (e.g. stuck_at_chance), with their flags."""
        return {
            s: r["flags"] for s, r in zip(self.seeds, self.records, strict=True) if r.get("flags")
        }

    def values(self, metric: str) -> np.ndarray:
        """One metric (dotted path into ``metrics``) for every seed."""
        return np.array(
            [_metric(r, metric, p) for r, p in zip(self.records, self.paths, strict=True)]
        )

    def summary(self, metric: str, confidence: float = 0.95, method: str = "t") -> Summary:
        """Mean ± CI of ``metric`` over seeds."""
        return mean_ci(self.values(metric), confidence, method)


def _metric(record: dict, name: str, path: Path) -> float:
    value = record["metrics"]
    for part in name.split("."):
        if not isinstance(value, dict) or part not in value:
            raise ResultsError(
                f"{path}: no metric {name!r} (has {', '.join(sorted(record['metrics']))})"
            )
        value = value[part]
    return math.nan if value is None else float(value)


def load_seeds(profile: str, paper: str, experiment: str, results_dir=None) -> SeedResults:
    """Every seed of an experiment (no records when it has not been run)."""
    folder = result_path(profile, paper, experiment, 0, results_dir).parent
    paths = sorted(folder.glob("seed*.json"), key=lambda p: int(p.stem.removeprefix("seed")))
    records = tuple(load_result(p) for p in paths)
    return SeedResults(profile, paper, experiment, tuple(paths), records)
