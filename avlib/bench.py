"""`avlib bench`: where the time goes, measured (``make bench`` runs ``avlib bench all``).

Four parts, one table and one JSON (``benchmarks/out/bench.json``):

- **data**: the decoded cache against decoding with PyAV per access, the same
  samples in the same run (``benchmarks/cache_bench.py``; the ratio must stay
  >= 10x), and procedural-world generation in clips per second (the smoke preset
  written to a temporary folder);
- **models**: every registered model at its ``quick`` and ``paper`` configs:
  forward FLOPs per sample (``torch.utils.flop_counter``), training samples per
  second (forward, backward and an SGD step on the model's example batch; paper
  configs are timed only on CUDA, a CPU takes minutes per paper-size step), and
  on CUDA the share of the GPU's bf16 peak that rate reaches (training FLOPs
  taken as 3x forward);
- **training runs**: the share of step time spent waiting for data, read from
  the results files the notebooks wrote (the trainer records it per run);
- **book**: the wall time of each executed notebook (the stamps ``avlib
  notebooks run`` writes) against the budget: <= 10 min per notebook at quick,
  <= 60 min for ``make book`` from a fresh clone on 2 cores. A notebook or
  total over budget makes ``avlib bench all`` exit 1.

``avlib bench sync-offset`` times the sync-offset tool per 10 s clip (model load apart);
``avlib bench cache`` runs the cache part alone.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import sys
import tempfile
import time
from pathlib import Path

from avlib.errors import ConfigError
from avlib.profiles import project_root

NOTEBOOK_BUDGET_S = {"smoke": 60.0, "quick": 600.0}  # per notebook
BOOK_BUDGET_S = 3600.0  # `make book` at quick from a fresh clone, venv included
VENV_ALLOWANCE_S = 600.0  # measured: a fresh venv with the torch wheels, 2 cores
# dense bf16 peak (FLOP/s) of the GPUs the full profile is sized for
BF16_PEAK = {"H100": 989e12, "H200": 989e12, "A100": 312e12, "L40S": 362e12}


def _load_cache_bench():
    """The benchmark module from the clone's benchmarks/ folder."""
    path = project_root() / "benchmarks" / "cache_bench.py"
    if not path.is_file():
        raise ConfigError(f"{path} not found: run `avlib bench` from a clone of the repository")
    spec = importlib.util.spec_from_file_location("cache_bench", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# --- data -------------------------------------------------------------------------------------


def world_generation(preset: str = "smoke") -> dict:
    """Generate the ``preset`` world into a temporary folder: clips written per second."""
    from avlib.data.world import generate_world, read_manifest

    with tempfile.TemporaryDirectory(prefix="avbook-bench-world-") as tmp:
        started = time.perf_counter()
        generate_world(preset, out=Path(tmp) / preset, seed=0, progress=False)
        seconds = time.perf_counter() - started
        clips = sum(read_manifest(Path(tmp) / preset)["counts"].values())
    return {
        "preset": preset,
        "clips": clips,
        "seconds": round(seconds, 1),
        "clips_per_s": round(clips / seconds, 1),
    }


# --- models -----------------------------------------------------------------------------------


def _peak(device) -> float | None:
    import torch

    if device.type != "cuda":
        return None
    name = torch.cuda.get_device_name(device)
    return next((v for k, v in BF16_PEAK.items() if k in name), None)


def model_throughput(
    name: str, preset: str, device: str = "cpu", batch_size: int | None = None, steps: int = 3
) -> dict:
    """Forward FLOPs per sample and training samples/s of model ``name`` at ``preset``."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    from avlib import models
    from avlib.device import to_channels_last, to_device

    dev = torch.device(device)
    e = models.entry(name)
    cfg = e.config(preset)
    bs = batch_size or (2 if preset == "paper" and dev.type == "cpu" else 16)
    torch.manual_seed(0)
    model = to_channels_last(e.cls(cfg).to(dev))
    batch, loss_fn = e.cls.example(cfg, bs)
    batch = to_device(batch, dev, channels_last=True)
    loss_fn = loss_fn.to(dev) if hasattr(loss_fn, "to") else loss_fn
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        model(batch)
    flops = counter.get_total_flops() / bs
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.SGD(params, lr=1e-4)
    amp = torch.autocast("cuda", dtype=torch.bfloat16) if dev.type == "cuda" else None

    def step():
        if amp:
            with amp:
                out = model(batch)
        else:
            out = model(batch)
        loss, _ = loss_fn(batch, out)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    rate = None
    if preset != "paper" or dev.type == "cuda":  # paper-size nets take minutes a step on a CPU
        for _ in range(2):  # warm-up: allocations, algorithm choice
            step()
        if dev.type == "cuda":
            torch.cuda.synchronize(dev)
        started = time.perf_counter()
        for _ in range(steps):
            step()
        if dev.type == "cuda":
            torch.cuda.synchronize(dev)
        rate = steps * bs / (time.perf_counter() - started)
    peak = _peak(dev)
    return {
        "model": name,
        "preset": preset,
        "device": str(dev),
        "batch_size": bs,
        "params_m": round(sum(p.numel() for p in params) / 1e6, 2),
        "gflops_per_sample": round(flops / 1e9, 3),
        "samples_per_s": round(rate, 2) if rate else None,
        "bf16_peak_share": round(3 * flops * rate / peak, 3) if peak and rate else None,
    }


# --- runs and notebooks -----------------------------------------------------------------------


def run_timings(results_dir: Path) -> list[dict]:
    """Data-wait share and samples/s of every trained run found in ``results_dir``."""
    rows = []
    for path in sorted(results_dir.glob("*/*/seed*.json")):
        try:
            record = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError):
            continue
        timing = record.get("timing")
        if not timing:
            continue
        per_run = (
            timing
            if all(isinstance(v, dict) or v is None for v in timing.values())
            else {"": timing}
        )
        for run, t in per_run.items():
            if t and t.get("samples"):
                rows.append(
                    {
                        "result": str(path.relative_to(results_dir)),
                        "run": run,
                        "data_wait_share": t["data_wait_share"],
                        "samples_per_s": t["samples_per_s"],
                    }
                )
    return rows


def notebook_times(chapters_dir: Path, profile: str) -> list[dict]:
    """Wall time of each executed notebook of ``profile`` (from its stamp) against the budget."""
    budget = NOTEBOOK_BUDGET_S.get(profile)
    rows = []
    for stamp in sorted((chapters_dir / ".stamps").glob("*.json")):
        record = json.loads(stamp.read_text())
        if record.get("profile") != profile:
            continue
        seconds = float(record["seconds"])
        rows.append(
            {
                "notebook": stamp.stem,
                "profile": profile,
                "seconds": seconds,
                "budget_s": budget,
                "within": budget is None or seconds <= budget,
            }
        )
    return rows


# --- the whole benchmark ----------------------------------------------------------------------


def _table(title: str, rows: list[dict]) -> str:
    if not rows:
        return f"\n{title}\n  (nothing measured)"
    keys = list(rows[0])
    cells = [[("-" if r.get(k) is None else str(r.get(k))) for k in keys] for r in rows]
    widths = [max(len(k), *(len(c[i]) for c in cells)) for i, k in enumerate(keys)]
    line = "  ".join(k.ljust(w) for k, w in zip(keys, widths, strict=True))
    body = ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in cells]
    return "\n".join([f"\n{title}", "  " + line, *("  " + b for b in body)])


def run_all(args: argparse.Namespace) -> dict:
    """Every part; prints the tables, writes the JSON, returns it."""
    import torch

    from avlib import models

    root = project_root()
    device = (
        args.device if args.device != "auto" else ("cuda" if torch.cuda.is_available() else "cpu")
    )
    report: dict = {
        "cpu_count": len(os.sched_getaffinity(0)),
        "device": device,
        "torch": torch.__version__,
        "load_average_before": list(os.getloadavg()),
    }
    cache = _load_cache_bench().run(
        clips=args.clips,
        clip_s=args.clip_s,
        out=Path(tempfile.gettempdir()) / "avbook-cache-bench.json",
    )
    report["cache"] = {
        k: cache[k]
        for k in (
            "decode_per_access_samples_per_s",
            "cache_samples_per_s",
            "ratio",
            "cache_build_s",
        )
    }
    report["world"] = world_generation("smoke")
    rows = []
    for name in models.names():
        for preset in ("quick", "paper"):
            try:
                rows.append(model_throughput(name, preset, device))
            except Exception as err:  # one model's failure is a row, not a lost benchmark
                rows.append(
                    {"model": name, "preset": preset, "error": f"{type(err).__name__}: {err}"}
                )
            print(
                f"[bench] {name} {preset}: {rows[-1].get('samples_per_s', rows[-1].get('error'))}",
                file=sys.stderr,
                flush=True,
            )
    report["models"] = rows
    try:  # the sync-offset tool on a 10 s clip, with the quick model when one is trained
        from avlib.sync_offset import benchmark

        report["sync_offset"] = benchmark(None, 10.0)
    except Exception as err:  # no trained model yet: say so in the report
        report["sync_offset"] = {"error": f"{type(err).__name__}: {err}"}
    results = Path(args.results) if args.results else root / "results"
    report["runs"] = {p: run_timings(results / p) for p in ("smoke", "quick", "full")}
    chapters = Path(args.chapters) if args.chapters else root / "book" / "chapters"
    report["notebooks"] = {p: notebook_times(chapters, p) for p in ("smoke", "quick")}
    quick = report["notebooks"]["quick"]
    total = sum(r["seconds"] for r in quick) + VENV_ALLOWANCE_S
    report["book_budget"] = {
        "quick_notebooks_s": round(sum(r["seconds"] for r in quick), 1),
        "venv_allowance_s": VENV_ALLOWANCE_S,
        "estimated_make_book_s": round(total, 1),
        "budget_s": BOOK_BUDGET_S,
        "within": bool(quick) and total <= BOOK_BUDGET_S and all(r["within"] for r in quick),
        "measured": bool(quick),
    }
    report["load_average_after"] = list(os.getloadavg())
    from avlib.atomic import write_json

    out = Path(args.out) if args.out else root / "benchmarks" / "out" / "bench.json"
    write_json(out, report)
    print(
        _table(
            "data", [{**report["cache"], **{f"world_{k}": v for k, v in report["world"].items()}}]
        )
    )
    print(_table("models (forward GFLOPs per sample; training samples/s)", rows))
    print(_table("sync-offset per 10 s clip", [report["sync_offset"]]))
    for p, r in report["runs"].items():
        if r:
            print(_table(f"training runs at {p} (share of step time waiting for data)", r))
    for p, r in report["notebooks"].items():
        print(_table(f"notebooks at {p} (wall s)", r))
    print(_table("book budget", [report["book_budget"]]))
    print(f"\njson: {out}")
    return report


def _run_all(args: argparse.Namespace) -> int:
    report = run_all(args)
    budget = report["book_budget"]
    over = [r["notebook"] for p in report["notebooks"].values() for r in p if not r["within"]]
    if over or report["cache"]["ratio"] < 10 or (budget["measured"] and not budget["within"]):
        print(
            f"over budget: notebooks {over or '-'}, cache ratio {report['cache']['ratio']}, "
            f"book {budget['estimated_make_book_s']} s",
            file=sys.stderr,
        )
        return 1
    return 0


def _run_cache(args: argparse.Namespace) -> int:
    return _load_cache_bench().main(args)


def add_parser(sub) -> None:
    """`avlib bench all|cache`."""
    p = sub.add_parser("bench", help="benchmarks: data, models, training runs, notebook times")
    s = p.add_subparsers(dest="action", required=True)
    a = s.add_parser("all", help="every benchmark: one table, JSON in benchmarks/out/bench.json")
    a.add_argument("--device", default="auto", help="auto | cpu | cuda[:N] (default auto)")
    a.add_argument("--clips", type=int, default=12, help="synthetic clips for the cache part")
    a.add_argument("--clip-s", type=float, default=5.0, help="seconds per cached clip")
    a.add_argument("--results", help="results directory to read run timings from")
    a.add_argument("--chapters", help="executed notebooks directory (default book/chapters)")
    a.add_argument("--out", help="JSON path (default benchmarks/out/bench.json)")
    a.set_defaults(func=_run_all)
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
