"""Runs side by side on a CPU (avlib.runpool): same numbers as one run at a time, clear failures."""

import json

import pytest
import torch

from avlib import experiments, report, runpool
from avlib.errors import ConfigError, TrainingError


def test_workers_follow_the_cores_on_a_cpu_and_one_on_an_accelerator(monkeypatch):
    monkeypatch.delenv(runpool.WORKERS_ENV, raising=False)
    monkeypatch.setattr(runpool.os, "sched_getaffinity", lambda _: {0, 1, 2, 3})
    assert runpool.cpu_workers("cpu", 9) == 4
    assert runpool.cpu_workers("cpu", 3) == 3
    assert runpool.cpu_workers("cuda", 9) == 1
    assert runpool.cpu_workers("cpu", 9, "smoke") == 1  # seconds-long runs: no process start-up
    monkeypatch.setenv(runpool.WORKERS_ENV, "1")
    assert runpool.cpu_workers("cpu", 9) == 1
    monkeypatch.setenv(runpool.WORKERS_ENV, "two")
    with pytest.raises(ConfigError, match="AVBOOK_WORKERS"):
        runpool.cpu_workers("cpu", 9)


def test_parallel_runs_give_the_numbers_of_one_run_at_a_time(tmp_path, monkeypatch):
    """Two seeds in two one-thread processes == the same seeds run here with one thread."""
    monkeypatch.setenv(runpool.WORKERS_ENV, "2")
    runs = report.run_experiments(["toy-avc"], "smoke", [0, 1], "cpu", tmp_path / "par")
    assert list(runs["seed"]) == [0, 1] and (runs["seconds"] > 0).all()
    assert 0 < runs.attrs["wall_s"] < runs["seconds"].sum()  # side by side: the chapter's time
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        for seed in (0, 1):
            alone = experiments.run(
                "toy-avc", "smoke", seed, "cpu", tmp_path / "one", runs_dir=tmp_path / "r",
                progress=False,
            )  # fmt: skip
            side = tmp_path / "par" / alone.relative_to(tmp_path / "one")
            a, b = json.loads(alone.read_text()), json.loads(side.read_text())
            assert a["metrics"] == pytest.approx(b["metrics"], rel=1e-6)
            assert b["provenance"]["device"].startswith("cpu (1 threads")
    finally:
        torch.set_num_threads(threads)


def test_a_failed_run_is_named_with_its_log(tmp_path):
    with pytest.raises(TrainingError) as err:
        runpool.run_parallel(
            [("toy-avc", 0), ("no-such-experiment", 1)], "smoke", 2, tmp_path, log_dir=tmp_path
        )
    message = str(err.value)
    assert "1 run(s) failed" in message and "no-such-experiment seed 1" in message
    assert "no-such-experiment" in (tmp_path / "no-such-experiment-seed1.log").read_text()
    assert (tmp_path / "smoke" / "toy" / "toy-avc" / "seed0.json").is_file()  # kept


def test_a_run_starts_after_the_runs_it_reads(monkeypatch):
    """``after``: l3-localisation of a seed waits for l3-avc of that seed, not of the others."""
    runs = [("l3-localisation", 0), ("l3-avc", 0), ("l3-avc", 1), ("l3-localisation", 1)]
    assert experiments.get("l3-localisation").after == ("l3-avc",)
    pending, running = [0, 1, 2, 3], {}
    assert runpool._next(pending, running, runs) == 1  # localisation 0 must wait
    running[1] = None
    assert runpool._next(pending, running, runs) == 2
    running[2] = None
    assert runpool._next(pending, running, runs) is None  # both wait on a running l3-avc
    del running[2]  # seed 1's l3-avc is done: its localisation may start, seed 0's may not
    assert runpool._next(pending, running, runs) == 3
    del running[1]
    assert runpool._next(pending, running, runs) == 0 and pending == []


@pytest.fixture
def toy_after():
    """A test-only experiment that reads toy-avc's trained checkpoint of the same seed."""
    from avlib.checkpoint import load_checkpoint

    def toy_after(ctx):
        state = load_checkpoint(experiments.upstream(ctx, "toy-avc") / "checkpoints" / "last.pt")
        total = sum(float(v.double().sum()) for v in state["model"].values())
        return experiments.RunOutput({"weight_sum": total, "draw": float(torch.rand(()))})

    experiments.register("toy-after", paper="toy", config=lambda p: {}, after=("toy-avc",))(
        toy_after
    )
    yield
    experiments._REGISTRY.pop("toy-after")


def test_a_missing_upstream_run_is_run_first_and_a_finished_one_is_read(tmp_path, toy_after):
    kw = dict(runs_dir=tmp_path / "runs", progress=False)
    first = experiments.run("toy-after", "smoke", 0, "cpu", tmp_path / "res", **kw)
    upstream = tmp_path / "res" / "smoke" / "toy" / "toy-avc" / "seed0.json"
    assert upstream.is_file()  # run first, its results saved as its own
    stamp = upstream.stat().st_mtime_ns
    again = experiments.run("toy-after", "smoke", 0, "cpu", tmp_path / "res2", **kw)
    assert upstream.stat().st_mtime_ns == stamp  # finished with this config: not run again
    a, b = (json.loads(p.read_text())["metrics"] for p in (first, again))
    assert a == b  # the same numbers (RNG draws too) whether the upstream ran first or not
    done = tmp_path / "runs" / "smoke" / "toy" / "toy-avc" / "seed0" / "done.json"
    done.write_text(json.dumps({"config": "another", "data": None}))  # a stale run
    experiments.run("toy-after", "smoke", 0, "cpu", tmp_path / "res", **kw)
    assert upstream.stat().st_mtime_ns != stamp  # run again for the current config


def test_upstream_without_a_finished_run_says_how_to_make_one(tmp_path):
    ctx = experiments.RunContext("smoke", 3, "cpu", tmp_path / "x", runs_root=tmp_path)
    with pytest.raises(ConfigError, match="avlib train toy-avc --seed 3"):
        experiments.upstream(ctx, "toy-avc")
