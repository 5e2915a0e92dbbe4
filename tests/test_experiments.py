"""The experiment registry and `avlib train`."""

import subprocess
import sys

import pytest

from avlib import experiments
from avlib.errors import ConfigError
from avlib.results import load_result


def test_registry_finds_toy_avc_and_names_the_choices_for_unknown_ones():
    assert "toy-avc" in experiments.names()
    assert experiments.get("toy-avc").paper == "toy"
    with pytest.raises(ConfigError, match=r"unknown experiment 'nope'.*toy-avc"):
        experiments.get("nope")


def test_run_writes_metrics_flags_history_and_provenance(tmp_path):
    path = experiments.run(
        "toy-avc",
        "smoke",
        1,
        "cpu",
        tmp_path / "results",
        runs_dir=tmp_path / "runs",
        progress=False,
    )
    assert path == tmp_path / "results/smoke/toy/toy-avc/seed1.json"
    record = load_result(path)
    assert record["metrics"]["val_acc"] > 0.6 and record["flags"] == []
    assert len(record["history"]) == 4 and record["provenance"]["seed"] == 1
    assert (tmp_path / "runs/smoke/toy/toy-avc/seed1/checkpoints/last.pt").exists()


def test_cli_train_unknown_experiment_is_a_one_line_error():
    out = subprocess.run(
        [sys.executable, "-m", "avlib", "train", "nope", "--device", "cpu"],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 2 and "unknown experiment 'nope'" in out.stderr
    assert "Traceback" not in out.stderr


def test_console_script_lists_experiments():
    """`make venv` installs the `avlib` console script next to the interpreter."""
    from pathlib import Path

    script = Path(sys.executable).parent / "avlib"
    assert script.exists(), f"{script} missing: avlib is not pip-installed in this environment"
    out = subprocess.run([str(script), "train", "--list"], capture_output=True, text=True)
    assert out.returncode == 0 and "world-calibration" in out.stdout
    assert "l3-avc" in out.stdout and "toy-avc" in out.stdout


def _count_esc(ctx):
    from avlib.data.layouts import open_dataset

    index = open_dataset(ctx.dataset("esc50"))
    return experiments.RunOutput(metrics={"files": len(index.items)})


experiments.register("test-count-esc", paper="test", config=lambda p: {"v": 1})(_count_esc)


def test_a_data_root_run_writes_apart_from_world_results_and_records_its_data(tmp_path):
    from avlib.results import load_seeds, scope_dir
    from tests.trees import esc50

    real = esc50(tmp_path / "esc")
    results = tmp_path / "results"
    world = experiments.run("test-count-esc", "smoke", 0, "cpu", results, progress=False)
    ours = experiments.run(
        "test-count-esc", "smoke", 0, "cpu", results, data_root=real, progress=False
    )
    assert world == results / "smoke/test/test-count-esc/seed0.json"
    assert ours.is_relative_to(scope_dir(results, real)) and ours != world
    rec, world_rec = load_result(ours), load_result(world)
    assert rec["data"]["source"] == "data_root" and rec["data"]["root"] == str(real.resolve())
    assert world_rec["data"]["source"] == "world" and world_rec["data"]["digest"]
    assert rec["data"]["read"][0]["layout"] == "esc50"
    assert rec["config"] == {"v": 1} and rec["config_digest"]
    assert load_seeds("smoke", "test", "test-count-esc", results).values("files").tolist() == [
        world_rec["metrics"]["files"]
    ], "a table of world results never sees the real-data run"


def test_selection_carries_the_current_config_digest_of_every_experiment():
    sel = experiments.selection("smoke", [0, 1])
    assert sel.seeds == (0, 1)
    digest = experiments.digest_config(experiments.get("toy-avc").config("smoke"))
    assert sel.config_digests["toy/toy-avc"] == digest


@pytest.mark.slow
def test_sigkill_in_training_then_in_results_writing_then_a_run_with_identical_metrics(tmp_path):
    """`avlib train toy-avc` killed at step 20 (checkpoint at 16), resumed and killed while its
    results file is renamed into place (an older results file there stays whole), resumed again:
    the same metrics, history and logged steps as a run never interrupted."""
    import json
    import os
    import signal
    from pathlib import Path

    import torch

    root = Path(__file__).resolve().parent.parent
    out, runs = tmp_path / "results", tmp_path / "runs"
    args = ["train", "toy-avc", "--profile", "smoke", "--seed", "0", "--device", "cpu"]
    args += ["--no-progress", "--out", str(out), "--runs", str(runs)]
    # every training process under one thread count: another OpenMP split rounds differently
    env = {**os.environ, "PYTHONPATH": str(root), "OMP_NUM_THREADS": "1"}
    ref_args = [*args[:-4], "--out", str(tmp_path / "ref"), "--runs", str(tmp_path / "ref-runs")]
    proc = subprocess.run(
        [sys.executable, "-m", "avlib", *ref_args], env=env, capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    reference = json.loads((tmp_path / "ref/smoke/toy/toy-avc/seed0.json").read_text())

    def killed_at(point, *extra):
        cmd = [sys.executable, str(root / "tests" / "killpoints.py"), point, "--", *args, *extra]
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
        assert proc.returncode == -signal.SIGKILL, proc.stderr[-2000:]

    ckpt = runs / "smoke/toy/toy-avc/seed0/checkpoints/last.pt"
    result = out / "smoke/toy/toy-avc/seed0.json"
    killed_at("step:20")
    assert torch.load(ckpt, weights_only=True)["progress"]["step"] == 16
    assert not result.exists()

    older = {**reference, "metrics": {"val_acc": 0.123}}  # a results file of an earlier run
    result.parent.mkdir(parents=True)
    result.write_text(json.dumps(older))
    killed_at("replace:seed0.json", "--resume")
    assert torch.load(ckpt, weights_only=True)["progress"]["step"] == 64  # training finished
    assert json.loads(result.read_text()) == older  # the interrupted write destroyed nothing
    assert list(result.parent.glob(".seed0.*.json")), "the kill did not interrupt the write"

    proc = subprocess.run(
        [sys.executable, "-m", "avlib", *args, "--resume"], env=env, capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    resumed = json.loads(result.read_text())
    assert resumed["metrics"] == reference["metrics"]
    assert resumed["history"] == reference["history"] and resumed["steps"] == reference["steps"]
    assert resumed["resumed_from_step"] == 64


def test_reuse_reads_results_of_the_current_config_instead_of_running(tmp_path, monkeypatch):
    """torchrun-trained results are picked up by a notebook run with AVBOOK_REUSE_RESULTS=1;
    without it, or for a seed with no file, the experiment runs."""
    from avlib import report

    path = experiments.run(
        "toy-avc", "smoke", 0, "cpu", tmp_path, runs_dir=tmp_path / "r", progress=False
    )
    stamp = path.stat().st_mtime_ns
    monkeypatch.setenv("AVBOOK_REUSE_RESULTS", "1")
    runs = report.run_experiments(["toy-avc"], "smoke", [0, 1], "cpu", tmp_path)
    assert runs["flags"][0].startswith("reused seed0.json") and runs["seconds"][0] == 0.0
    assert not runs["flags"][1].startswith("reused") and (path.parent / "seed1.json").exists()
    assert path.stat().st_mtime_ns == stamp
    monkeypatch.delenv("AVBOOK_REUSE_RESULTS")
    runs = report.run_experiments(["toy-avc"], "smoke", [0], "cpu", tmp_path)
    assert not runs["flags"][0].startswith("reused") and path.stat().st_mtime_ns != stamp
