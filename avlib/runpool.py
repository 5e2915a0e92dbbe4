"""Experiment runs side by side on a CPU: one process and one thread per run.

The quick nets are small: on 2 cores one run with 2 threads took 65-75 ms per
L3 step, two runs with 1 thread each 89 ms per step each, so two runs at once
get through 1.4-1.5x the steps per second. :func:`run_parallel` starts each
run as ``python -m avlib train`` (a fresh interpreter: no fork of a process
that holds torch's thread pools, and the same code path as the command line)
with ``OMP_NUM_THREADS`` set, keeps ``workers`` of them busy, and returns the
results file of each run. After a failure no new run starts, the running ones
finish (their results are kept), and the error names every failed run with its
log's last lines. Each
run's output is kept in ``<runs>/<profile>/logs/<experiment>-seed<N>.log`` (under
``runs/real/<name>-<digest>/`` for a ``data_root`` run, as its checkpoints).

A CPU run's numbers depend on its thread count at the level of float rounding
(reductions split differently); the provenance of every results file records
the count.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from avlib import progress
from avlib.errors import ConfigError, TrainingError

WORKERS_ENV = "AVBOOK_WORKERS"  # runs at once on a CPU (1: one run at a time, in-process)


def cpu_workers(device: str, n_runs: int, profile: str = "quick") -> int:
    """How many runs go side by side: $AVBOOK_WORKERS, else one per core on a CPU, else 1.

    ``smoke`` runs last seconds and a fresh interpreter costs 5.4 s (torch and avlib imported):
    they run one at a time in-process (the smoke book's notebooks took 300 s side by side
    against 227 s in-process).
    """
    forced = os.environ.get(WORKERS_ENV, "").strip()
    if forced:
        try:
            workers = int(forced)
        except ValueError:
            raise ConfigError(f"{WORKERS_ENV}={forced!r}: give a whole number of runs") from None
    elif device != "cpu" or profile == "smoke":
        workers = 1  # one accelerator: runs take turns on it
    else:
        workers = len(os.sched_getaffinity(0))
    return max(1, min(workers, n_runs))


def _command(name, profile, seed, results_dir, data_root) -> list[str]:
    cmd = [sys.executable, "-m", "avlib", "train", name, "--profile", profile, "--seed", str(seed)]
    cmd += ["--device", "cpu", "--no-progress"]
    if results_dir is not None:
        cmd += ["--out", str(Path(results_dir).resolve())]
    if data_root is not None:
        cmd += ["--data-root", str(Path(data_root).resolve())]
    return cmd


def _env(threads: int) -> dict[str, str]:
    from avlib.profiles import project_root

    root = str(project_root())
    env = dict(os.environ, AVBOOK_ROOT=root, OMP_NUM_THREADS=str(threads))
    env["MKL_NUM_THREADS"] = str(threads)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
    return env


def _tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _next(pending: list[int], running, runs) -> int | None:
    """Take the first pending run whose ``after`` runs of the same seed in ``runs`` are done
    (a dependency not in ``runs`` is the run's own business: :func:`avlib.experiments.run`)."""
    from avlib.experiments import get

    def after(name: str) -> tuple[str, ...]:
        try:
            return get(name).after
        except ConfigError:  # an unknown name fails in its own process, with its log
            return ()

    waiting = {runs[j] for j in [*pending, *running]}
    for k, i in enumerate(pending):
        name, seed = runs[i]
        if not any((dep, seed) in waiting for dep in after(name)):
            return pending.pop(k)
    return None


def run_parallel(
    runs: Sequence[tuple[str, int]],
    profile: str,
    workers: int,
    results_dir=None,
    data_root=None,
    log_dir: str | Path | None = None,
) -> list[tuple[str, int, float, Path]]:
    """Run every (experiment, seed) of ``runs`` on the CPU, ``workers`` at a time, one thread each
        (more when cores outnumber workers); returns (experiment, seed, seconds, results file) in the
        order of ``runs``. A run starts after the runs it reads (its experiment's ``after``) of the
    same seed. Raises :class:`TrainingError` naming every run that failed."""
    from avlib.profiles import project_root
    from avlib.results import scope_dir

    runs_root = scope_dir(project_root() / "runs", data_root)  # a real data set's runs apart
    logs = Path(log_dir) if log_dir else runs_root / profile / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    threads = max(1, len(os.sched_getaffinity(0)) // workers)
    env = _env(threads)
    pending = list(range(len(runs)))
    running: dict[int, tuple[subprocess.Popen, float, Path]] = {}
    done: dict[int, tuple[str, int, float, Path]] = {}
    failed: list[str] = []
    pbar = progress.bar(total=len(runs), desc=f"experiments ({workers} at once)", unit="run")
    try:
        while pending or running:
            while len(running) < workers and not failed:
                i = _next(pending, running, runs)
                if i is None:
                    if not running:  # every pending run waits for another: a cycle of ``after``
                        raise TrainingError(
                            f"runs wait on each other: {[runs[j] for j in pending]}"
                        )
                    break
                name, seed = runs[i]
                log = logs / f"{name}-seed{seed}.log"
                with open(log, "w") as out:
                    proc = subprocess.Popen(
                        _command(name, profile, seed, results_dir, data_root),
                        stdout=out,
                        stderr=subprocess.STDOUT,
                        env=env,
                    )
                running[i] = (proc, time.perf_counter(), log)
            if failed and not running:
                break
            time.sleep(0.2)
            for i, (proc, start, log) in list(running.items()):
                if proc.poll() is None:
                    continue
                del running[i]
                pbar.update()
                name, seed = runs[i]
                tail = _tail(log)
                path = Path(tail.splitlines()[-1]) if tail.strip() else None
                if proc.returncode != 0 or path is None or not path.is_file():
                    failed.append(
                        f"{name} seed {seed} (exit {proc.returncode}, log {log}):\n{tail}"
                    )
                    continue
                done[i] = (name, seed, round(time.perf_counter() - start, 1), path)
    finally:
        for proc, _, _ in running.values():  # interrupted (Ctrl-C, a kernel stop): no orphans
            proc.terminate()
        pbar.close()
    if failed:
        raise TrainingError(f"{len(failed)} run(s) failed:\n" + "\n\n".join(failed))
    return [done[i] for i in range(len(runs))]
