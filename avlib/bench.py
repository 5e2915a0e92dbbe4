"""`avlib bench cache`: benchmarks/cache_bench.py (the decoded cache vs decoding per access);
`avlib bench sync-offset`: sync-offset's wall time per 10 s clip, model load apart."""

from __future__ import annotations

import argparse
import importlib.util
import json

from avlib.errors import ConfigError
from avlib.profiles import project_root


def _load_cache_bench():
    """The benchmark module from the clone's benchmarks/ folder."""
    path = project_root() / "benchmarks" / "cache_bench.py"
    if not path.is_file():
        raise ConfigError(f"{path} not found: run `avlib bench` from a clone of the repository")
    spec = importlib.util.spec_from_file_location("cache_bench", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _run_cache(args: argparse.Namespace) -> int:
    return _load_cache_bench().main(args)


def add_parser(sub) -> None:
    """`avlib bench cache [--data DIR] [--clips N] [--clip-s S] [--out PATH]`."""
    p = sub.add_parser("bench", help="benchmarks (decoded cache vs decoding per access)")
    s = p.add_subparsers(dest="action", required=True)
    add_cache_arguments(
        s.add_parser("cache", help="samples/s from the decoded cache vs PyAV per sample")
    )
    sync = s.add_parser("sync-offset", help="sync-offset's wall time per 10 s clip")
    sync.add_argument("--model", help="sync model file (default: the quick model under runs/)")
    sync.add_argument("--seconds", type=float, default=10.0, help="clip length (default 10)")
    sync.set_defaults(func=_run_sync)


def _run_sync(args: argparse.Namespace) -> int:
    from avlib.sync_offset import benchmark

    print(json.dumps(benchmark(args.model, args.seconds), indent=2))
    return 0


def add_cache_arguments(p: argparse.ArgumentParser) -> None:
    """Options of the cache benchmark (shared with `python benchmarks/cache_bench.py`)."""
    p.add_argument("--data", help="a data set directory with videos (default: synthetic clips)")
    p.add_argument("--clips", type=int, default=24, help="synthetic clips to write (default 24)")
    p.add_argument("--clip-s", type=float, default=5.0, help="seconds per clip cached (default 5)")
    p.add_argument("--out", help="JSON path (default benchmarks/out/cache_bench.json)")
    p.set_defaults(func=_run_cache)
