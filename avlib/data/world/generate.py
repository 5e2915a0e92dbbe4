"""Generate the world: plan every data set, render jobs on all cores, finalise, write the manifest last.

Each data set is rendered into ``<out>/.staging/<name>/`` and moved to
``<out>/<name>/`` only when all its files, metadata and ground truth are
written, so an interrupted run never leaves a data set that looks complete.
``manifest.json`` (preset, knobs, seed, generator version and source digest,
per-data-set file counts and digests) is written last; a later call with the
same identity finds it and returns at once, and any edit to the generator's
code changes the identity, so stale data is never reused.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing as mp
import os
import shutil
import time
from dataclasses import asdict
from pathlib import Path

from avlib.data.cachefiles import CacheLock
from avlib.data.encode import write_text
from avlib.data.world.layouts import DATASETS, PLANNERS, Job, Plan
from avlib.data.world.presets import WorldPreset, get_preset
from avlib.data.world.render import render_job
from avlib.errors import ConfigError, LayoutError
from avlib.profiles import project_root
from avlib.progress import bar as progress_bar

GENERATOR_VERSION = "1.0"  # bump whenever generated content changes for the same (preset, seed)
MANIFEST = "manifest.json"


def source_digest() -> str:
    """sha256 (16 hex) of the generator's source files, so an edited generator never reuses old data."""
    here = Path(__file__).parent
    h = hashlib.sha256()
    sources = [p for p in sorted(here.glob("*.py")) if p.name != "calibrate.py"]  # not content
    for path in [*sources, here.parent / "encode.py"]:  # the encoder settings are content too
        h.update(path.name.encode() + b"\0" + path.read_bytes())
    return h.hexdigest()[:16]


def _identity(preset: WorldPreset, seed: int) -> dict:
    """What makes two worlds the same, in its JSON form (tuples become lists)."""
    identity = {
        "preset": preset.name,
        "knobs": asdict(preset),
        "seed": int(seed),
        "generator_version": GENERATOR_VERSION,
        "source_digest": source_digest(),
    }
    return json.loads(json.dumps(identity))


