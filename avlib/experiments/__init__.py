"""Experiment registry: config is code, one module per paper (``avlib/experiments/<paper>.py``).

An experiment is a function ``fn(ctx: RunContext) -> RunOutput`` registered
under a short name with the function that gives its config at a profile::

    @register("toy-avc", paper="toy", config=lambda profile: {...})
    def toy_avc(ctx: RunContext) -> RunOutput: ...

The config is known before the run, so a table can tell a results file of the
current settings from one written by an older version (:func:`selection`).
``after=("other-experiment",)`` names runs whose trained nets this one reads
(the same seed's, e.g. AVOL-Net started from L3-Net's towers): :func:`run`
runs them first when their finished run of the current config and data is
missing (``done.json`` in their run folder), and :func:`upstream` gives the
folder to read checkpoints from.
:func:`run` seeds, times and calls it, and writes
``results/<profile>/<paper>/<name>/seed<S>.json`` through
:func:`avlib.results.save_result` (rank 0 only under torchrun), with its config
and digest, the data it read (:func:`data_identity` plus what the run reports),
the trainer's flags (``stuck_at_chance``), history and logged steps beside the
metrics. Runs on a real data set (``data_root``) write under their own results
folder (:func:`avlib.results.scope_dir`). Checkpoints and the JSONL log of a run live in
``runs/<profile>/<paper>/<name>/seed<S>/``. Every module in this package is
imported on first use, so a new chapter only adds its file.
"""

from __future__ import annotations

import importlib
import json
import pkgutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from avlib.errors import ConfigError


@dataclass(frozen=True)
class RunContext:
    """What an experiment function is given."""

    profile: str
    seed: int
    device: str
    run_dir: Path  # checkpoints and metrics.jsonl of this (experiment, profile, seed)
    resume: bool = False
    progress: bool = True
    data_root: Path | None = None  # None: the procedural world of this profile
    config: dict = field(default_factory=dict)  # the experiment's config at this profile
    used: list = field(default_factory=list)  # layouts read through dataset(), in order
    runs_root: Path | None = None  # the runs tree run_dir is in (scoped for a data_root)

    def dataset(self, layout: str, name: str | None = None) -> Path:
        """The data set in ``layout`` under data_root (or the generated world); ``name`` picks one."""
        from avlib.data.layouts import locate_dataset
        from avlib.data.world import ensure_world

        root = self.data_root if self.data_root is not None else ensure_world(self.profile)
        path = locate_dataset(root, layout, name)
        self.used.append({"layout": layout, "root": str(path)})
        return path


@dataclass
class RunOutput:
    """What an experiment function returns: metrics, the config it ran, the trainer's result."""

    metrics: dict
    train: object | None = None  # avlib.train.TrainResult, or {name: TrainResult} for several
    extra: dict = field(default_factory=dict)
    arrays: dict = field(default_factory=dict)  # small arrays for figures, saved as seed<S>.npz
    data: dict = field(default_factory=dict)  # per data set: items, window, skipped files


@dataclass(frozen=True)
class Experiment:
    """A registered experiment."""

    name: str
    paper: str
    fn: Callable[[RunContext], RunOutput]
    description: str
    config: Callable[[str], dict]  # profile -> the config a run at that profile uses
    after: tuple[str, ...] = ()  # experiments whose same-seed runs this one reads


_REGISTRY: dict[str, Experiment] = {}
_loaded = False


def register(
    name: str, *, paper: str, config: Callable[[str], dict], after: tuple[str, ...] = ()
) -> Callable:
    """Decorator registering ``fn(ctx) -> RunOutput`` as experiment ``name`` of ``paper``;
    ``config(profile)`` is the (JSON-able) config a run at that profile uses; ``after`` the
    experiments whose same-seed runs it reads (run first when missing)."""

    def wrap(fn: Callable[[RunContext], RunOutput]) -> Callable[[RunContext], RunOutput]:
        if name in _REGISTRY and _REGISTRY[name].fn is not fn:
            raise ConfigError(f"experiment {name!r} is registered twice")
        doc = (fn.__doc__ or "").strip().splitlines()
        _REGISTRY[name] = Experiment(name, paper, fn, doc[0] if doc else "", config, tuple(after))
        return fn

    return wrap


