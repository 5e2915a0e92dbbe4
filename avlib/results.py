"""Results files: atomic JSON with provenance, one per (profile, paper, experiment, seed).

Layout: ``results/<profile>/<paper>/<experiment>/seed<S>.json`` for runs on the
generated world; runs on a real data set (``data_root``) write the same tree
under ``results/real/<name>-<digest>/`` (:func:`scope_dir`), so the two can never
mix in a table. Every file holds ``metrics`` (numbers), ``config`` (what was
run) with its ``config_digest``, ``data`` (the world's preset and digest, or
the real data set's root; the items each data set gave and the files skipped)
and ``provenance`` (git sha, package versions, device, seed, profile, wall
time, UTC time); runs made by the trainer add ``flags`` (e.g.
``stuck_at_chance``) and their history.

:func:`load_seeds` reads every seed of an experiment and keeps only the ones a
table asked for: the requested seeds, whose config digest and data digest
match the current run's (anything else is listed in ``ignored`` with the
reason, never averaged in). Intervals over seeds live in :mod:`avlib.stats`.
"""

from __future__ import annotations

import hashlib
import json
import math
import platform
import subprocess
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

import numpy as np

from avlib.atomic import atomic_open, jsonable, write_json
from avlib.errors import ResultsError
from avlib.profiles import check_profile, project_root, results_root
from avlib.stats import Summary, mean_ci

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


def digest(obj) -> str:
    """A short content digest of a JSON-able object (key order does not matter)."""
    text = json.dumps(jsonable(obj), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def scope_dir(results_dir=None, data_root=None) -> Path:
    """Where a run's results tree lives: the results root for the world, a folder of its own
    (``real/<name>-<digest of the resolved path>``) for a real data set."""
    root = results_root(results_dir)
    if data_root is None:
        return root
    resolved = Path(data_root).expanduser().resolve()
    return root / "real" / f"{resolved.name or 'root'}-{digest(str(resolved))[:8]}"


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
    data: dict | None = None,
    device: str = "cpu",
    wall_time_s: float = 0.0,
    results_dir=None,
    extra: dict | None = None,
) -> Path:
    """Write one run's metrics atomically with its config (and digest), data and provenance."""
    config = config or {}
    record = {
        "paper": paper,
        "experiment": experiment,
        "metrics": metrics,
        "config": config,
        "config_digest": digest(config),
        "data": data or {},
        "provenance": provenance(
            seed=seed, profile=profile, device=device, wall_time_s=wall_time_s
        ),
    }
    if extra:
        record.update(extra)
    return write_json(result_path(profile, paper, experiment, seed, results_dir), record)


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


# --- the results store: every seed of an experiment, filtered to the runs asked for ---------


def iter_result_files(
    profile: str | None = None, paper: str | None = None, results_dir=None
) -> Iterator[Path]:
    """Every results/<profile>/<paper>/<experiment>/seed*.json, sorted, optionally filtered."""
    root = results_root(results_dir)
    pattern = f"{profile or '*'}/{paper or '*'}/*/seed*.json"
    yield from sorted(root.glob(pattern))


@dataclass(frozen=True)
class SeedResults:
    """The seeds of one (profile, paper, experiment) that a table or claim reads.

    ``ignored`` lists the results files that were on disk but left out, each
    with its reason (another seed, another config, other data).
    """

    profile: str
    paper: str
    experiment: str
    paths: tuple[Path, ...]
    records: tuple[dict, ...]
    ignored: tuple[tuple[Path, str], ...] = ()

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

    def has(self, metric: str) -> bool:
        """Whether every seed recorded ``metric`` (False when there are no seeds)."""
        return bool(self.records) and all(_find(r, metric) is not _MISSING for r in self.records)

    def values(self, metric: str) -> np.ndarray:
        """One metric (dotted path into ``metrics``) for every seed."""
        return np.array(
            [_metric(r, metric, p) for r, p in zip(self.records, self.paths, strict=True)]
        )

    def summary(self, metric: str, confidence: float = 0.95, method: str = "t") -> Summary:
        """Mean ± CI of ``metric`` over seeds."""
        return mean_ci(self.values(metric), confidence, method)


_MISSING = object()


def _find(record: dict, name: str):
    value = record["metrics"]
    for part in name.split("."):
        if not isinstance(value, dict) or part not in value:
            return _MISSING
        value = value[part]
    return value


def _metric(record: dict, name: str, path: Path) -> float:
    value = _find(record, name)
    if value is _MISSING:
        raise ResultsError(
            f"{path}: no metric {name!r} (has {', '.join(sorted(record['metrics']))})"
        )
    return math.nan if value is None else float(value)


def _why_ignored(record: dict, seeds, config_digest, data_digest) -> str | None:
    seed = record.get("provenance", {}).get("seed")
    if seeds is not None and seed not in seeds:
        return f"seed {seed} was not asked for"
    if config_digest is not None and record.get("config_digest") != config_digest:
        return "written with another config (the experiment's settings changed since)"
    written_on = record.get("data", {}).get("digest")
    if data_digest is not None and written_on is not None and written_on != data_digest:
        return "written on other data (the world was regenerated or another data set was used)"
    return None


def load_seeds(
    profile: str,
    paper: str,
    experiment: str,
    results_dir=None,
    *,
    seeds: Iterable[int] | None = None,
    config_digest: str | None = None,
    data_digest: str | None = None,
) -> SeedResults:
    """Every seed of an experiment that matches: ``seeds`` (None: any), the config digest and the
    data digest (None: any); the files left out are in ``ignored`` with their reason."""
    folder = result_path(profile, paper, experiment, 0, results_dir).parent
    paths = sorted(folder.glob("seed*.json"), key=lambda p: int(p.stem.removeprefix("seed")))
    wanted = None if seeds is None else {int(s) for s in seeds}
    kept, ignored = [], []
    for path in paths:
        record = load_result(path)
        why = _why_ignored(record, wanted, config_digest, data_digest)
        if why is None:
            kept.append((path, record))
        else:
            ignored.append((path, why))
    return SeedResults(
        profile,
        paper,
        experiment,
        tuple(p for p, _ in kept),
        tuple(r for _, r in kept),
        tuple(ignored),
    )


@dataclass(frozen=True)
class Selection:
    """Which results a chapter's tables and claims read.

    ``results_dir`` is already scoped (:func:`scope_dir`: the world's tree or a
    real data set's own); ``seeds`` are the seeds asked for (None: every seed on
    disk); ``config_digests`` maps 'paper/experiment' to the digest of the
    config the current code runs at this profile and ``data_digest`` is the
    digest of the data it runs on: files written with another config or on
    other data are ignored, never averaged in. None means 'any' for each.
    """

    profile: str
    results_dir: Path | None = None
    seeds: tuple[int, ...] | None = None
    config_digests: dict[str, str] | None = None
    data_digest: str | None = None
    confidence: float = 0.95
    method: str = "t"

    def load(self, key: str) -> SeedResults:
        """The selected seeds of experiment ``key`` ('paper/experiment')."""
        paper, _, experiment = key.partition("/")
        return load_seeds(
            self.profile,
            paper,
            experiment,
            self.results_dir,
            seeds=self.seeds,
            config_digest=(self.config_digests or {}).get(key),
            data_digest=self.data_digest,
        )