def read_manifest(out: str | Path) -> dict | None:
    """The world manifest under ``out``, or None when there is none (or it is unreadable)."""
    path = Path(out) / MANIFEST
    try:
        return json.loads(path.read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return None


def _parse_only(only) -> tuple[str, ...]:
    if only is None:
        return DATASETS
    names = [s.strip() for s in (only.split(",") if isinstance(only, str) else only) if s.strip()]
    unknown = sorted(set(names) - set(DATASETS))
    if unknown or not names:
        raise ConfigError(
            f"unknown data sets {unknown or names}: choose from {', '.join(DATASETS)}"
        )
    return tuple(n for n in DATASETS if n in names)


_WORKER: dict = {}


def _init_worker(preset: WorldPreset, seed: int, staging: str) -> None:
    _WORKER.update(preset=preset, seed=seed, staging=staging)


def _run(job: Job) -> tuple[str, list]:
    root = Path(_WORKER["staging"]) / job.dataset
    return job.dataset, render_job(job, _WORKER["preset"], _WORKER["seed"], root)


def _interleave(plans: list[Plan]) -> list[Job]:
    """All jobs, round-robin over data sets, so progress and load are even."""
    queues = [list(p.jobs) for p in plans]
    out = []
    while any(queues):
        for q in queues:
            if q:
                out.append(q.pop(0))
    return out


def _finalise(plan: Plan, staging: Path, out: Path, results: list) -> dict:
    """Write metadata and ground truth, digest the data set, move it into place; return its manifest entry."""
    root = staging / plan.dataset
    hashes = {path: sha for path, sha, _ in results}
    for rel, text in plan.meta.items():
        write_text(root / rel, text)
        hashes[rel] = hashlib.sha256(text.encode()).hexdigest()
    records = sorted(
        ({"path": path, **truth} for path, _, truth in results if truth is not None),
        key=lambda r: r["path"],
    )
    truth_text = "".join(
        json.dumps(r, sort_keys=True, separators=(",", ":")) + "\n" for r in records
    )
    write_text(root / "avbook_truth.jsonl", truth_text)
    hashes["avbook_truth.jsonl"] = hashlib.sha256(truth_text.encode()).hexdigest()
    digest = hashlib.sha256(
        "".join(f"{p} {h}\n" for p, h in sorted(hashes.items())).encode()
    ).hexdigest()
    target = out / plan.dataset
    if target.exists():
        shutil.rmtree(target)
    root.rename(target)
    return {"files": len(records), "all_files": len(hashes), "digest": digest}


def generate_world(
    preset: str | WorldPreset = "quick",
    out: str | Path | None = None,
    seed: int = 0,
    only=None,
    workers: int | None = None,
    force: bool = False,
    progress: bool = True,
) -> Path:
    """Generate (or find already generated) data sets of a world preset under ``out``; return ``out``."""
    p = get_preset(preset)
    out = Path(out) if out is not None else project_root() / "data" / p.name
    names = _parse_only(only)
    if not force and _complete(out, p, seed, names):
        return out
    # runs started side by side (avlib.runpool) may all find the world missing: one generates it,
    # the others wait and then find it complete
    out.parent.mkdir(parents=True, exist_ok=True)
    with CacheLock(out.parent / f".{out.name}.lock"):
        if force or not _complete(out, p, seed, names):
            _generate(out, p, seed, names, workers, progress)
    return out


def _same_world(manifest: dict | None, p: WorldPreset, seed: int) -> bool:
    """Whether ``manifest`` was written for preset ``p``, ``seed`` and this generator's source."""
    return manifest is not None and all(manifest.get(k) == v for k, v in _identity(p, seed).items())


def _complete(out: Path, p: WorldPreset, seed: int, names) -> bool:
    """Whether ``out`` holds data sets ``names`` of preset ``p`` and ``seed``."""
    manifest = read_manifest(out)
    return _same_world(manifest, p, seed) and all(
        n in manifest["datasets"] and (out / n).is_dir() for n in names
    )


def _generate(out: Path, p: WorldPreset, seed: int, names, workers, progress) -> None:
    identity = _identity(p, seed)
    manifest = read_manifest(out)
    same = _same_world(manifest, p, seed)
    kept = (
        {k: v for k, v in manifest["datasets"].items() if k not in names and (out / k).is_dir()}
        if same
        else {}
    )
    started = time.perf_counter()
    out.mkdir(parents=True, exist_ok=True)
    (out / MANIFEST).unlink(missing_ok=True)
    staging = out / ".staging"
    shutil.rmtree(staging, ignore_errors=True)
    plans = [PLANNERS[n](p, seed) for n in names]
    jobs = _interleave(plans)
    for plan in plans:
        (staging / plan.dataset).mkdir(parents=True)
    workers = max(1, min(workers or os.cpu_count() or 1, len(jobs) or 1))
    results: dict[str, list] = {n: [] for n in names}
    bar = progress_bar(total=len(jobs), desc=f"world {p.name}", unit="job", disable=not progress)
    if workers == 1:
        _init_worker(p, seed, str(staging))
        done = map(_run, jobs)
    else:
        # fork where the platform has it: no __main__ re-import (scripts need no main guard) and
        # no per-worker start-up; workers use only numpy and PyAV, no threads inherited from torch
        method = "fork" if "fork" in mp.get_all_start_methods() else "spawn"
        pool = mp.get_context(method).Pool(workers, _init_worker, (p, seed, str(staging)))
        done = pool.imap_unordered(_run, jobs, chunksize=1)
    try:
        for dataset, files in done:
            results[dataset].extend(files)
            bar.update()
    except BaseException:
        if workers > 1:
            pool.terminate()
        raise
    finally:
        bar.close()
    if workers > 1:
        pool.close()
        pool.join()
    datasets = dict(kept)
    for plan in plans:
        datasets[plan.dataset] = _finalise(plan, staging, out, results[plan.dataset])
    shutil.rmtree(staging, ignore_errors=True)
    digest = hashlib.sha256(
        json.dumps({k: v["digest"] for k, v in sorted(datasets.items())}).encode()
    ).hexdigest()
    manifest = {
        **identity,
        "datasets": dict(sorted(datasets.items())),
        "counts": {k: v["files"] for k, v in sorted(datasets.items())},
        "digest": digest,
    }
    timing = {
        "seconds": round(time.perf_counter() - started, 2),
        "workers": workers,
        "datasets": list(names),
    }
    write_text(out / "generation.json", json.dumps(timing, indent=2) + "\n")
    write_text(out / MANIFEST, json.dumps(manifest, indent=2, sort_keys=True) + "\n")


def ensure_world(preset: str = "quick", root: str | Path | None = None, seed: int = 0) -> Path:
    """The world root for ``preset`` (default ``<project>/data/<preset>``), generated first if incomplete."""
    out = generate_world(preset, out=root, seed=seed, progress=True)
    if read_manifest(out) is None:
        raise LayoutError(
            out, "world generation finished without a manifest", "run `avlib data generate` again"
        )
    return out