def _load_all() -> None:
    global _loaded
    if not _loaded:
        for module in pkgutil.iter_modules(__path__):
            importlib.import_module(f"{__name__}.{module.name}")
        _loaded = True


def names() -> list[str]:
    """Registered experiment names."""
    _load_all()
    return sorted(_REGISTRY)


def get(name: str) -> Experiment:
    """The experiment registered as ``name`` (ConfigError listing the names otherwise)."""
    _load_all()
    if name not in _REGISTRY:
        raise ConfigError(f"unknown experiment {name!r}: choose one of {', '.join(names())}")
    return _REGISTRY[name]


def run(
    name: str,
    profile: str = "quick",
    seed: int = 0,
    device: str = "auto",
    results_dir: str | Path | None = None,
    *,
    runs_dir: str | Path | None = None,
    resume: bool = False,
    progress: bool = True,
    data_root: str | Path | None = None,
) -> Path | None:
    """Run experiment ``name`` once and save its result; returns the results file (None off rank 0)."""
    from avlib.atomic import write_json
    from avlib.checkpoint import seed_everything
    from avlib.distributed import env_rank
    from avlib.profiles import check_data_root, check_profile, project_root, resolve_device
    from avlib.results import save_arrays, save_result, scope_dir

    exp = get(name)
    check_profile(profile)
    device = resolve_device(device)
    data_root = None if data_root is None else check_data_root(data_root)
    root = Path(runs_dir) if runs_dir else project_root() / "runs"
    runs = scope_dir(root, data_root)  # checkpoints of real-data runs apart too
    for dep in exp.after:  # before this run's seeding: its numbers do not depend on the order
        if _finished(dep, profile, seed, runs, data_root) is None:
            run(dep, profile, seed, device, results_dir, runs_dir=root, progress=progress,
                data_root=data_root)  # fmt: skip
    ctx = RunContext(
        profile=profile,
        seed=int(seed),
        device=device,
        run_dir=_run_dir(runs, profile, name, seed),
        resume=resume,
        progress=progress,
        data_root=data_root,
        config=exp.config(profile),
        runs_root=runs,
    )

    seed_everything(ctx.seed)
    start = time.perf_counter()
    out = exp.fn(ctx)
    wall = time.perf_counter() - start
    if env_rank() != 0:
        return None
    identity = data_identity(profile, data_root) if ctx.used else {"source": "none"}
    extra = dict(out.extra)
    if out.train is not None:
        extra.update(_training_record(out.train))
    path = save_result(
        profile=profile,
        paper=exp.paper,
        experiment=name,
        seed=ctx.seed,
        metrics=out.metrics,
        config=ctx.config,
        data={**identity, "read": ctx.used, "datasets": out.data},
        device=device,
        wall_time_s=wall,
        results_dir=scope_dir(results_dir, data_root),
        extra=extra,
    )
    if out.arrays:
        save_arrays(path.with_suffix(".npz"), out.arrays)
    # the stamp a later run's ``after`` reads (its results_dir may be elsewhere)
    write_json(ctx.run_dir / "done.json", _stamp(name, profile, identity.get("digest")))
    return path


def _run_dir(runs: Path, profile: str, name: str, seed: int) -> Path:
    return runs / profile / get(name).paper / name / f"seed{int(seed)}"


def _stamp(name: str, profile: str, data_digest: str | None) -> dict:
    """What a finished run's ``done.json`` says: its config's and its data's digests (None for
    a run that read no data set)."""
    return {"config": digest_config(get(name).config(profile)), "data": data_digest}


def _finished(name: str, profile: str, seed: int, runs: Path, data_root) -> Path | None:
    """The run folder of ``name``'s finished run of ``seed`` with the current config and data,
    or None."""
    folder = _run_dir(runs, profile, name, seed)
    try:
        stamp = json.loads((folder / "done.json").read_text())
    except (OSError, ValueError):
        return None
    data = stamp.get("data") and data_identity(profile, data_root)["digest"]
    return folder if stamp == _stamp(name, profile, data) else None


def upstream(ctx: RunContext, name: str) -> Path:
    """The run folder of ``name`` (one of the experiment's ``after``) for ``ctx``'s seed, with
    its checkpoints; :func:`run` made sure it finished with the current config and data."""
    folder = _finished(name, ctx.profile, ctx.seed, ctx.runs_root, ctx.data_root)
    if folder is None:
        raise ConfigError(
            f"{name} seed {ctx.seed} has no finished run with the current config and data "
            f"under {ctx.runs_root}: run it first (avlib train {name} --seed {ctx.seed})"
        )
    return folder


