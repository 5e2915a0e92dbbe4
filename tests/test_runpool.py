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