def data_identity(profile: str, data_root: str | Path | None = None) -> dict:
    """The data a run reads: the world's preset and manifest digest, or the real data set's root.

    The world is generated first when it is not there (as a run would).
    """
    from avlib.data.world import ensure_world
    from avlib.data.world.generate import read_manifest
    from avlib.results import digest

    if data_root is not None:
        root = Path(data_root).expanduser().resolve()
        return {"source": "data_root", "root": str(root), "digest": digest(str(root))}
    root = ensure_world(profile)
    manifest = read_manifest(root) or {}
    return {
        "source": "world",
        "preset": profile,
        "root": str(root),
        "digest": manifest.get("digest"),
        "counts": manifest.get("counts", {}),
    }


def selection(
    profile: str,
    seeds=None,
    data_root: str | Path | None = None,
    results_dir: str | Path | None = None,
    confidence: float = 0.95,
    match_data: bool = True,
):
    """The results a chapter run with these parameters reads: its seeds, written with the
    current code's config at ``profile`` on the same data, in its own results tree.

    ``match_data=False`` accepts results of any data of that tree (e.g. committed ``full``
    results shown on a machine that never generated the full world)."""
    from avlib.results import Selection, scope_dir

    configs = {}
    for n in names():
        exp = get(n)
        configs[f"{exp.paper}/{n}"] = digest_config(exp.config(profile))
    return Selection(
        profile=profile,
        results_dir=scope_dir(results_dir, data_root),
        seeds=None if seeds is None else tuple(int(s) for s in seeds),
        config_digests=configs,
        data_digest=data_identity(profile, data_root)["digest"] if match_data else None,
        confidence=confidence,
    )


def digest_config(config: dict) -> str:
    """The digest a results file stores for ``config`` (see :func:`avlib.results.digest`)."""
    from avlib.results import digest

    return digest(config)


def _training_record(train) -> dict:
    """Flags, history and timing of the run's training: one TrainResult, or {name: TrainResult}."""
    if not isinstance(train, dict):
        return {
            "flags": train.flags,
            "history": train.history,
            "steps": train.steps,
            "chance": train.chance,
            "resumed_from_step": train.resumed_from_step,
            "train_wall_time_s": train.wall_time_s,
            "timing": train.timing,
        }
    return {
        "flags": sorted(f"{name}: {flag}" for name, r in train.items() for flag in r.flags),
        **{
            key: {name: getattr(r, key) for name, r in train.items()}
            for key in ("history", "steps", "chance", "resumed_from_step", "timing")
        },
        "train_wall_time_s": sum(r.wall_time_s for r in train.values()),
    }


def add_parser(sub) -> None:
    """`avlib train EXPERIMENT [--profile P] [--seed S] [--device D] [--out DIR] [--resume]`."""
    p = sub.add_parser("train", help="run a registered experiment and write its results JSON")
    p.add_argument("experiment", nargs="?", help="registered experiment name (see --list)")
    p.add_argument("--list", action="store_true", help="list the registered experiments and exit")
    p.add_argument("--profile", default="quick", help="smoke | quick | full (default quick)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--device", default="auto", help="auto | cpu | cuda[:N] (default auto)")
    p.add_argument("--out", default=None, help="results directory (default <repo>/results)")
    p.add_argument("--runs", default=None, help="checkpoints and logs (default <repo>/runs)")
    p.add_argument("--resume", action="store_true", help="continue from the last checkpoint")
    p.add_argument("--data-root", default=None, help="data set(s) to use (default: the world)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")

    def _run(a) -> int:
        if a.list or a.experiment is None:
            for name in names():
                exp = get(name)
                print(f"{name:24s} {exp.paper:10s} {exp.description}")
            return 0 if a.list else 2
        path = run(
            a.experiment,
            a.profile,
            a.seed,
            a.device,
            a.out,
            runs_dir=a.runs,
            resume=a.resume,
            progress=not a.no_progress,
            data_root=a.data_root,
        )
        if path is not None:
            print(path)
        return 0

    p.set_defaults(func=_run)
